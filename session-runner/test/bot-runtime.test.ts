import { randomBytes } from "node:crypto";
import { authStateCollectionPath, createKeyring, LeaseStore, outboxItemPath, pendingOutboxItem } from "@whatsdex/core";
import { testFirebase, waitFor } from "@whatsdex/core/testing";
import { Timestamp } from "firebase-admin/firestore";
import { pino } from "pino";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { Supervisor } from "../src/runner/supervisor.ts";
import { statusCodeOf } from "../src/transport/disconnect.ts";
import { SimulatedWhatsApp } from "../src/transport/simulator/simulator.ts";
import { tenantWithBots, testSupervisor } from "./support/fleet.ts";

const firebase = testFirebase();
const db = firebase.firestore;
afterAll(() => firebase.close());
const logger = pino({ level: process.env.DEBUG_RUNTIME ? "debug" : "silent" });
const started: Supervisor[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) await s.stop();
});

interface Recorded {
  decryptFailures: number;
  pickups: Array<{ kind: string; lagSeconds: number }>;
}

function supervisor(
  tenantId: string,
  whatsapp: SimulatedWhatsApp,
  options: { sendMaxWaitMs?: number; ttlMs?: number } = {},
) {
  const recorded: Recorded = { decryptFailures: 0, pickups: [] };
  const s = testSupervisor(db, {
    whatsapp,
    tenantIds: [tenantId],
    logger,
    sendTimeoutMs: 2_000,
    sendMaxWaitMs: options.sendMaxWaitMs ?? 60_000,
    ...(options.ttlMs ? { ttlMs: options.ttlMs } : {}),
    events: {
      decryptFailure: () => {
        recorded.decryptFailures += 1;
      },
      outboxPickup: (kind, lagSeconds) => recorded.pickups.push({ kind, lagSeconds }),
    },
  });
  started.push(s);
  return { s, recorded };
}

/** One bot that wants to run, its supervisor, and ways to reach its socket and documents. */
async function runningBot(options: { sendMaxWaitMs?: number; ttlMs?: number } = {}) {
  const fleet = await tenantWithBots(db, 1);
  const botId = fleet.botIds[0] ?? "";
  const whatsapp = new SimulatedWhatsApp();
  const { s, recorded } = supervisor(fleet.tenantId, whatsapp, options);
  const name = `${fleet.tenantId}/${botId}`;
  const runtime = () => s.running.get(name)?.runtime;
  const socket = (state: string) =>
    waitFor(`a socket in state ${state}`, async () => {
      const current = runtime()?.session.socket;
      const live = whatsapp.liveSockets.find((candidate) => candidate === current);
      return live?.state === state ? live : undefined;
    });
  const botDoc = async () => (await db.doc(`tenants/${fleet.tenantId}/bots/${botId}`).get()).data();
  const item = async (id: string) => (await db.doc(outboxItemPath(fleet.tenantId, botId, id)).get()).data();
  const itemStatus = (id: string, status: string) =>
    waitFor(`outbox item ${id} to be ${status}`, async () =>
      (await item(id))?.status === status ? item(id) : undefined,
    );
  /**
   * The phone enters the code the dashboard shows (the linking document). On a loaded machine the
   * session may have started over meanwhile (a late lease renewal) with a newer code: read again.
   */
  const enterPublishedPairingCode = () =>
    waitFor("the published pairing code to link the bot", async () => {
      const code = (await db.doc(`tenants/${fleet.tenantId}/bots/${botId}/linking/current`).get()).get(
        "pairingCode.code",
      );
      const current = await socket("qr");
      if (typeof code !== "string") return undefined;
      try {
        current.enterPairingCode(code);
        return true;
      } catch {
        return undefined;
      }
    });
  const link = async () => {
    (await socket("qr")).link("6281234567890");
    return socket("open");
  };
  s.start();
  return {
    ...fleet,
    botId,
    whatsapp,
    s,
    recorded,
    name,
    runtime,
    socket,
    botDoc,
    item,
    itemStatus,
    link,
    enterPublishedPairingCode,
  };
}

const to = "6289999999999@s.whatsapp.net";
/** More than the outbox listener's window (50), so a later command is outside it. */
const WAITING = 55;

