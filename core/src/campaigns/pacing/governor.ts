import type { GovernorState, StopReason } from "./governor-state.ts";
import { cappingStatuses, type PacingProfile } from "./profile.ts";
import { quietUntil } from "./quiet-hours.ts";
import { gaussianBetween, type Random } from "./random.ts";
import type { WhatsAppSignal } from "./signals.ts";
import { dailyBudget } from "./warmup.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Hour buckets a 24-hour window can touch: the current one and the 24 before it. */
const DAY_BUCKETS = 25;
/** A reach-out lock without an end (the server did not say) is looked at again after this long. */
const LOCK_RECHECK_MS = 15 * MINUTE;

/** What the campaign driver knows about the send it is about to make. */
export interface PacingRequest {
  now: number;
  /** Length of the text (or caption): the "typing…" time is proportional to it. */
  textLength: number;
  /** Whether this person ever wrote to the bot: reach-outs to those who never did have their own budget. */
  recipientWrote: boolean;
  /** The campaign's IANA timezone, for quiet hours. */
  timezone: string;
}

export const waitReasons = [
  "reachout_lock",
  "quiet_hours",
  "batch_pause",
  "gap",
  "minute_limit",
  "hour_limit",
  "day_limit",
  "warmup_limit",
  "never_wrote_limit",
] as const;
export type WaitReason = (typeof waitReasons)[number];

export type PacingDecision =
  /** Send now: show "typing…" for `typingMs` first. The send is already counted (a reach-out is one when tried). */
  | { kind: "send"; typingMs: number }
  /** Not before `until`; ask again then. `never_wrote_limit` only holds people who never wrote. */
  | { kind: "wait"; until: number; reason: WaitReason }
  /** Stopped until a person resumes: pause the campaign with the reason. */
  | { kind: "stop"; reason: StopReason; detail: string };

/** What became of a send the governor allowed. */
export type SendOutcome = { kind: "sent" } | { kind: "failed"; code: string } | { kind: "refused463" };

export interface Step {
  decision: PacingDecision;
  state: GovernorState;
  /** Whether `state` differs from the one given (and must be written). */
  changed: boolean;
}

const hourOf = (t: number) => t - (t % HOUR);

/** The state without what no window can see any more at `now` (pure: returns a new object). */
function pruned(state: GovernorState, profile: PacingProfile, now: number): GovernorState {
  const oldestHour = hourOf(now) - (DAY_BUCKETS - 1) * HOUR;
  return {
    ...state,
    recent: state.recent.filter((t) => t > now - HOUR),
    hours: state.hours.filter((b) => b.hour >= oldestHour),
    failures: state.failures.filter((f) => f.at > now - profile.failures.windowMs),
  };
}

/** When a window of `windowMs` holding `times` (oldest first) has room for one more under `limit`. */
function windowRoomAt(times: readonly number[], limit: number, windowMs: number, now: number): number | undefined {
  const inWindow = times.filter((t) => t > now - windowMs);
  if (inWindow.length < limit) return undefined;
  const leaving = inWindow[inWindow.length - limit];
  return leaving === undefined ? now + windowMs : leaving + windowMs;
}

/** When the 24-hour bucket window has room for one more under `limit`, counting `count` of each bucket. */
function dayRoomAt(
  hours: GovernorState["hours"],
  limit: number,
  count: (bucket: GovernorState["hours"][number]) => number,
  now: number,
): number | undefined {
  let total = hours.reduce((sum, b) => sum + count(b), 0);
  if (total < limit) return undefined;
  for (const bucket of hours) {
    total -= count(bucket);
    // A bucket leaves the window when the current hour is 25 buckets past it.
    if (total < limit) return bucket.hour + DAY_BUCKETS * HOUR;
  }
  return now + HOUR;
}

/** Why WhatsApp's message capping stops the bot's campaigns at `now`, or undefined if it does not. */
export function cappingStops(state: GovernorState, profile: PacingProfile, now: number): string | undefined {
  const capping = state.signals.capping;
  if (!capping) return undefined;
  if (cappingStatuses.indexOf(capping.status) < cappingStatuses.indexOf(profile.stopAtCapping)) return undefined;
  // A verdict about a cycle that has ended says nothing about the next one.
  if (capping.cycleEndsAt !== null && capping.cycleEndsAt <= now) return undefined;
  const quota = capping.used !== null && capping.total !== null ? ` (${capping.used}/${capping.total} new chats)` : "";
  return `WhatsApp's message capping is at ${capping.status}${quota}`;
}

function typingMs(profile: PacingProfile, textLength: number): number {
  const { msPerChar, minMs, maxMs } = profile.typing;
  return Math.min(maxMs, Math.max(minMs, Math.round(textLength * msPerChar)));
}

/**
 * The governor's decision for one campaign send, and the state after it. Pure: the caller loads and
 * commits the state (in one transaction, so two callers can never both take the last slot).
 * Checks run from the hardest stop to the softest wait, so the reason given is the one that matters.
 */
