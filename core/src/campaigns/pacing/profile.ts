import { z } from "zod";
import { type FieldIssue, ValidationError } from "../../errors/domain-error.ts";
import { parseOrThrow } from "../../errors/zod-issues.ts";

const MINUTE = 60_000;

/** WhatsApp's message-capping levels, mildest first (Baileys' `NewChatMessageCappingStatusType`). */
export const cappingStatuses = ["NONE", "FIRST_WARNING", "SECOND_WARNING", "CAPPED"] as const;
export type CappingStatus = (typeof cappingStatuses)[number];

const count = (max: number) => z.number().int().min(0).max(max);
const range = (max: number) =>
  z
    .object({ minMs: z.number().int().min(0).max(max), maxMs: z.number().int().min(0).max(max) })
    .refine((r) => r.minMs <= r.maxMs, { message: "minMs must not exceed maxMs", path: ["maxMs"] });
const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be HH:MM (24-hour)");

/**
 * How fast one bot may reach out in campaigns. Data, not code: the built-in profiles below are
 * values of this schema, and a tenant's campaign can only narrow one (`stricterOf`).
 */
export const pacingProfileSchema = z.object({
  perMinute: count(60),
  perHour: count(600),
  perDay: count(5_000),
  /** Pause between two sends (Gaussian within the range), after the typing time. */
  gap: range(60 * MINUTE),
  /** "typing…" shown before each send: `msPerChar` of the text, within [minMs, maxMs]. */
  typing: z.object({ msPerChar: z.number().int().min(0).max(1_000), minMs: count(60_000), maxMs: count(120_000) }),
  /** After `size` sends, a pause within the range. */
  batch: z.object({ size: z.number().int().min(1).max(1_000), pause: range(24 * 60 * MINUTE) }),
  /** Day budgets from the day the number was linked (day 1 first); `perDay` applies after the last. */
  warmup: z.array(count(5_000)).max(60),
  /** Sends a day to people who never wrote to the bot (the reach-outs WhatsApp watches most). */
  neverWrotePerDay: count(5_000),
  /** No sends between `start` and `end` in the campaign's timezone (wrapping midnight when start > end). */
  quietHours: z.object({ start: clock, end: clock }).nullable(),
  /** `max` failed sends within `windowMs` pause the bot's campaigns with the reason. */
  failures: z.object({
    max: z.number().int().min(1).max(1_000),
    windowMs: z
      .number()
      .int()
      .min(MINUTE)
      .max(7 * 24 * 60 * MINUTE),
  }),
  /** The message-capping level at which campaigns stop (any level from it up). */
  stopAtCapping: z.enum(cappingStatuses.slice(1) as ["FIRST_WARNING", "SECOND_WARNING", "CAPPED"]),
});
export type PacingProfile = z.output<typeof pacingProfileSchema>;

/** Stricter than the best public anti-ban defaults we read (ADR 24): 6/min, 150/h, 1,000/day. */
const standard: PacingProfile = {
  perMinute: 6,
  perHour: 150,
  perDay: 1_000,
  gap: { minMs: 10_000, maxMs: 30_000 },
  typing: { msPerChar: 50, minMs: 1_500, maxMs: 8_000 },
  batch: { size: 20, pause: { minMs: 5 * MINUTE, maxMs: 15 * MINUTE } },
  warmup: [20, 36, 65, 117, 210, 378, 680],
  neverWrotePerDay: 100,
  quietHours: { start: "21:00", end: "08:00" },
  failures: { max: 5, windowMs: 15 * MINUTE },
  stopAtCapping: "FIRST_WARNING",
};

export const builtInProfiles = {
  standard,
  /** Half the standard pace, longer pauses: for a number that was warned before. */
  cautious: {
    ...standard,
    perMinute: 3,
    perHour: 60,
    perDay: 400,
    gap: { minMs: 20_000, maxMs: 60_000 },
    batch: { size: 10, pause: { minMs: 10 * MINUTE, maxMs: 30 * MINUTE } },
    warmup: [10, 18, 32, 58, 105, 189, 340],
    neverWrotePerDay: 40,
    failures: { max: 3, windowMs: 30 * MINUTE },
  },
  /** A number linked days ago: the community's reports of restrictions after 15-20 reach-outs a day. */
  new_number: {
    ...standard,
    perMinute: 2,
    perHour: 30,
    perDay: 150,
    gap: { minMs: 30_000, maxMs: 90_000 },
    batch: { size: 10, pause: { minMs: 15 * MINUTE, maxMs: 45 * MINUTE } },
    warmup: [10, 15, 20, 30, 45, 65, 90, 120],
    neverWrotePerDay: 15,
    failures: { max: 3, windowMs: 30 * MINUTE },
  },
} as const satisfies Record<string, PacingProfile>;

