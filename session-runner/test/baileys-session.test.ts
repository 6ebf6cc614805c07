import { botPath, leaseFence } from "@whatsdex/core";
import { waitFor } from "@whatsdex/core/testing";
import { LocalWhatsApp, type SimulatedPhone } from "@whatsdex/local-whatsapp";
import type { WAMessage } from "baileys";
import { Timestamp } from "firebase-admin/firestore";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FirestoreAuthState } from "../src/bot/auth-state/firestore-auth-state.ts";
import { BotSession, type LinkMethod } from "../src/bot/session/bot-session.ts";
import { StatusWriter } from "../src/bot/session/status-writer.ts";
import { baileysTransport } from "../src/transport/baileys/baileys-transport.ts";
import { trustLocalWhatsApp } from "../src/transport/baileys/local-whatsapp.ts";
import { isLinked } from "../src/transport/linked-credentials.ts";
import type { TransportSocket } from "../src/transport/transport.ts";
import { authStateFixture } from "./support/auth-state-fixture.ts";

/**
 * The production transport — Baileys 7's real socket over our Firestore auth state — against the
 * local WhatsApp server: linking, the 515 restart, resuming after a restart, Signal both ways,
 * logout from the phone and a second login (440), all on the wire.
 */
const logger = pino({ level: process.env.BAILEYS_LOG ?? "silent" });
let server: LocalWhatsApp;
const fixtures: Array<Awaited<ReturnType<typeof authStateFixture>>> = [];
const sessions: BotSession[] = [];
let nextNumber = 6281500000000;

beforeAll(async () => {
  server = await LocalWhatsApp.start({ logger: pino({ level: process.env.LOCAL_WHATSAPP_LOG ?? "silent" }) });
  trustLocalWhatsApp({ url: server.url, rootKey: server.rootPublicKey }, "test");
});
afterAll(async () => {
  for (const session of sessions) await session.stop();
  await server.close();
  for (const f of fixtures) await f.firebase.close();
});

const transport = () => baileysTransport({ waWebSocketUrl: server.url, connectTimeoutMs: 10_000 });

async function setup() {
  const fixture = await authStateFixture();
  fixtures.push(fixture);
  const { db, bot } = fixture;
  const botRef = db.doc(botPath(bot.tenantId, bot.botId));
  await botRef.set({
    name: "b",
    desiredState: "running",
    status: { state: "stopped", reason: null, updatedAt: Timestamp.now() },
  });
  const lease = await fixture.lease();
  const owner = await server.createPhone(String(nextNumber++), "Owner");
  const botDoc = async () => (await botRef.get()).data();
  const linking = async () => (await botRef.collection("linking").doc("current").get()).data();
  const state = (expected: string) =>
    waitFor(`bot state ${expected}`, async () => ((await botDoc())?.status?.state === expected ? true : undefined));
  return { fixture, lease, owner, botDoc, linking, state };
}

type Setup = Awaited<ReturnType<typeof setup>>;

/** A runner's session for the bot, over auth state loaded from Firestore, recording what it receives. */
function session(t: Setup, auth: FirestoreAuthState, link: LinkMethod = { method: "qr" }) {
  const received: WAMessage[] = [];
  const sockets: TransportSocket[] = [];
  const s = new BotSession({
    transport: transport(),
    auth,
    status: new StatusWriter(t.fixture.db, t.fixture.bot, leaseFence(t.fixture.leases, t.lease)),
    logger,
    link,
    backoff: { initialMs: 50, maxMs: 500, stableMs: 5_000, loopCloses: 5, loopWindowMs: 30_000 },
    connect: { getMessage: async () => undefined, cachedGroupMetadata: async () => undefined },
  });
  s.onSocket((socket) => {
    sockets.push(socket);
    socket.on("messages.upsert", ({ messages }) => received.push(...messages));
  });
  sessions.push(s);
  return { s, received, sockets };
}

/** The phone scans the QR code the bot published; the bot opens after the 515 restart. */
async function linkByQr(t: Setup, s: BotSession): Promise<string> {
  s.start();
  const code = await waitFor("a published QR code", async () => (await t.linking())?.qr?.code as string | undefined);
  const jid = await server.scanQr(t.owner, code);
  await t.state("open");
  return jid;
}

/** A phone's message reaches the bot, decrypted. */
async function botReceives(received: WAMessage[], phone: SimulatedPhone, to: SimulatedPhone, text: string) {
  const id = await phone.sendText(to.account, text);
  const message = await waitFor(`the bot to receive "${text}"`, async () => received.find((m) => m.key.id === id));
  return message;
}