export function decide(given: GovernorState, profile: PacingProfile, request: PacingRequest, random: Random): Step {
  const { now } = request;
  const state = pruned(given, profile, now);
  // A bot whose linking the runner never saw starts its warm-up now: the cautious assumption.
  const firstUse = state.linkedAt === null;
  if (firstUse) state.linkedAt = now;
  const hold = (decision: PacingDecision): Step => ({ decision, state: firstUse ? state : given, changed: firstUse });

  if (state.stopped) return hold({ kind: "stop", reason: state.stopped.reason, detail: state.stopped.detail });
  const capped = cappingStops(state, profile, now);
  if (capped) return hold({ kind: "stop", reason: "capping", detail: capped });

  const lock = state.signals.reachoutLock;
  if (lock?.active && (lock.endsAt === null || lock.endsAt > now)) {
    return hold({ kind: "wait", until: lock.endsAt ?? now + LOCK_RECHECK_MS, reason: "reachout_lock" });
  }
  const quietEnd = quietUntil(profile.quietHours, request.timezone, now);
  if (quietEnd !== undefined) return hold({ kind: "wait", until: quietEnd, reason: "quiet_hours" });
  if (state.pauseUntil > now) return hold({ kind: "wait", until: state.pauseUntil, reason: "batch_pause" });
  if (state.nextSendAt > now) return hold({ kind: "wait", until: state.nextSendAt, reason: "gap" });

  const minute = windowRoomAt(state.recent, profile.perMinute, MINUTE, now);
  if (minute !== undefined) return hold({ kind: "wait", until: minute, reason: "minute_limit" });
  const hour = windowRoomAt(state.recent, profile.perHour, HOUR, now);
  if (hour !== undefined) return hold({ kind: "wait", until: hour, reason: "hour_limit" });
  const budget = dailyBudget(profile, state.linkedAt ?? now, now);
  const day = dayRoomAt(state.hours, budget.limit, (b) => b.sent, now);
  if (day !== undefined) {
    return hold({ kind: "wait", until: day, reason: budget.warmingUp ? "warmup_limit" : "day_limit" });
  }
  if (!request.recipientWrote) {
    const neverWrote = dayRoomAt(state.hours, profile.neverWrotePerDay, (b) => b.neverWrote, now);
    if (neverWrote !== undefined) return hold({ kind: "wait", until: neverWrote, reason: "never_wrote_limit" });
  }

  const typing = typingMs(profile, request.textLength);
  const current = hourOf(now);
  const last = state.hours.at(-1);
  const neverWrote = request.recipientWrote ? 0 : 1;
  state.hours =
    last?.hour === current
      ? [...state.hours.slice(0, -1), { ...last, sent: last.sent + 1, neverWrote: last.neverWrote + neverWrote }]
      : [...state.hours, { hour: current, sent: 1, neverWrote }];
  state.recent = [...state.recent, now];
  state.nextSendAt = now + typing + gaussianBetween(random, profile.gap.minMs, profile.gap.maxMs);
  state.batchCount += 1;
  if (state.batchCount >= profile.batch.size) {
    state.batchCount = 0;
    state.pauseUntil = now + typing + gaussianBetween(random, profile.batch.pause.minMs, profile.batch.pause.maxMs);
  }
  return { decision: { kind: "send", typingMs: typing }, state, changed: true };
}

/** The state after a send's outcome: failures feed the breaker, a 463 stops at once. */
export function afterOutcome(
  given: GovernorState,
  profile: PacingProfile,
  outcome: SendOutcome,
  now: number,
): { state: GovernorState; changed: boolean } {
  if (outcome.kind === "sent") return { state: given, changed: false };
  if (outcome.kind === "refused463") return { state: refused463(given, now), changed: true };
  const state = pruned(given, profile, now);
  state.failures = [...state.failures, { at: now, code: outcome.code.slice(0, 100) }];
  if (!state.stopped && state.failures.length >= profile.failures.max) {
    const minutes = Math.round(profile.failures.windowMs / MINUTE);
    state.stopped = {
      reason: "failure_breaker",
      detail: `${state.failures.length} sends failed within ${minutes} min (last: ${outcome.code.slice(0, 100)})`,
      at: now,
    };
  }
  return { state, changed: true };
}

function refused463(given: GovernorState, now: number): GovernorState {
  return {
    ...given,
    signals: { ...given.signals, last463At: now },
    stopped: given.stopped ?? {
      reason: "whatsapp_refused_463",
      detail:
        "WhatsApp refused a send with error 463: the number may not start new chats (a retry would count as another reach-out)",
      at: now,
    },
  };
}

/** The state after one of WhatsApp's signals arrived. */
export function afterSignal(given: GovernorState, signal: WhatsAppSignal, now: number): GovernorState {
  switch (signal.kind) {
    case "capping": {
      const { kind: _, ...capping } = signal;
      return { ...given, signals: { ...given.signals, capping: { ...capping, at: now } } };
    }
    case "reachoutLock": {
      const { kind: _, ...lock } = signal;
      return { ...given, signals: { ...given.signals, reachoutLock: { ...lock, at: now } } };
    }
    case "sendRefused463":
      return refused463(given, now);
    case "linked":
      return { ...given, linkedAt: now };
  }
}

/** An owner resumed: the latched stop and the failures behind it are forgotten (live signals still hold). */
export function afterResume(given: GovernorState): GovernorState {
  return { ...given, stopped: null, failures: [] };
}