describe("a bot's outbox, consumed by its owner", () => {
  it("sends a queued message once, keeps it for retries, and waits while the bot is linking", async () => {
    const bot = await runningBot();
    await bot.socket("qr");
    // Queued before the bot is linked: it waits rather than failing.
    const early = await bot.bots.sendMessage(
      bot.access,
      bot.botId,
      { to, content: { type: "text", text: "hi" } },
      "k-1",
    );
    const open = await bot.link();
    const done = await bot.itemStatus(early.outboxId, "done");
    expect(open.sent).toHaveLength(1);
    const sent = open.sent[0];
    expect(sent?.message.key.id).toBe(done?.messageId);
    expect(sent?.message.message?.extendedTextMessage?.text ?? sent?.message.message?.conversation).toBe("hi");
    // Baileys' retry path asks for the original content by key.
    const kept = bot.runtime()?.recent.get(sent?.message.key ?? {});
    expect(kept?.extendedTextMessage?.text ?? kept?.conversation).toBe("hi");
    expect(bot.recorded.pickups.some((p) => p.kind === "send" && p.lagSeconds >= 0)).toBe(true);

    // The same request again (idempotency key) is the same item: nothing more is sent.
    const replay = await bot.bots.sendMessage(
      bot.access,
      bot.botId,
      { to, content: { type: "text", text: "hi" } },
      "k-1",
    );
    expect(replay.replayed).toBe(true);
    const next = await bot.bots.sendMessage(
      bot.access,
      bot.botId,
      { to, content: { type: "text", text: "two" } },
      undefined,
    );
    await bot.itemStatus(next.outboxId, "done");
    expect(open.sent).toHaveLength(2);
  });

  it("fails a message that waited longer than allowed for a connection", async () => {
    const bot = await runningBot({ sendMaxWaitMs: 1_000 });
    await bot.socket("qr");
    const queued = await bot.bots.sendMessage(
      bot.access,
      bot.botId,
      { to, content: { type: "text", text: "late" } },
      undefined,
    );
    const failed = await bot.itemStatus(queued.outboxId, "failed");
    expect(failed?.error).toMatchObject({ code: "not_connected" });
  });

  it("switches a linking bot to a pairing code when asked, and the code links it", async () => {
    const bot = await runningBot();
    const first = await bot.socket("qr");
    const command = await bot.bots.connect(bot.access, bot.botId, {
      method: "pairing_code",
      phoneNumber: "6281234567890",
    });
    await bot.itemStatus(command.outboxId, "done");
    await bot.enterPublishedPairingCode();
    expect(first.closed).toBe(true);
    await bot.socket("open");
    await waitFor("the bot document to say open", async () =>
      (await bot.botDoc())?.status.state === "open" ? true : undefined,
    );
  });

  // 55 sends run one after another (two transactions each): slow on a loaded machine, hence the timeout.
  it("finds a connect request behind a full window of waiting messages, and skips a malformed item", {
    timeout: 120_000,
  }, async () => {
    const bot = await runningBot();
    // What WhatsApp receives, across sockets: on a loaded machine the session may start over while
    // the queue drains (a late lease renewal), and the rest goes out on the next socket.
    const received = new Map<string, string | null | undefined>();
    bot.whatsapp.onSent((_socket, { message }) => {
      const text = message.message?.extendedTextMessage?.text ?? message.message?.conversation;
      if (!received.has(message.key.id ?? "")) received.set(message.key.id ?? "", text);
    });
    await bot.socket("qr");
    const outbox = db.collection(`tenants/${bot.tenantId}/bots/${bot.botId}/outbox`);
    const batch = db.batch();
    const old = Timestamp.fromMillis(Date.now() - 1_000);
    batch.set(outbox.doc("0-malformed"), { status: "pending", kind: "send", createdAt: old });
    for (let i = 0; i < WAITING; i++) {
      batch.set(outbox.doc(`wait-${String(i).padStart(2, "0")}`), {
        ...pendingOutboxItem("apiKey:test", old),
        kind: "send",
        to,
        content: { type: "text", text: `queued ${i}` },
        messageId: null,
      });
    }
    await batch.commit();
    const command = await bot.bots.connect(bot.access, bot.botId, {
      method: "pairing_code",
      phoneNumber: "6281234567890",
    });
    await bot.itemStatus(command.outboxId, "done");
    await bot.enterPublishedPairingCode();
    await bot.socket("open");
    // Linked: the waiting messages go out in order (a resend of one after a restart keeps its id, so
    // it is one message to WhatsApp and counted once here); the malformed one stays as it was.
    await waitFor("the waiting messages to go out", async () => (received.size >= WAITING ? true : undefined), {
      timeoutMs: 100_000,
    });
    expect([...received.values()]).toEqual(Array.from({ length: WAITING }, (_, i) => `queued ${i}`));
    expect((await outbox.doc("0-malformed").get()).get("status")).toBe("pending");
  });

  it("disconnects from the dashboard: socket ended, pending messages failed, lease released", async () => {
    const bot = await runningBot({ sendMaxWaitMs: 60_000 });
    const open = await bot.link();
    // Make one message wait: the bot drops, a message is queued, then the dashboard disconnects.
    open.drop(503);
    const stranded = await bot.bots.sendMessage(
      bot.access,
      bot.botId,
      { to, content: { type: "text", text: "x" } },
      undefined,
    );
    await bot.socket("open").catch(() => undefined);
    const command = await bot.bots.disconnect(bot.access, bot.botId);
    await bot.itemStatus(command.outboxId, "done");
    await waitFor("the bot to be released", async () => (bot.s.running.has(bot.name) ? undefined : true));
    expect(bot.whatsapp.liveSockets).toHaveLength(0);
    const message = await bot.item(stranded.outboxId);
    expect(["done", "failed"]).toContain(message?.status);
    if (message?.status === "failed") expect(message.error).toMatchObject({ code: "bot_stopped" });
    expect((await bot.botDoc())?.status.state).toBe("stopped");
    const lease = (await db.doc(`tenants/${bot.tenantId}/bots/${bot.botId}/lease/current`).get()).data();
    expect(lease?.owner).toBeNull();
  });

  it("logs out from the dashboard: WhatsApp told, credentials deleted, state logged_out", async () => {
    const bot = await runningBot();
    const open = await bot.link();
    const closes: number[] = [];
    open.on("connection.update", (u) => {
      if (u.connection === "close") closes.push(statusCodeOf(u.lastDisconnect?.error) ?? 0);
    });
    const command = await bot.bots.logout(bot.access, bot.botId);
    await bot.itemStatus(command.outboxId, "done");
    expect(closes).toEqual([401]);
    await waitFor("the bot to be released", async () => (bot.s.running.has(bot.name) ? undefined : true));
    const auth = await db.collection(authStateCollectionPath(bot.tenantId, bot.botId)).get();
    expect(auth.size).toBe(0);
    expect((await bot.botDoc())?.status).toMatchObject({
      state: "logged_out",
      reason: "logged out from the dashboard",
    });
  });

  it("settles a logout queued while no runner holds the bot", async () => {
    // A short lease: the crashed runner's must expire before another instance may settle the bot.
    const bot = await runningBot({ ttlMs: 3_000 });
    await bot.link();
    // The runner goes away (as a crash would, leases kept) …
    bot.s.abandon();
    const command = await bot.bots.logout(bot.access, bot.botId);
    // … and another instance, with no interest in running the bot, still carries the logout out —
    // even one that could not decrypt the session (a logout needs no keys).
    const other = testSupervisor(db, {
      whatsapp: new SimulatedWhatsApp(),
      tenantIds: [bot.tenantId],
      keyring: createKeyring(new Map([["other", randomBytes(32)]]), "other"),
    });
    started.push(other);
    other.start();
    await waitFor(
      "the orphaned logout to run",
      async () => ((await bot.item(command.outboxId))?.status === "done" ? true : undefined),
      {
        timeoutMs: 10_000,
      },
    );
    expect(other.running.size).toBe(0);
    const auth = await db.collection(authStateCollectionPath(bot.tenantId, bot.botId)).get();
    expect(auth.size).toBe(0);
    expect((await bot.botDoc())?.status.state).toBe("logged_out");
  });
});