describe("the real Baileys socket against the local WhatsApp server", () => {
  it("links by QR, saves the credentials in Firestore, opens after the 515 restart and talks Signal both ways", async () => {
    const t = await setup();
    const auth = await t.fixture.open(t.lease);
    const { s, received } = session(t, auth);
    const jid = await linkByQr(t, s);
    expect((await t.linking())?.qr).toBeNull();
    expect((await t.botDoc())?.phoneNumber).toBe(t.owner.account.pn);
    const reloaded = await t.fixture.open(t.lease);
    // Linked by QR: the account's signed identity is there; Baileys leaves `registered` false.
    expect(reloaded.state.creds).toMatchObject({ registered: false, me: { id: jid } });
    expect(isLinked(reloaded.state.creds)).toBe(true);

    const alice = await server.createPhone(String(nextNumber++), "Alice");
    const hello = await botReceives(received, alice, t.owner, "hello bot");
    expect(hello.message?.conversation).toBe("hello bot");
    expect(hello.key.remoteJid).toBe(alice.account.lidJid);
    const sent = await s.socket?.sendMessage(hello.key.remoteJid ?? "", { text: "hello alice" });
    const got = await alice.waitFor(() => alice.inbox.find((entry) => entry.id === sent?.key.id));
    expect(got.message.extendedTextMessage?.text ?? got.message.conversation).toBe("hello alice");
    expect(alice.failures).toEqual([]);
    await s.stop();
  });

  it("resumes after the runner restarts, without relinking, and the Signal sessions keep decrypting", async () => {
    const t = await setup();
    const first = session(t, await t.fixture.open(t.lease));
    await linkByQr(t, first.s);
    const alice = await server.createPhone(String(nextNumber++), "Alice");
    await botReceives(first.received, alice, t.owner, "before the restart");
    await first.s.stop();

    // A new process: only Firestore and the key. No QR code this time.
    const second = session(t, await t.fixture.open(t.lease));
    second.s.start();
    await t.state("open");
    expect((await t.linking())?.qr ?? null).toBeNull();
    const after = await botReceives(second.received, alice, t.owner, "after the restart");
    expect(after.message?.conversation).toBe("after the restart");
    const sent = await second.s.socket?.sendMessage(after.key.remoteJid ?? "", { text: "still here" });
    await alice.waitFor(() => alice.inbox.find((entry) => entry.id === sent?.key.id));
    expect(alice.failures).toEqual([]);
    await second.s.stop();
  });

  it("reconnects when WhatsApp restarts the stream (515) or the network drops it, each time on a new socket, without a QR", async () => {
    const t = await setup();
    const { s, sockets, received } = session(t, await t.fixture.open(t.lease));
    const jid = await linkByQr(t, s);
    const alice = await server.createPhone(String(nextNumber++), "Alice");
    for (const disrupt of [() => server.restartStream(jid), () => server.dropConnection(jid)]) {
      const before = sockets.length;
      expect(disrupt()).toBe(true);
      await waitFor("a new socket, open", async () =>
        sockets.length > before && s.state === "open" && server.isConnected(jid) ? true : undefined,
      );
      await botReceives(received, alice, t.owner, `after socket ${sockets.length}`);
    }
    expect((await t.linking())?.qr ?? null).toBeNull();
    expect(server.replacedLogins).not.toContain(jid);
    await s.stop();
  });

  it("links by pairing code", async () => {
    const t = await setup();
    const { s } = session(t, await t.fixture.open(t.lease), {
      method: "pairing_code",
      phoneNumber: t.owner.account.pn,
    });
    s.start();
    await t.state("pairing");
    const code = await waitFor(
      "a published pairing code",
      async () => (await t.linking())?.pairingCode?.code as string | undefined,
    );
    expect(code).toMatch(/^[1-9A-HJ-NP-TV-Z]{8}$/);
    await server.enterPairingCode(t.owner, code);
    await t.state("open");
    await s.stop();
  });

  it("refuses a wrong pairing code: nothing is linked", async () => {
    const t = await setup();
    const { s } = session(t, await t.fixture.open(t.lease), {
      method: "pairing_code",
      phoneNumber: t.owner.account.pn,
    });
    s.start();
    await t.state("pairing");
    await expect(server.enterPairingCode(t.owner, "AAAAAAAA")).rejects.toThrow(/does not match/);
    expect(server.companions(t.owner)).toEqual([]);
    await s.stop();
  });

  it("on logout from the phone: the bot is told 401, clears its credentials and stops wanting to run", async () => {
    const t = await setup();
    const { s } = session(t, await t.fixture.open(t.lease));
    const jid = await linkByQr(t, s);
    server.logOut(jid);
    await t.state("logged_out");
    expect((await t.botDoc())?.desiredState).toBe("stopped");
    expect((await t.fixture.db.collection(t.fixture.collectionPath).get()).size).toBe(0);
    expect(server.isConnected(jid)).toBe(false);
  });

  it("the dashboard's logout tells WhatsApp: the phone no longer lists the device, and the credentials are gone", async () => {
    const t = await setup();
    const { s } = session(t, await t.fixture.open(t.lease));
    const jid = await linkByQr(t, s);
    expect(server.companions(t.owner)).toEqual([jid]);
    await s.logout();
    expect(server.companions(t.owner)).toEqual([]);
    expect((await t.botDoc())?.status?.state).toBe("logged_out");
    expect((await t.fixture.db.collection(t.fixture.collectionPath).get()).size).toBe(0);
  });

  it("logging out a bot that is still connecting waits for it to open and tells WhatsApp (a QR-linked session is linked though Baileys leaves `registered` false)", async () => {
    const t = await setup();
    const first = session(t, await t.fixture.open(t.lease));
    const jid = await linkByQr(t, first.s);
    await first.s.stop();
    const again = session(t, await t.fixture.open(t.lease));
    again.s.start();
    // Straight away: the new socket is still connecting.
    await again.s.logout();
    expect(server.companions(t.owner)).not.toContain(jid);
    expect((await t.botDoc())?.status?.state).toBe("logged_out");
  });

  it("a second login of the same companion replaces the first (440), which never reconnects", async () => {
    const t = await setup();
    const first = session(t, await t.fixture.open(t.lease));
    const jid = await linkByQr(t, first.s);
    const connects = first.sockets.length;
    // Another process with the same credentials logs in.
    const other = transport().connect({
      auth: (await t.fixture.open(t.lease)).state,
      logger,
      getMessage: async () => undefined,
      cachedGroupMetadata: async () => undefined,
    });
    await t.state("replaced");
    await waitFor("the other login to be the one connected", async () => (server.isConnected(jid) ? true : undefined));
    expect(first.s.state).toBe("replaced");
    expect(server.replacedLogins).toContain(jid);
    expect(first.sockets.length).toBe(connects);
    other.end();
  });
});
