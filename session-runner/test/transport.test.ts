import { once } from "node:events";
import { createServer, type Server } from "node:net";
import { waitFor } from "@whatsdex/core/testing";
import { LocalWhatsApp } from "@whatsdex/local-whatsapp";
import { DisconnectReason, type GroupMetadata } from "baileys";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { baileysTransport } from "../src/transport/baileys/baileys-transport.ts";
import { trustLocalWhatsApp } from "../src/transport/baileys/local-whatsapp.ts";
import { classifyDisconnect, statusCodeOf } from "../src/transport/disconnect.ts";
import { isLinked } from "../src/transport/linked-credentials.ts";
import { type SimulatedSocket, SimulatedWhatsApp } from "../src/transport/simulator/simulator.ts";
import type { ConnectOptions, Transport, TransportEvents, TransportSocket } from "../src/transport/transport.ts";
import { authStateFixture } from "./support/auth-state-fixture.ts";

const logger = pino({ level: "silent" });
const fixtures: Array<Awaited<ReturnType<typeof authStateFixture>>> = [];
afterAll(async () => {
  for (const f of fixtures) await f.firebase.close();
});

/** Connect options over a real (Firestore) auth state, as the runner would build them. */
async function connectOptions(): Promise<ConnectOptions> {
  const fixture = await authStateFixture();
  fixtures.push(fixture);
  const auth = await fixture.open(await fixture.lease());
  return { auth: auth.state, logger, getMessage: async () => undefined, cachedGroupMetadata: async () => undefined };
}

