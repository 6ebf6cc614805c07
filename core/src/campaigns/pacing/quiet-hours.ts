import { z } from "zod";

/**
 * Quiet hours in a campaign's own timezone, computed with the runtime's IANA data (Intl): no
 * dependency, and daylight-saving changes come from the same tables the platform keeps current.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(timeZone, format);
  }
  return format;
}

export function isTimeZone(value: string): boolean {
  try {
    formatter(value);
    return true;
  } catch {
    return false;
  }
}

export const timeZoneSchema = z
  .string()
  .min(1)
  .max(64)
  .refine(isTimeZone, "must be an IANA timezone, e.g. Asia/Jakarta");

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function wallClock(instant: number, timeZone: string): WallClock {
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(instant)) {
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  }
  return {
    year: parts.year ?? 1970,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
  };
}

/** The zone's offset from UTC at `instant`, in ms (positive east of Greenwich). */
function offsetAt(instant: number, timeZone: string): number {
  const w = wallClock(instant, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - (instant - (((instant % 1000) + 1000) % 1000));
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(":").map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

function inWindow(minute: number, start: number, end: number): boolean {
  return start <= end ? minute >= start && minute < end : minute >= start || minute < end;
}

export interface QuietHours {
  start: string;
  end: string;
}

/**
 * When the quiet hours around `now` end (the first instant after `now` when the wall clock in
 * `timeZone` reads `end`), or undefined when `now` is not quiet.
 */
export function quietUntil(window: QuietHours | null, timeZone: string, now: number): number | undefined {
  if (!window) return undefined;
  const start = minutesOf(window.start);
  const end = minutesOf(window.end);
  if (start === end) return undefined;
  const w = wallClock(now, timeZone);
  if (!inWindow(w.hour * 60 + w.minute, start, end)) return undefined;
  const quietAt = (instant: number) => {
    const at = wallClock(instant, timeZone);
    return inWindow(at.hour * 60 + at.minute, start, end);
  };
  for (let addDays = 0; addDays <= 2; addDays++) {
    // The wall time `end` on this local date: as UTC, moved by the zone's offset there, and again
    // by the offset at that guess (they differ across a DST change). Of the two, the earliest that
    // is later than now and no longer quiet; an end inside a spring-forward gap (02:30 that never
    // happens) resolves to just after the gap, up to an hour late: conservative.
    const wall = Date.UTC(w.year, w.month - 1, w.day + addDays, Math.floor(end / 60), end % 60);
    const first = wall - offsetAt(wall, timeZone);
    const second = wall - offsetAt(first, timeZone);
    const found = [first, second].filter((t) => t > now && !quietAt(t)).sort((a, b) => a - b)[0];
    if (found !== undefined) return found;
  }
  return undefined;
}
