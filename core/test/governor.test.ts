import { describe, expect, it } from "vitest";
import {
  afterOutcome,
  afterResume,
  afterSignal,
  builtInProfiles,
  decide,
  type GovernorState,
  initialGovernorState,
  type PacingDecision,
  type PacingProfile,
  seededRandom,
  type WaitReason,
} from "../src/index.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const { standard } = builtInProfiles;

interface Send {
  at: number;
  wrote: boolean;
}

/** Drives the pure governor like a campaign driver would, on a simulated clock that jumps to each `until`. */
function simulate(options: {
  profile: PacingProfile;
  start: number;
  timezone: string;
  decisions: number;
  seed: number;
  wroteShare: number;
}) {
  const random = seededRandom(options.seed);
  let state: GovernorState = afterSignal(initialGovernorState(), { kind: "linked" }, options.start);
  let now = options.start;
  const sends: Send[] = [];
  const waits = new Map<WaitReason, number>();
  const quietEnds: number[] = [];
  for (let i = 0; i < options.decisions; i++) {
    const wrote = random() < options.wroteShare;
    const step = decide(
      state,
      options.profile,
      { now, textLength: Math.floor(random() * 400), recipientWrote: wrote, timezone: options.timezone },
      random,
    );
    state = step.state;
    const decision = step.decision;
    if (decision.kind === "stop") throw new Error(`unexpected stop: ${decision.detail}`);
    if (decision.kind === "send") {
      sends.push({ at: now, wrote });
      state = afterOutcome(state, options.profile, { kind: "sent" }, now).state;
      now += decision.typingMs;
    } else {
      expect(decision.until).toBeGreaterThan(now);
      waits.set(decision.reason, (waits.get(decision.reason) ?? 0) + 1);
      if (decision.reason === "quiet_hours") quietEnds.push(decision.until);
      now = decision.until;
    }
  }
  return { sends, waits, quietEnds, state, end: now };
}

/** The most sends (matching `which`) in any window of `windowMs` ending at a send. */
function busiest(sends: readonly Send[], windowMs: number, which: (s: Send) => boolean = () => true): number {
  const times = sends.filter(which).map((s) => s.at);
  let most = 0;
  let from = 0;
  for (let to = 0; to < times.length; to++) {
    const end = times[to] ?? 0;
    while ((times[from] ?? 0) <= end - windowMs) from++;
    most = Math.max(most, to - from + 1);
  }
  return most;
}

function localHour(at: number, timeZone: string): number {
  return Number(new Intl.DateTimeFormat("en-US", { timeZone, hour: "numeric", hourCycle: "h23" }).format(at));
}