describe("what a bot learns from its socket", () => {
  it("feeds identity from message addressing, counts decrypt failures, and tracks server liveness", async () => {
    const bot = await runningBot();
    const open = await bot.link();
    open.deliver({
      key: { remoteJid: "123456789012@lid", remoteJidAlt: "6281111111111@s.whatsapp.net", id: "M1", fromMe: false },
      message: { conversation: "hello" },
      pushName: "Ayu",
    });
    open.deliverUndecryptable({ remoteJid: "123456789013@lid", id: "M2", fromMe: false });
    const runtime = bot.runtime();
    expect(runtime?.people.resolve("6281111111111@s.whatsapp.net")).toMatchObject({
      lid: "123456789012@lid",
      pushName: "Ayu",
    });
    expect(bot.recorded.decryptFailures).toBe(1);
    expect(runtime?.msSinceServerFrame).toBeGreaterThanOrEqual(0);
    expect(bot.s.health()).toEqual([expect.objectContaining({ botId: bot.botId, state: "open" })]);
    await runtime?.flushPeople();
    const contacts = await db.collection(`tenants/${bot.tenantId}/bots/${bot.botId}/contacts`).get();
    expect(contacts.docs.map((doc) => doc.id)).toContain("lid:123456789012");
  });

  it("answers group sends from its metadata cache and keeps it current from group events", async () => {
    const bot = await runningBot();
    const group = "120363000000000001@g.us";
    bot.whatsapp.addGroup({
      id: group,
      subject: "Team",
      owner: undefined,
      participants: [
        { id: "200000000001@lid", phoneNumber: "6282000000001@s.whatsapp.net", admin: "superadmin" },
        { id: "200000000002@lid", admin: null },
      ],
    });
    const open = await bot.link();
    await Promise.all([open.sendMessage(group, { text: "a" }), open.sendMessage(group, { text: "b" })]);
    await open.sendMessage(group, { text: "c" });
    expect(bot.whatsapp.groupMetadataQueries).toBe(1);

    open.changeParticipants(group, [{ id: "200000000002@lid" }], "promote");
    open.changeParticipants(group, [{ id: "200000000003@lid", phoneNumber: "6282000000003@s.whatsapp.net" }], "add");
    const cached = bot.runtime()?.groups.cached(group);
    expect(cached?.participants.map((p) => [p.id, p.admin ?? null])).toEqual([
      ["200000000001@lid", "superadmin"],
      ["200000000002@lid", "admin"],
      ["200000000003@lid", null],
    ]);
    expect(bot.whatsapp.groupMetadataQueries).toBe(1);
    // Participants are people too: their LID↔PN pairs land in the identity store.
    expect(bot.runtime()?.people.resolve("6282000000003@s.whatsapp.net")?.lid).toBe("200000000003@lid");
    expect(bot.runtime()?.people.resolve("6282000000001@s.whatsapp.net")?.lid).toBe("200000000001@lid");
  });
});

