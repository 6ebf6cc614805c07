import type { GroupMetadata, WAMessage } from "baileys";
import { LRUCache } from "lru-cache";
import { describe, expect, it } from "vitest";
import { GroupCache } from "../src/bot/group-cache.ts";
import { lazyMax } from "../src/bot/lazy-lru.ts";
import { lruCacheStore } from "../src/bot/session/cache-store.ts";
import { RecentMessages } from "../src/bot/session/recent-messages.ts";
import { Cooldowns, ExpiringMap, TokenBuckets } from "../src/commands/limits.ts";
import { RecentIds } from "../src/commands/recent-ids.ts";

const group = (participants: GroupMetadata["participants"]): GroupMetadata => ({
  id: "120363000000000009@g.us",
  subject: "Shop",
  owner: undefined,
  participants,
});

describe("group metadata cache", () => {
  it("asks WhatsApp once for concurrent misses, and again only after a failure", async () => {
    let calls = 0;
    let fail = true;
    const cache = new GroupCache({
      max: 10,
      ttlMs: 60_000,
      fetch: async () => {
        calls += 1;
        if (fail) throw new Error("rate-overlimit");
        return group([]);
      },
    });
    await expect(Promise.all([cache.get("g"), cache.get("g")])).rejects.toThrow("rate-overlimit");
    expect(calls).toBe(1);
    fail = false;
    const [a, b] = await Promise.all([cache.get("g"), cache.get("g")]);
    expect(a).toBe(b);
    await cache.get("g");
    expect(calls).toBe(2);
    expect(cache.queries).toBe(2);
  });

  it("applies participant and subject changes, and drops what it cannot apply", async () => {
    const cache = new GroupCache({ max: 10, ttlMs: 60_000, fetch: async () => group([]) });
    const id = "120363000000000009@g.us";
    cache.upsert([
      group([
        { id: "100000000001@lid", phoneNumber: "6281000000001@s.whatsapp.net", admin: "admin" },
        { id: "100000000002@lid", admin: null },
      ]),
    ]);
    // The same person named by phone number instead of LID is still matched.
    cache.participants({
      id,
      action: "demote",
      participants: [{ id: "6281000000001@s.whatsapp.net", phoneNumber: "6281000000001@s.whatsapp.net" }],
    });
    cache.participants({ id, action: "remove", participants: [{ id: "100000000002@lid" }] });
    cache.update([{ id, subject: "Shop (closed)" }]);
    expect(cache.cached(id)).toMatchObject({
      subject: "Shop (closed)",
      size: 1,
      participants: [{ id: "100000000001@lid", admin: null }],
    });
    cache.participants({ id, action: "modify", participants: [{ id: "100000000001@lid" }] });
    expect(cache.cached(id)).toBeUndefined();
    // An update for a group not cached creates nothing half-known.
    cache.update([{ id: "other@g.us", subject: "x" }]);
    expect(cache.cached("other@g.us")).toBeUndefined();
  });
});

describe("recent messages (getMessage)", () => {
  const sent = (id: string, text: string): WAMessage => ({
    key: { remoteJid: "6289000000000@s.whatsapp.net", id, fromMe: true },
    message: { conversation: text },
  });

  it("returns what was sent by chat and id, within its count and byte bounds", () => {
    const recent = new RecentMessages({ max: 3, maxBytes: 10_000, ttlMs: 60_000 });
    for (let i = 0; i < 5; i++) recent.remember(sent(`M${i}`, `text ${i}`));
    expect(recent.size).toBe(3);
    expect(recent.get({ remoteJid: "6289000000000@s.whatsapp.net", id: "M4" })).toEqual({ conversation: "text 4" });
    expect(recent.get({ remoteJid: "6289000000000@s.whatsapp.net", id: "M0" })).toBeUndefined();
    expect(recent.get({ remoteJid: "other@s.whatsapp.net", id: "M4" })).toBeUndefined();

    const small = new RecentMessages({ max: 100, maxBytes: 200, ttlMs: 60_000 });
    for (let i = 0; i < 10; i++) small.remember(sent(`B${i}`, "x".repeat(60)));
    expect(small.bytes).toBeLessThanOrEqual(200);
    expect(small.size).toBeLessThan(10);
    // Nothing to keep: no key id, or no content.
    small.remember(undefined);
    small.remember({ key: { remoteJid: "a@s.whatsapp.net" }, message: { conversation: "no id" } });
  });

  it("retry counters outlive a socket and stay bounded", () => {
    const store = lruCacheStore({ max: 2, ttlMs: 60_000 });
    store.set("a", 1);
    store.set("b", 2);
    store.set("c", 3);
    expect(store.get<number>("a")).toBeUndefined();
    expect(store.get<number>("c")).toBe(3);
    store.del("c");
    expect(store.get<number>("c")).toBeUndefined();
    store.flushAll();
    expect(store.get<number>("b")).toBeUndefined();
  });
});