describe("the pacing governor over simulated days", () => {
  // Starts four days before New York springs forward (2026-03-08), so the run crosses the DST change.
  const start = Date.UTC(2026, 2, 4, 17, 0);
  const timezone = "America/New_York";
  const run = simulate({ profile: standard, start, timezone, decisions: 5_000, seed: 17, wroteShare: 0.5 });

  it("never exceeds a window, however the waits fall", () => {
    expect(run.sends.length).toBeGreaterThan(1_000);
    expect(busiest(run.sends, MINUTE)).toBeLessThanOrEqual(standard.perMinute);
    expect(busiest(run.sends, HOUR)).toBeLessThanOrEqual(standard.perHour);
    expect(busiest(run.sends, DAY)).toBeLessThanOrEqual(standard.perDay);
    expect(busiest(run.sends, DAY, (s) => !s.wrote)).toBeLessThanOrEqual(standard.neverWrotePerDay);
    expect(run.waits.get("never_wrote_limit")).toBeGreaterThan(0);
  });

  it("holds the minute, hour and day windows themselves when nothing else slows the sends", () => {
    // With the standard gaps and batch pauses, the minute and hour limits are never what binds.
    const bare: PacingProfile = {
      ...standard,
      gap: { minMs: 0, maxMs: 0 },
      typing: { msPerChar: 0, minMs: 0, maxMs: 0 },
      batch: { size: 1_000, pause: { minMs: 0, maxMs: 0 } },
      warmup: [],
      quietHours: null,
    };
    const fast = simulate({ profile: bare, start, timezone, decisions: 5_000, seed: 5, wroteShare: 1 });
    expect(busiest(fast.sends, MINUTE)).toBe(bare.perMinute);
    expect(busiest(fast.sends, HOUR)).toBe(bare.perHour);
    expect(busiest(fast.sends, DAY)).toBeLessThanOrEqual(bare.perDay);
    for (const reason of ["minute_limit", "hour_limit", "day_limit"] as const) {
      expect(fast.waits.get(reason), reason).toBeGreaterThan(0);
    }
  });

  it("keeps the gaps and the batch pauses", () => {
    const gaps = run.sends.slice(1).map((s, i) => s.at - (run.sends[i]?.at ?? 0));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(standard.gap.minMs + standard.typing.minMs);
    // Every 20th send starts a pause: no run of more than 20 sends with less than 5 minutes between them.
    let streak = 1;
    for (const gap of gaps) {
      streak = gap >= standard.batch.pause.minMs ? 1 : streak + 1;
      expect(streak).toBeLessThanOrEqual(standard.batch.size);
    }
  });

  it("holds each warm-up day's budget, counted from the linking", () => {
    const perDay = new Map<number, number>();
    for (const send of run.sends) {
      const day = Math.floor((send.at - start) / DAY);
      perDay.set(day, (perDay.get(day) ?? 0) + 1);
    }
    for (const [day, count] of perDay) expect(count).toBeLessThanOrEqual(standard.warmup[day] ?? standard.perDay);
    // Warm-up is what held most days back, and it did let each day use most of its budget.
    expect(run.waits.get("warmup_limit")).toBeGreaterThan(0);
    expect(perDay.get(0)).toBe(20);
  });

  it("sends nothing in quiet hours in the campaign's timezone, on both sides of the DST change", () => {
    // A warmed-up number (no warm-up left), so the days are full and every night's quiet hours are met.
    const warm = simulate({
      profile: { ...standard, warmup: [] },
      start: Date.UTC(2026, 2, 6, 13),
      timezone,
      decisions: 5_000,
      seed: 3,
      wroteShare: 1,
    });
    const inQuietHours = [...run.sends, ...warm.sends]
      .filter((send) => {
        const hour = localHour(send.at, timezone);
        return hour < 8 || hour >= 21;
      })
      .map((send) => new Date(send.at).toISOString());
    expect(inQuietHours).toEqual([]);
    // Every quiet night ends at 08:00 New York time: 13:00 UTC before the change, 12:00 UTC after.
    const ends = new Set(warm.quietEnds.map((at) => new Date(at).toISOString()));
    expect(ends).toContain("2026-03-07T13:00:00.000Z");
    expect(ends).toContain("2026-03-08T12:00:00.000Z");
    for (const end of warm.quietEnds) expect(localHour(end, timezone)).toBe(8);
    // The days were full up to the limits: the quiet hours, not an idle driver, kept the nights empty.
    expect(busiest(warm.sends, HOUR)).toBeGreaterThan(standard.perHour / 3);
  });
});