describe("recovery", () => {
  it("re-runs a command a dead runner left processing, and records its unsent message as indeterminate", async () => {
    const fleet = await tenantWithBots(db, 1);
    const botId = fleet.botIds[0] ?? "";
    const ghost = await new LeaseStore(db, { ttlMs: 200 }).acquire({ tenantId: fleet.tenantId, botId }, "ghost");
    const outbox = db.collection(`tenants/${fleet.tenantId}/bots/${botId}/outbox`);
    const [connect] = (await outbox.where("kind", "==", "connect").get()).docs;
    await connect?.ref.update({
      status: "processing",
      claim: { owner: "ghost", generation: ghost?.generation, deadline: new Date() },
    });
    const sent = await fleet.bots.sendMessage(
      fleet.access,
      botId,
      { to, content: { type: "text", text: "?" } },
      undefined,
    );
    await outbox
      .doc(sent.outboxId)
      .update({ status: "processing", claim: { owner: "ghost", generation: ghost?.generation, deadline: new Date() } });

    const { s } = supervisor(fleet.tenantId, new SimulatedWhatsApp());
    s.start();
    await waitFor(
      "the leftovers to be settled",
      async () => {
        const [c, m] = await Promise.all([outbox.doc(connect?.id ?? "").get(), outbox.doc(sent.outboxId).get()]);
        return c.get("status") === "done" && m.get("status") === "indeterminate" ? true : undefined;
      },
      { timeoutMs: 10_000 },
    );
    expect((await outbox.doc(sent.outboxId).get()).get("error.code")).toBe("owner_changed");
  });
});
