/**
 * When each attempt of a delivery is made, counted from the failure before it: attempt 1 at once,
 * then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h later — ten attempts over about
 * three days, the spread Standard Webhooks senders use, so an endpoint down for a deploy or a night
 * still gets every event.
 */
export const deliverySchedule: readonly number[] = [
  0,
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  14 * 3_600_000,
  20 * 3_600_000,
  24 * 3_600_000,
];

/** A `Retry-After` is obeyed up to this; a longer one is the schedule's last step. */
export const MAX_RETRY_AFTER_MS = 24 * 3_600_000;

/** ±10 %, so the retries of many failed deliveries (an endpoint down) do not arrive together. */
export function withJitter(delayMs: number, random: () => number): number {
  return Math.max(0, Math.round(delayMs * (1 + (random() * 2 - 1) * 0.1)));
}

/**
 * A `Retry-After` header (delay in seconds, or an HTTP date) as milliseconds from `nowMs`, bounded
 * to `MAX_RETRY_AFTER_MS`; undefined when absent or unreadable.
 */
export function retryAfterMs(header: string | string[] | undefined, nowMs: number): number | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value) return undefined;
  let ms: number;
  if (/^\d+$/.test(value)) ms = Number(value) * 1_000;
  else {
    const date = Date.parse(value);
    if (Number.isNaN(date)) return undefined;
    ms = date - nowMs;
  }
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}
