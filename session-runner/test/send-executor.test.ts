import { leaseFence, OutboxService, outboxItemPath, pendingOutboxItem } from "@whatsdex/core";
import { uniqueId, waitFor } from "@whatsdex/core/testing";
import { generateMessageIDV2 } from "baileys";
import { Timestamp } from "firebase-admin/firestore";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { SendExecutor } from "../src/bot/outbox/send-executor.ts";
import { type SimulatedSocket, SimulatedWhatsApp } from "../src/transport/simulator/simulator.ts";
import { authStateFixture } from "./support/auth-state-fixture.ts";

const logger = pino({ level: "silent" });
const fixtures: Array<Awaited<ReturnType<typeof authStateFixture>>> = [];
afterAll(async () => {
  for (const f of fixtures) await f.firebase.close();
});

/** A linked bot with an open simulated connection, and an outbox to put messages in. */
async function connectedBot() {
  const fixture = await authStateFixture();
  fixtures.push(fixture);
  const lease = await fixture.lease();
  const auth = await fixture.open(lease);
  const whatsapp = new SimulatedWhatsApp();
  const options = {
    auth: auth.state,
    logger,
    getMessage: async () => undefined,
    cachedGroupMetadata: async () => undefined,
  };
  const first = whatsapp.transport().connect(options);
  first.on("creds.update", (update) => Object.assign(auth.state.creds, update));
  await waitFor("a QR code", async () =>
    (whatsapp.liveSockets[0] as SimulatedSocket).state === "qr" ? true : undefined,
  );
  (whatsapp.liveSockets[0] as SimulatedSocket).link("6281234567890");
  whatsapp.transport().connect(options);
  const socket = await waitFor("an open socket", async () => {
    const live = whatsapp.liveSockets[0] as SimulatedSocket | undefined;
    return live?.state === "open" ? live : undefined;
  });
  const outbox = new OutboxService(fixture.db, {
    newMessageId: () => generateMessageIDV2("6281234567890@s.whatsapp.net"),
    deadlineMs: 30_000,
  });
  const enqueue = async (text: string) => {
    const itemId = uniqueId("msg");
    await fixture.db.doc(outboxItemPath(fixture.bot.tenantId, fixture.bot.botId, itemId)).set({
      ...pendingOutboxItem("apiKey:test", Timestamp.now()),
      kind: "send",
      to: "6289999999999@s.whatsapp.net",
      content: { type: "text", text },
      messageId: null,
    });
    return itemId;
  };
  const item = async (itemId: string) =>
    (await fixture.db.doc(outboxItemPath(fixture.bot.tenantId, fixture.bot.botId, itemId)).get()).data();
  const executor = (session = { state: "open", socket: socket as SimulatedSocket | undefined }) =>
    new SendExecutor({
      outbox,
      lease,
      fence: leaseFence(fixture.leases, lease),
      session,
      logger,
      sendTimeoutMs: 5_000,
    });
  return { fixture, lease, socket, outbox, enqueue, item, executor };
}

describe("sending from the outbox", () => {
  it("sends exactly once with the reserved message id, even when the item is delivered twice", async () => {
    const bot = await connectedBot();
    const itemId = await bot.enqueue("Your order shipped");
    const executor = bot.executor();
    const outcomes = await Promise.all([executor.run(itemId), executor.run(itemId)]);
    expect(outcomes.sort()).toEqual(["sent", "skipped"]);
    expect(await executor.run(itemId)).toBe("skipped");
    expect(bot.socket.sent).toHaveLength(1);
    const stored = await bot.item(itemId);
    expect(stored).toMatchObject({ status: "done", attempts: 1 });
    expect(bot.socket.sent[0]?.message.key.id).toBe(stored?.messageId);
  });

  it("fails explicitly, sending nothing, when the bot is not connected", async () => {
    const bot = await connectedBot();
    const itemId = await bot.enqueue("hello");
    expect(await bot.executor({ state: "reconnecting", socket: undefined }).run(itemId)).toBe("failed");
    expect(await bot.item(itemId)).toMatchObject({ status: "failed", error: { code: "not_connected" } });

    const closing = await bot.enqueue("hello again");
    bot.socket.drop(503);
    expect(await bot.executor({ state: "open", socket: bot.socket }).run(closing)).toBe("failed");
    expect(bot.socket.sent).toHaveLength(0);
  });

  it("never sends twice after a crash mid-send: the next owner records it as indeterminate", async () => {
    const bot = await connectedBot();
    const itemId = await bot.enqueue("maybe sent");
    // The first owner claims the item and dies before reporting.
    await bot.outbox.claim(bot.lease, leaseFence(bot.fixture.leases, bot.lease), itemId);
    await bot.fixture.leases.release(bot.lease);
    const next = await bot.fixture.lease("runner-b");
    const executor = new SendExecutor({
      outbox: bot.outbox,
      lease: next,
      fence: leaseFence(bot.fixture.leases, next),
      session: { state: "open", socket: bot.socket },
      logger,
      sendTimeoutMs: 5_000,
    });
    expect(await executor.run(itemId)).toBe("indeterminate");
    expect(bot.socket.sent).toHaveLength(0);
    expect(await bot.item(itemId)).toMatchObject({ status: "indeterminate", error: { code: "owner_changed" } });
  });
});