export type BuiltInProfileName = keyof typeof builtInProfiles;
export const builtInProfileNames = Object.keys(builtInProfiles) as [BuiltInProfileName, ...BuiltInProfileName[]];

/** What a tenant may set: any subset of a profile's fields (each then checked to be no looser). */
export const pacingOverridesSchema = pacingProfileSchema.partial().strict();
export type PacingOverrides = z.input<typeof pacingOverridesSchema>;

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(":").map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

/** The minutes of the day a quiet window covers (start inclusive, end exclusive, wrapping midnight). */
function quietMinutes(window: { start: string; end: string }): Set<number> {
  const covered = new Set<number>();
  const start = minutesOf(window.start);
  const end = minutesOf(window.end);
  for (let m = start; m !== end; m = (m + 1) % 1_440) covered.add(m);
  return covered;
}

/**
 * `base` narrowed by a tenant's `overrides`. Every field may only get stricter: lower limits and
 * budgets, longer gaps, pauses and failure windows, smaller batches, an earlier capping stop, and
 * quiet hours that cover the base's. Anything looser is refused with a ValidationError naming the
 * field, so a tenant can never talk the governor into risking the number.
 */
export function stricterOf(base: PacingProfile, overrides: unknown): PacingProfile {
  const o = parseOrThrow(pacingOverridesSchema, overrides ?? {}, "pacing overrides");
  const issues: FieldIssue[] = [];
  const atMost = (path: string, value: number | undefined, limit: number) => {
    if (value !== undefined && value > limit)
      issues.push({ path, message: `must be at most ${limit} (the profile's)` });
  };
  const atLeast = (path: string, value: number | undefined, floor: number) => {
    if (value !== undefined && value < floor)
      issues.push({ path, message: `must be at least ${floor} (the profile's)` });
  };
  atMost("perMinute", o.perMinute, base.perMinute);
  atMost("perHour", o.perHour, base.perHour);
  atMost("perDay", o.perDay, base.perDay);
  atMost("neverWrotePerDay", o.neverWrotePerDay, base.neverWrotePerDay);
  atLeast("gap.minMs", o.gap?.minMs, base.gap.minMs);
  atLeast("gap.maxMs", o.gap?.maxMs, base.gap.maxMs);
  atLeast("typing.msPerChar", o.typing?.msPerChar, base.typing.msPerChar);
  atLeast("typing.minMs", o.typing?.minMs, base.typing.minMs);
  atLeast("typing.maxMs", o.typing?.maxMs, base.typing.maxMs);
  atMost("batch.size", o.batch?.size, base.batch.size);
  atLeast("batch.pause.minMs", o.batch?.pause.minMs, base.batch.pause.minMs);
  atLeast("batch.pause.maxMs", o.batch?.pause.maxMs, base.batch.pause.maxMs);
  atMost("failures.max", o.failures?.max, base.failures.max);
  atLeast("failures.windowMs", o.failures?.windowMs, base.failures.windowMs);
  if (o.warmup) {
    // A shorter schedule would end the warm-up early: the base's later days still apply.
    if (o.warmup.length < base.warmup.length) {
      issues.push({ path: "warmup", message: `must have at least ${base.warmup.length} days (the profile's)` });
    }
    for (const [day, budget] of o.warmup.entries()) atMost(`warmup[${day}]`, budget, base.warmup[day] ?? base.perDay);
  }
  if (o.stopAtCapping && cappingStatuses.indexOf(o.stopAtCapping) > cappingStatuses.indexOf(base.stopAtCapping)) {
    issues.push({ path: "stopAtCapping", message: `must be ${base.stopAtCapping} or earlier (the profile's)` });
  }
  if (o.quietHours !== undefined && base.quietHours) {
    const theirs = o.quietHours ? quietMinutes(o.quietHours) : new Set<number>();
    if ([...quietMinutes(base.quietHours)].some((m) => !theirs.has(m))) {
      issues.push({
        path: "quietHours",
        message: `must cover the profile's quiet hours ${base.quietHours.start}-${base.quietHours.end}`,
      });
    }
  }
  if (issues.length > 0) {
    const summary = issues.map((i) => `${i.path}: ${i.message}`).join("; ");
    throw new ValidationError(`Pacing overrides may only make the profile stricter: ${summary}`, issues);
  }
  return parseOrThrow(pacingProfileSchema, { ...base, ...o }, "pacing profile");
}