describe("command limits (token buckets, cooldowns)", () => {
  it("refuses past the burst, refills at the set rate, and forgets a bucket once it is full again", () => {
    let now = 1_000_000;
    const buckets = new TokenBuckets({ capacity: 2, refillPerSecond: 0.5 }, { now: () => now });
    expect([buckets.take("u"), buckets.take("u"), buckets.take("u")]).toEqual([true, true, false]);
    now += 2_000; // one token back
    expect([buckets.take("u"), buckets.take("u")]).toEqual([true, false]);
    expect(buckets.size).toBe(1);
    now += 4_000; // full again: nothing left to remember
    buckets.take("other");
    expect(buckets.size).toBe(1);
    expect([buckets.take("u"), buckets.take("u"), buckets.take("u")]).toEqual([true, true, false]);
  });

  it("a cooldown says how long is left and ends on time", () => {
    let now = 1_000_000;
    const cooldowns = new Cooldowns({ now: () => now });
    expect(cooldowns.hit("u|ping", 2_000)).toBe(0);
    now += 500;
    expect(cooldowns.hit("u|ping", 2_000)).toBe(1_500);
    expect(cooldowns.hit("v|ping", 2_000)).toBe(0);
    now += 1_500;
    expect(cooldowns.hit("u|ping", 2_000)).toBe(0);
  });

  it("a flood of new senders stays within the bound, and the newest are still limited", () => {
    const now = 1_000_000;
    const max = 10_000;
    const buckets = new TokenBuckets({ capacity: 1, refillPerSecond: 0.01 }, { max, now: () => now });
    const cooldowns = new Cooldowns({ max, now: () => now });
    for (let i = 0; i < 3 * max; i++) {
      buckets.take(`sender${i}`);
      cooldowns.hit(`sender${i}|ping`, 60_000);
    }
    expect(buckets.size).toBe(max);
    expect(cooldowns.size).toBe(max);
    // The oldest were forgotten (so they start afresh), the last ones are still held to their limits.
    expect(buckets.take(`sender${3 * max - 1}`)).toBe(false);
    expect(cooldowns.hit(`sender${3 * max - 1}|ping`, 60_000)).toBe(60_000);
    expect(buckets.take("sender0")).toBe(true);
  });

  it("an lru-cache counted through lazyMax keeps at most max entries, least recently used out first", () => {
    const cache = new LRUCache<string, number>(lazyMax(1_000));
    for (let i = 0; i < 5_000; i++) {
      cache.set(`k${i}`, i);
      cache.get("k0"); // kept in use: never the least recently used
    }
    expect(cache.size).toBe(1_000);
    expect(cache.get("k0")).toBe(0);
    expect(cache.get("k1")).toBeUndefined();
    expect(cache.get("k4999")).toBe(4_999);
  });

  it("forgets the oldest write first, and entries past their time as later writes pass them", () => {
    let now = 0;
    const map = new ExpiringMap<string>({ max: 3, now: () => now });
    map.set("a", "A", 100);
    map.set("b", "B");
    map.set("c", "C", 50);
    map.set("a", "A2", 100); // rewritten: now the newest
    map.set("d", "D");
    expect([map.get("b"), map.get("c"), map.get("a"), map.get("d")]).toEqual([undefined, "C", "A2", "D"]);
    now = 60;
    expect(map.get("c")).toBeUndefined();
    now = 200;
    map.set("e", "E");
    // "a" (past its time) went with that write; "d" never expires and stays until pushed out.
    expect(map.size).toBe(2);
    expect([map.get("d"), map.get("e")]).toEqual(["D", "E"]);
    expect(() => new ExpiringMap({ max: 0 })).toThrow(RangeError);
  });
});

describe("recent message ids", () => {
  it("knows at least the last `keep` ids, holds at most twice that, and grows only with use", () => {
    const ids = new RecentIds(100);
    expect(ids.size).toBe(0);
    for (let i = 0; i < 1_000; i++) {
      expect(ids.seen(`m${i}`)).toBe(false);
      expect(ids.size).toBeLessThanOrEqual(200);
    }
    for (let i = 900; i < 1_000; i++) expect(ids.seen(`m${i}`)).toBe(true);
    expect(ids.seen("m0")).toBe(false);
    expect(() => new RecentIds(0)).toThrow(RangeError);
  });
});
