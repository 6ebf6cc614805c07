import { afterAll, describe, expect, it } from "vitest";
import { LeaseLostError, LeaseStore } from "../src/index.ts";
import { manualClock, testFirebase, uniqueId } from "../src/testing/index.ts";

const firebase = testFirebase();
const db = firebase.firestore;
afterAll(() => firebase.close());

const bot = () => ({ tenantId: uniqueId("tenant"), botId: uniqueId("bot") });

describe("leases", () => {
  it("gives a free bot to one owner, and keeps others out until it expires", async () => {
    const clock = manualClock();
    const store = new LeaseStore(db, { ttlMs: 30_000, now: clock.now });
    const target = bot();
    const first = await store.acquire(target, "runner-a");
    expect(first).toMatchObject({ owner: "runner-a", generation: 1 });
    expect(await store.acquire(target, "runner-b")).toBeUndefined();
    expect(await store.acquire(target, "runner-a")).toMatchObject({ generation: 1 });

    clock.advance(30_001);
    const second = await store.acquire(target, "runner-b");
    expect(second).toMatchObject({ owner: "runner-b", generation: 2 });
    if (!first) throw new Error("unreachable");
    await expect(store.renew(first)).rejects.toBeInstanceOf(LeaseLostError);
  });

  it("fences writes: a deposed owner's transaction fails, the current owner's goes through", async () => {
    const clock = manualClock();
    const store = new LeaseStore(db, { ttlMs: 1_000, now: clock.now });
    const target = bot();
    const old = await store.acquire(target, "runner-a");
    clock.advance(1_001);
    const current = await store.acquire(target, "runner-b");
    if (!old || !current) throw new Error("both acquisitions should succeed");
    const doc = db.doc(`tenants/${target.tenantId}/bots/${target.botId}/auth/probe`);
    await expect(
      db.runTransaction(async (tx) => {
        await store.assertHeld(tx, old);
        tx.set(doc, { by: "a" });
      }),
    ).rejects.toThrow(/generation is now 2|now owned by runner-b/);
    await db.runTransaction(async (tx) => {
      await store.assertHeld(tx, current);
      tx.set(doc, { by: "b" });
    });
    expect((await doc.get()).get("by")).toBe("b");
  });

  it("renews before expiry, and never reuses a generation after a release", async () => {
    const clock = manualClock();
    const store = new LeaseStore(db, { ttlMs: 10_000, now: clock.now });
    const target = bot();
    const lease = await store.acquire(target, "runner-a");
    if (!lease) throw new Error("acquire failed");
    clock.advance(9_000);
    const renewed = await store.renew(lease);
    expect(renewed.expiresAt.getTime()).toBe(clock.now() + 10_000);
    clock.advance(5_000);
    expect(await store.acquire(target, "runner-b")).toBeUndefined();

    await store.release(renewed);
    const next = await store.acquire(target, "runner-b");
    expect(next).toMatchObject({ owner: "runner-b", generation: 2 });
    await store.release(renewed); // a stale release changes nothing
    expect((await store.ref(target).get()).data()).toMatchObject({ owner: "runner-b", generation: 2 });
  });

  it("lets exactly one of many concurrent claimants win", async () => {
    const store = new LeaseStore(db, { ttlMs: 30_000 });
    const target = bot();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.acquire(target, `runner-${i}`)));
    const winners = results.filter((r) => r !== undefined);
    expect(winners).toHaveLength(1);
    expect((await store.ref(target).get()).data()).toMatchObject({ owner: winners[0]?.owner, generation: 1 });
  });
});