/** Every connection.update a socket emits, and a way to wait for one. */
function record(socket: TransportSocket) {
  const updates: Array<TransportEvents["connection.update"]> = [];
  const waiters: Array<() => void> = [];
  socket.on("connection.update", (update) => {
    updates.push(update);
    for (const wake of waiters.splice(0)) wake();
  });
  async function until(predicate: (u: TransportEvents["connection.update"]) => boolean) {
    for (;;) {
      const found = updates.find(predicate);
      if (found) return found;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  }
  return { updates, until };
}

/** A TCP port that refuses WhatsApp's handshake by hanging up: WhatsApp ending the connection. */
async function hangingUpServer(): Promise<{ url: string; server: Server }> {
  const server = createServer((socket) => socket.destroy());
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no address");
  return { url: `ws://127.0.0.1:${address.port}/ws/chat`, server };
}

describe.each([
  {
    name: "simulator",
    make: async () => ({ transport: new SimulatedWhatsApp().transport(), close: async () => undefined }),
  },
  {
    name: "baileys (local server that hangs up)",
    make: async () => {
      const { url, server } = await hangingUpServer();
      const transport: Transport = baileysTransport({ waWebSocketUrl: url, connectTimeoutMs: 5_000 });
      return { transport, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
    },
  },
])("transport conformance: $name", ({ make, name }) => {
  it("announces connecting, closes with a classifiable error, and refuses sends when not open", async () => {
    const { transport, close } = await make();
    const socket = transport.connect(await connectOptions());
    const events = record(socket);
    await events.until((u) => u.connection === "connecting");
    if (name === "simulator") socket.end();
    const closed = await events.until((u) => u.connection === "close");
    expect(closed.lastDisconnect?.error).toBeInstanceOf(Error);
    expect(classifyDisconnect(closed.lastDisconnect?.error)).toBe("transient");
    await expect(socket.sendMessage("6281234567890@s.whatsapp.net", { text: "x" })).rejects.toThrow();
    socket.end();
    await close();
  });
});

/** What a linked-transport test needs of each WhatsApp: a phone to link with, a person to talk to, WhatsApp's side of a logout. */
interface LinkedWorld {
  transport: Transport;
  /** The bot's owner scans this QR code. */
  link(qr: string): Promise<void>;
  /** A person writes to the bot; the message's id. */
  sendToBot(text: string): Promise<string>;
  /** The text of the bot's message `id` as the person received it. */
  received(id: string): Promise<string>;
  /** The phone logs the bot out (WhatsApp's side). */
  logOut(): void;
  close(): Promise<void>;
}

const OWNER = "6281234567890";
const PERSON = "6289999999999";

describe.each([
  {
    name: "simulator",
    async make(): Promise<LinkedWorld> {
      const whatsapp = new SimulatedWhatsApp();
      const open = () => whatsapp.liveSockets.find((s) => s.state === "open") as SimulatedSocket;
      return {
        transport: whatsapp.transport(),
        link: async (qr) => whatsapp.liveSockets.find((s) => s.qr === qr)?.link(OWNER),
        sendToBot: async (text) => {
          const id = `IN${Date.now()}`;
          open().deliver({
            key: { remoteJid: "123456789012345@lid", remoteJidAlt: `${PERSON}@s.whatsapp.net`, fromMe: false, id },
            message: { conversation: text },
          });
          return id;
        },
        received: async (id) => {
          const sent = open().sent.find((m) => m.message.key.id === id)?.message.message;
          return sent?.extendedTextMessage?.text ?? sent?.conversation ?? "";
        },
        logOut: () => open().drop(DisconnectReason.loggedOut),
        close: async () => undefined,
      };
    },
  },
  {
    name: "baileys on the local WhatsApp server",
    async make(): Promise<LinkedWorld> {
      const server = await LocalWhatsApp.start();
      trustLocalWhatsApp({ url: server.url, rootKey: server.rootPublicKey }, "test");
      const owner = await server.createPhone(OWNER, "Owner");
      const person = await server.createPhone(PERSON, "Person");
      return {
        transport: baileysTransport({ waWebSocketUrl: server.url, connectTimeoutMs: 10_000 }),
        link: async (qr) => void (await server.scanQr(owner, qr)),
        sendToBot: (text) => person.sendText(owner.account, text),
        received: async (id) => {
          const entry = await person.waitFor(() => person.inbox.find((e) => e.id === id));
          return entry.message.extendedTextMessage?.text ?? entry.message.conversation ?? "";
        },
        logOut: () => {
          for (const jid of server.companions(owner)) server.logOut(jid);
        },
        close: () => server.close(),
      };
    },
  },
])("transport conformance, linked: $name", ({ make }) => {
  it("links by QR (qr, a 515 restart, open on a new socket without a QR), carries text both ways, and closes as logged out when the phone unlinks", async () => {
    const world = await make();
    const options = await connectOptions();
    const first = world.transport.connect(options);
    first.on("creds.update", (update) => Object.assign(options.auth.creds, update));
    const linking = record(first);
    const { qr } = await linking.until((u) => typeof u.qr === "string");
    await world.link(qr ?? "");
    const restart = await linking.until((u) => u.connection === "close");
    expect(classifyDisconnect(restart.lastDisconnect?.error)).toBe("restart");
    expect(isLinked(options.auth.creds)).toBe(true);

    const socket = world.transport.connect(options);
    socket.on("creds.update", (update) => Object.assign(options.auth.creds, update));
    const events = record(socket);
    const received: Array<TransportEvents["messages.upsert"]> = [];
    socket.on("messages.upsert", (upsert) => received.push(upsert));
    await events.until((u) => u.connection === "open");
    expect(events.updates.some((u) => u.qr)).toBe(false);

    const id = await world.sendToBot(".ping");
    const message = await waitFor("the message at the bot", async () =>
      received.flatMap((u) => u.messages).find((m) => m.key.id === id),
    );
    expect(message.message?.conversation).toBe(".ping");
    expect(message.key.remoteJidAlt).toBe(`${PERSON}@s.whatsapp.net`);
    const sent = await socket.sendMessage(
      message.key.remoteJid ?? "",
      { text: "pong" },
      { messageId: "3EB0RESERVEDID0001" },
    );
    expect(sent?.key.id).toBe("3EB0RESERVEDID0001");
    expect(await world.received("3EB0RESERVEDID0001")).toBe("pong");

    world.logOut();
    const closed = await events.until((u) => u.connection === "close");
    expect(classifyDisconnect(closed.lastDisconnect?.error)).toBe("logged_out");
    socket.end();
    await world.close();
  });
});

describe("simulator", () => {
  async function unlinked() {
    const whatsapp = new SimulatedWhatsApp();
    const options = await connectOptions();
    const socket = whatsapp.transport().connect(options);
    const events = record(socket);
    const simulated = whatsapp.liveSockets[0] as SimulatedSocket;
    await events.until((u) => u.qr !== undefined);
    return { whatsapp, options, socket, simulated, events };
  }

  it("links by QR like WhatsApp: qr, creds, a 515 restart, then open on a new socket", async () => {
    const { whatsapp, options, simulated, events } = await unlinked();
    const credsUpdates: Array<TransportEvents["creds.update"]> = [];
    simulated.on("creds.update", (update) => {
      credsUpdates.push(update);
      Object.assign(options.auth.creds, update);
    });
    simulated.link("6281234567890");
    const closed = await events.until((u) => u.connection === "close");
    expect(classifyDisconnect(closed.lastDisconnect?.error)).toBe("restart");
    expect(credsUpdates[0]).toMatchObject({ me: { id: "6281234567890:1@s.whatsapp.net" } });
    expect(credsUpdates[0]?.account).toBeDefined();

    const again = record(whatsapp.transport().connect(options));
    await again.until((u) => u.connection === "open");
    expect(again.updates.some((u) => u.qr)).toBe(false);
  });

  it("hands out a pairing code only after the first QR, 8 Crockford characters", async () => {
    const whatsapp = new SimulatedWhatsApp();
    const socket = whatsapp.transport().connect(await connectOptions());
    const events = record(socket);
    const early = await socket.requestPairingCode("6281234567890").catch((error: unknown) => error);
    expect(statusCodeOf(early)).toBe(DisconnectReason.connectionClosed);
    await events.until((u) => u.qr !== undefined);
    const code = await socket.requestPairingCode("6281234567890");
    expect(code).toMatch(/^[1-9A-HJ-NP-TV-Z]{8}$/);
    (whatsapp.liveSockets[0] as SimulatedSocket).enterPairingCode(code);
    expect(classifyDisconnect((await events.until((u) => u.connection === "close")).lastDisconnect?.error)).toBe(
      "restart",
    );
  });

  it("delivers real WAProto messages and records sends with the reserved message id", async () => {
    const { whatsapp, options, simulated } = await unlinked();
    simulated.on("creds.update", (update) => Object.assign(options.auth.creds, update));
    simulated.link("6281234567890");
    const socket = whatsapp.transport().connect(options);
    await record(socket).until((u) => u.connection === "open");
    const open = whatsapp.liveSockets[0] as SimulatedSocket;

    const received: Array<TransportEvents["messages.upsert"]> = [];
    socket.on("messages.upsert", (upsert) => received.push(upsert));
    open.deliver({
      key: { remoteJid: "123456789012345@lid", remoteJidAlt: "6289999999999@s.whatsapp.net", fromMe: false, id: "ABC" },
      message: { conversation: ".ping" },
      pushName: "Ayu",
      messageTimestamp: 1_700_000_000,
    });
    expect(received[0]?.type).toBe("notify");
    expect(received[0]?.messages[0]?.message?.conversation).toBe(".ping");
    expect(received[0]?.messages[0]?.key.remoteJidAlt).toBe("6289999999999@s.whatsapp.net");

    const sent = await socket.sendMessage("123456789012345@lid", { text: "pong" }, { messageId: "3EB0RESERVED" });
    expect(sent?.key.id).toBe("3EB0RESERVED");
    expect(
      open.sent[0]?.message.message?.extendedTextMessage?.text ?? open.sent[0]?.message.message?.conversation,
    ).toBe("pong");
  });

  it("closes with WhatsApp's codes on demand, and emits nothing after a close", async () => {
    const cases: Array<[number, string]> = [
      [DisconnectReason.loggedOut, "logged_out"],
      [DisconnectReason.multideviceMismatch, "logged_out"],
      [DisconnectReason.forbidden, "forbidden"],
      [DisconnectReason.connectionReplaced, "replaced"],
      [DisconnectReason.badSession, "bad_session"],
      [DisconnectReason.unavailableService, "transient"],
      [405, "outdated"],
    ];
    for (const [code, expected] of cases) {
      const { socket, simulated, events } = await unlinked();
      const after: unknown[] = [];
      socket.on("creds.update", (update) => after.push(update));
      simulated.drop(code);
      expect(classifyDisconnect((await events.until((u) => u.connection === "close")).lastDisconnect?.error)).toBe(
        expected,
      );
      expect(() => simulated.link("6281234567890")).toThrow(/state closed/);
      expect(after).toEqual([]);
    }
  });

  it("a group send asks the runner's cache first and queries WhatsApp only on a miss, as Baileys does", async () => {
    const { whatsapp, options, simulated, events } = await unlinked();
    simulated.on("creds.update", (update) => Object.assign(options.auth.creds, update));
    simulated.link("6281234567890");
    await events.until((u) => u.connection === "close");
    const group: GroupMetadata = { id: "120363000000000000@g.us", subject: "Team", participants: [], owner: undefined };
    whatsapp.addGroup(group);
    const uncached = whatsapp.transport().connect(options);
    await record(uncached).until((u) => u.connection === "open");
    await uncached.sendMessage(group.id, { text: "one" });
    expect(whatsapp.groupMetadataQueries).toBe(1);
    expect((await uncached.groupMetadata(group.id)).subject).toBe("Team");
    expect(whatsapp.groupMetadataQueries).toBe(2);
    await expect(uncached.groupMetadata("1@g.us")).rejects.toThrow(/item-not-found/);
    uncached.end();

    const cached = whatsapp.transport().connect({ ...options, cachedGroupMetadata: async () => group });
    await record(cached).until((u) => u.connection === "open");
    await cached.sendMessage(group.id, { text: "two" });
    // Unchanged: the failed lookup above was the third query; the cached send made none.
    expect(whatsapp.groupMetadataQueries).toBe(3);
  });
});