describe("WhatsApp's signals and the failure breaker", () => {
  const now = Date.UTC(2026, 5, 1, 10, 0);
  const request = { now, textLength: 80, recipientWrote: false, timezone: "UTC" };
  const random = seededRandom(1);
  const fresh = (): GovernorState => afterSignal(initialGovernorState(), { kind: "linked" }, now - 30 * DAY);
  const next = (state: GovernorState, at = now): PacingDecision =>
    decide(state, standard, { ...request, now: at }, random).decision;

  it("a 463 stops the bot's campaigns until an owner resumes; it is never a retryable failure", () => {
    const refused = afterOutcome(fresh(), standard, { kind: "refused463" }, now).state;
    expect(next(refused)).toMatchObject({ kind: "stop", reason: "whatsapp_refused_463" });
    // Still stopped a day later: the restriction does not expire on its own here.
    expect(next(refused, now + DAY)).toMatchObject({ kind: "stop", reason: "whatsapp_refused_463" });
    expect(refused.signals.last463At).toBe(now);
    expect(next(afterResume(refused))).toMatchObject({ kind: "send" });
    // The transport's signal (a 463 on any send, a reply's too) stops campaigns the same way.
    const signalled = afterSignal(fresh(), { kind: "sendRefused463", messageId: "3EB0AA" }, now);
    expect(next(signalled)).toMatchObject({ kind: "stop", reason: "whatsapp_refused_463" });
  });

  it("message capping stops at FIRST_WARNING while its cycle lasts, not before", () => {
    const capping = (status: "NONE" | "FIRST_WARNING" | "CAPPED", cycleEndsAt: number | null) =>
      afterSignal(fresh(), { kind: "capping", status, used: 45, total: 50, cycleEndsAt }, now);
    expect(next(capping("NONE", now + DAY))).toMatchObject({ kind: "send" });
    const warned = next(capping("FIRST_WARNING", now + DAY));
    expect(warned).toMatchObject({ kind: "stop", reason: "capping" });
    expect(warned.kind === "stop" && warned.detail).toContain("FIRST_WARNING (45/50 new chats)");
    expect(next(capping("CAPPED", null))).toMatchObject({ kind: "stop", reason: "capping" });
    expect(next(capping("FIRST_WARNING", now + DAY), now + DAY + 1)).toMatchObject({ kind: "send" });
    // A profile that stops only when capped lets a warning through.
    const late = { ...standard, stopAtCapping: "CAPPED" as const };
    expect(decide(capping("FIRST_WARNING", now + DAY), late, request, random).decision).toMatchObject({ kind: "send" });
  });

  it("an active reach-out time lock waits until its end, then resumes", () => {
    const locked = afterSignal(
      fresh(),
      { kind: "reachoutLock", active: true, endsAt: now + 2 * HOUR, type: "BIZ_QUALITY" },
      now,
    );
    expect(next(locked)).toEqual({ kind: "wait", until: now + 2 * HOUR, reason: "reachout_lock" });
    expect(next(locked, now + 2 * HOUR)).toMatchObject({ kind: "send" });
    const lifted = afterSignal(
      locked,
      { kind: "reachoutLock", active: false, endsAt: null, type: "DEFAULT" },
      now + HOUR,
    );
    expect(next(lifted, now + HOUR)).toMatchObject({ kind: "send" });
    const noEnd = afterSignal(fresh(), { kind: "reachoutLock", active: true, endsAt: null, type: null }, now);
    expect(next(noEnd)).toEqual({ kind: "wait", until: now + 15 * MINUTE, reason: "reachout_lock" });
  });

  it("N failures within the window stop with the reason; the same failures spread out do not", () => {
    let state = fresh();
    for (let i = 0; i < standard.failures.max - 1; i++) {
      state = afterOutcome(state, standard, { kind: "failed", code: "timeout" }, now + i * MINUTE).state;
    }
    expect(next(state, now + 5 * MINUTE)).toMatchObject({ kind: "send" });
    state = afterOutcome(state, standard, { kind: "failed", code: "not-on-whatsapp" }, now + 5 * MINUTE).state;
    const stopped = next(state, now + 6 * MINUTE);
    expect(stopped).toEqual({
      kind: "stop",
      reason: "failure_breaker",
      detail: "5 sends failed within 15 min (last: not-on-whatsapp)",
    });
    expect(next(afterResume(state), now + 6 * MINUTE)).toMatchObject({ kind: "send" });

    let spread = fresh();
    for (let i = 0; i < 10; i++) {
      spread = afterOutcome(spread, standard, { kind: "failed", code: "timeout" }, now + i * 4 * MINUTE).state;
    }
    expect(spread.stopped).toBeNull();
  });

  it("counts a send when it is allowed, so the next caller waits for the gap", () => {
    const first = decide(fresh(), standard, request, random);
    expect(first.decision).toMatchObject({ kind: "send", typingMs: 4_000 });
    const second = decide(first.state, standard, request, random);
    expect(second.decision).toMatchObject({ kind: "wait", reason: "gap" });
    expect(second.changed).toBe(false);
  });
});
