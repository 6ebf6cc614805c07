import { afterAll, describe, expect, it } from "vitest";
import {
  builtInProfiles,
  GovernorStore,
  LeaseLostError,
  LeaseStore,
  leaseFence,
  type PacingProfile,
  seededRandom,
} from "../src/index.ts";
import { manualClock, testFirebase, uniqueId } from "../src/testing/index.ts";

const firebase = testFirebase();
const db = firebase.firestore;
afterAll(() => firebase.close());

const MINUTE = 60_000;
const bot = () => ({ tenantId: uniqueId("tenant"), botId: uniqueId("bot") });
const request = { textLength: 40, recipientWrote: true, timezone: "UTC" };
// A midday start, past any warm-up: only the limit under test holds.
const start = Date.UTC(2026, 5, 1, 10, 0);
const { standard } = builtInProfiles;

describe("the governor's state in Firestore", () => {
  it("lets exactly one of several simultaneous callers take the slot", async () => {
    const target = bot();
    const clock = manualClock(start);
    const governor = new GovernorStore(db, { now: clock.now, random: seededRandom(1) }).forBot(target);
    await governor.signal({ kind: "linked" });
    clock.advance(30 * 24 * 60 * MINUTE);
    const decisions = await Promise.all(Array.from({ length: 5 }, () => governor.next(request, standard)));
    expect(decisions.filter((d) => d.kind === "send")).toHaveLength(1);
    expect(decisions.filter((d) => d.kind === "wait" && d.reason === "gap")).toHaveLength(4);
  });

  it("never lets simultaneous callers pass the minute limit, even without gaps", async () => {
    const target = bot();
    const clock = manualClock(start);
    // No gaps or batch pauses: the minute window is the only thing between the callers.
    const bare: PacingProfile = {
      ...standard,
      gap: { minMs: 0, maxMs: 0 },
      typing: { msPerChar: 0, minMs: 0, maxMs: 0 },
      batch: { size: 1_000, pause: { minMs: 0, maxMs: 0 } },
      warmup: [],
    };
    const governor = new GovernorStore(db, { now: clock.now }).forBot(target);
    const decisions = await Promise.all(Array.from({ length: 8 }, () => governor.next(request, bare)));
    expect(decisions.filter((d) => d.kind === "send")).toHaveLength(bare.perMinute);
    expect(decisions.filter((d) => d.kind === "wait" && d.reason === "minute_limit")).toHaveLength(8 - bare.perMinute);
    expect((await governor.state()).recent).toHaveLength(bare.perMinute);
  });

  it("is continued by the runner that takes the bot over: windows, pauses and signals", async () => {
    const target = bot();
    const clock = manualClock(start);
    const first = new GovernorStore(db, { now: clock.now, random: seededRandom(2) }).forBot(target);
    expect(await first.next(request, standard)).toMatchObject({ kind: "send" });
    await first.signal({ kind: "reachoutLock", active: true, endsAt: start + 3 * 60 * MINUTE, type: "BIZ_QUALITY" });

    // Another instance, another store, the same document.
    const second = new GovernorStore(db, { now: clock.now, random: seededRandom(3) }).forBot(target);
    const state = await second.state();
    expect(state.recent).toEqual([start]);
    expect(state.linkedAt).toBe(start);
    expect(state.signals.reachoutLock).toMatchObject({ active: true, type: "BIZ_QUALITY" });
    expect(await second.next(request, standard)).toEqual({
      kind: "wait",
      until: start + 3 * 60 * MINUTE,
      reason: "reachout_lock",
    });
    clock.advance(3 * 60 * MINUTE);
    expect(await second.next(request, standard)).toMatchObject({ kind: "send" });
  });

  it("records outcomes: a 463 stops until resumed, failures trip the breaker", async () => {
    const target = bot();
    const clock = manualClock(start);
    const governor = new GovernorStore(db, { now: clock.now }).forBot(target);
    await governor.recorded({ kind: "refused463" }, standard);
    expect(await governor.next(request, standard)).toMatchObject({ kind: "stop", reason: "whatsapp_refused_463" });
    await governor.resume();
    expect(await governor.next(request, standard)).toMatchObject({ kind: "send" });
    for (let i = 0; i < standard.failures.max; i++)
      await governor.recorded({ kind: "failed", code: "timeout" }, standard);
    expect(await governor.next(request, standard)).toMatchObject({ kind: "stop", reason: "failure_breaker" });
    expect((await governor.state()).stopped?.detail).toContain("5 sends failed within 15 min");
  });

  it("refuses a malformed signal and changes nothing", async () => {
    const target = bot();
    const governor = new GovernorStore(db).forBot(target);
    await expect(
      governor.signal({ kind: "capping", status: "MAYBE", used: 1, total: 2, cycleEndsAt: null } as never),
    ).rejects.toThrow(/Invalid WhatsApp signal: status/);
    expect((await db.doc(`tenants/${target.tenantId}/bots/${target.botId}/governor/current`).get()).exists).toBe(false);
  });

  it("is fenced by the lease: a deposed owner counts nothing", async () => {
    const target = bot();
    const clock = manualClock(start);
    const leases = new LeaseStore(db, { ttlMs: 1_000, now: clock.now });
    const old = await leases.acquire(target, "runner-a");
    clock.advance(1_001);
    const current = await leases.acquire(target, "runner-b");
    if (!old || !current) throw new Error("both acquisitions should succeed");
    const store = new GovernorStore(db, { now: clock.now });
    await expect(store.forBot(target, leaseFence(leases, old)).next(request, standard)).rejects.toBeInstanceOf(
      LeaseLostError,
    );
    expect((await store.load(target)).recent).toEqual([]);
    expect(await store.forBot(target, leaseFence(leases, current)).next(request, standard)).toMatchObject({
      kind: "send",
    });
  });
});
