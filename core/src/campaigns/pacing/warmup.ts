import type { PacingProfile } from "./profile.ts";

export const DAY_MS = 24 * 60 * 60_000;

/** Day of the number's life at `now`: 1 on the day it was linked (in 24-hour steps from that instant). */
export function ageInDays(linkedAt: number, now: number): number {
  return Math.max(0, Math.floor((now - linkedAt) / DAY_MS)) + 1;
}

/**
 * How many campaign sends the bot may make in any 24 hours ending at `now`: the warm-up's budget
 * for the number's current day while it lasts, never more than the profile's daily limit.
 */
export function dailyBudget(
  profile: PacingProfile,
  linkedAt: number,
  now: number,
): { limit: number; warmingUp: boolean } {
  const day = ageInDays(linkedAt, now);
  const warmup = profile.warmup[day - 1];
  if (warmup === undefined || warmup >= profile.perDay) return { limit: profile.perDay, warmingUp: false };
  return { limit: warmup, warmingUp: true };
}
