import { Timestamp } from "firebase-admin/firestore";
import { afterAll, describe, expect, it } from "vitest";
import {
  ConflictError,
  LeaseStore,
  leaseFence,
  type OutboxItem,
  OutboxService,
  outboxItemPath,
  pendingOutboxItem,
} from "../src/index.ts";
import { manualClock, testFirebase, uniqueId } from "../src/testing/index.ts";

const firebase = testFirebase();
const db = firebase.firestore;
afterAll(() => firebase.close());

async function setup() {
  const clock = manualClock();
  const bot = { tenantId: uniqueId("tenant"), botId: uniqueId("bot") };
  const leases = new LeaseStore(db, { ttlMs: 30_000, now: clock.now });
  let ids = 0;
  const outbox = new OutboxService(db, { newMessageId: () => `3EB0TEST${++ids}`, deadlineMs: 20_000, now: clock.now });
  const owner = async (name: string) => {
    const lease = await leases.acquire(bot, name);
    if (!lease) throw new Error(`${name} could not take the lease`);
    return { lease, fence: leaseFence(leases, lease) };
  };
  const enqueue = async (kind: "send" | "connect") => {
    const itemId = uniqueId("item");
    const common = pendingOutboxItem("user:test", Timestamp.now());
    const item: OutboxItem =
      kind === "send"
        ? {
            ...common,
            kind,
            to: "6281234567890@s.whatsapp.net",
            content: { type: "text", text: "hi" },
            messageId: null,
            sentAt: null,
            deliveredAt: null,
            readAt: null,
            campaign: null,
          }
        : { ...common, kind, method: "qr", phoneNumber: null };
    await db.doc(outboxItemPath(bot.tenantId, bot.botId, itemId)).set(item);
    return itemId;
  };
  const read = async (itemId: string) => (await db.doc(outboxItemPath(bot.tenantId, bot.botId, itemId)).get()).data();
  return { clock, bot, leases, outbox, owner, enqueue, read };
}

describe("outbox", () => {
  it("runs an item once: the claim reserves the message id, a duplicate delivery is skipped", async () => {
    const { outbox, owner, enqueue, read } = await setup();
    const { lease, fence } = await owner("runner-a");
    const itemId = await enqueue("send");
    const first = await outbox.claim(lease, fence, itemId);
    expect(first).toMatchObject({ kind: "run", item: { status: "processing", messageId: "3EB0TEST1", attempts: 1 } });
    expect(await outbox.claim(lease, fence, itemId)).toEqual({ kind: "skip", reason: "running" });

    await outbox.complete(lease, fence, itemId, { status: "done" });
    expect(await outbox.claim(lease, fence, itemId)).toEqual({ kind: "skip", reason: "finished" });
    expect(await read(itemId)).toMatchObject({ status: "done", messageId: "3EB0TEST1", attempts: 1, error: null });
  });

  it("never resends after a crash mid-send: the next owner records it as indeterminate", async () => {
    const { clock, outbox, owner, enqueue, read } = await setup();
    const a = await owner("runner-a");
    const itemId = await enqueue("send");
    await outbox.claim(a.lease, a.fence, itemId);
    // runner-a dies with the message possibly on the wire; its lease runs out.
    clock.advance(30_001);
    const b = await owner("runner-b");
    const result = await outbox.claim(b.lease, b.fence, itemId);
    expect(result).toMatchObject({
      kind: "indeterminate",
      item: { status: "indeterminate", error: { code: "owner_changed" } },
    });
    expect(await outbox.claim(b.lease, b.fence, itemId)).toEqual({ kind: "skip", reason: "finished" });
    // The deposed runner's late report is refused.
    await expect(outbox.complete(a.lease, a.fence, itemId, { status: "done" })).rejects.toThrow(
      /now owned by runner-b/,
    );
    expect(await read(itemId)).toMatchObject({ status: "indeterminate", messageId: "3EB0TEST1" });
  });

  it("re-runs an idempotent command that a crashed owner left half done", async () => {
    const { clock, outbox, owner, enqueue } = await setup();
    const a = await owner("runner-a");
    const itemId = await enqueue("connect");
    await outbox.claim(a.lease, a.fence, itemId);
    clock.advance(30_001);
    const b = await owner("runner-b");
    expect(await outbox.claim(b.lease, b.fence, itemId)).toMatchObject({ kind: "run", item: { attempts: 2 } });
  });

  it("records an explicit failure for a bot that is not connected", async () => {
    const { outbox, owner, enqueue, read } = await setup();
    const { lease, fence } = await owner("runner-a");
    const itemId = await enqueue("send");
    await outbox.claim(lease, fence, itemId);
    const error = { code: "not_connected", message: "The bot is not connected to WhatsApp." };
    await outbox.complete(lease, fence, itemId, { status: "failed", error });
    expect(await read(itemId)).toMatchObject({ status: "failed", error });
    await expect(outbox.complete(lease, fence, itemId, { status: "done" })).rejects.toBeInstanceOf(ConflictError);
  });

  it("turns a send past its deadline into indeterminate, and a command back to pending", async () => {
    const { clock, outbox, owner, enqueue, read } = await setup();
    const { lease, fence } = await owner("runner-a");
    const send = await enqueue("send");
    const connect = await enqueue("connect");
    await outbox.claim(lease, fence, send);
    await outbox.claim(lease, fence, connect);
    expect(await outbox.expireOverdue(lease, fence)).toBe(0);
    clock.advance(20_001);
    const renewed = await new LeaseStore(db, { ttlMs: 30_000, now: clock.now }).renew(lease);
    expect(await outbox.expireOverdue(renewed, fence)).toBe(2);
    expect(await read(send)).toMatchObject({ status: "indeterminate", error: { code: "deadline_exceeded" } });
    expect(await read(connect)).toMatchObject({ status: "pending", claim: null });
    await expect(outbox.complete(lease, fence, send, { status: "done" })).rejects.toBeInstanceOf(ConflictError);
  });
});
