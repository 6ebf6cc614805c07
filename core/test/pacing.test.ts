import { describe, expect, it } from "vitest";
import {
  builtInProfiles,
  dailyBudget,
  gaussianBetween,
  pacingProfileSchema,
  quietUntil,
  seededRandom,
  stricterOf,
  timeZoneSchema,
  ValidationError,
} from "../src/index.ts";

const DAY = 24 * 60 * 60_000;
const { standard } = builtInProfiles;

describe("pacing profiles", () => {
  it("are data: every built-in profile parses, and none is looser than the issue's ceilings", () => {
    for (const profile of Object.values(builtInProfiles)) {
      const parsed = pacingProfileSchema.parse(profile);
      expect(parsed.perMinute).toBeLessThanOrEqual(6);
      expect(parsed.perHour).toBeLessThanOrEqual(150);
      expect(parsed.perDay).toBeLessThanOrEqual(1_000);
      expect(parsed.gap.minMs).toBeGreaterThanOrEqual(10_000);
      expect(parsed.stopAtCapping).toBe("FIRST_WARNING");
    }
    expect(standard.warmup).toEqual([20, 36, 65, 117, 210, 378, 680]);
  });

  it("accept a tenant's stricter overrides", () => {
    const narrowed = stricterOf(standard, {
      perMinute: 2,
      gap: { minMs: 20_000, maxMs: 40_000 },
      warmup: [10, 20, 30, 40, 50, 60, 70, 80],
      quietHours: { start: "20:00", end: "09:00" },
    });
    expect(narrowed).toMatchObject({ perMinute: 2, perHour: 150, gap: { minMs: 20_000, maxMs: 40_000 } });
    expect(narrowed.quietHours).toEqual({ start: "20:00", end: "09:00" });
  });

  it("refuse every loosening with a ValidationError naming each field, and change nothing", () => {
    const before = structuredClone(standard);
    let error: unknown;
    try {
      stricterOf(standard, {
        perHour: 151,
        gap: { minMs: 5_000, maxMs: 30_000 },
        batch: { size: 40, pause: { minMs: 5 * 60_000, maxMs: 15 * 60_000 } },
        warmup: [20, 36],
        stopAtCapping: "CAPPED",
        quietHours: { start: "22:00", end: "08:00" },
        failures: { max: 5, windowMs: 60_000 },
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ValidationError);
    const paths = (error as ValidationError).issues.map((i) => i.path).sort();
    expect(paths).toEqual(
      ["batch.size", "failures.windowMs", "gap.minMs", "perHour", "quietHours", "stopAtCapping", "warmup"].sort(),
    );
    expect(standard).toEqual(before);
  });

  it("refuse dropping quiet hours, unknown fields and malformed values", () => {
    expect(() => stricterOf(standard, { quietHours: null })).toThrow(/quietHours: must cover/);
    expect(() => stricterOf(standard, { perMinutes: 1 })).toThrow(ValidationError);
    expect(() => stricterOf(standard, { gap: { minMs: 40_000, maxMs: 30_000 } })).toThrow(/gap.maxMs/);
    expect(() => stricterOf(standard, { quietHours: { start: "25:00", end: "08:00" } })).toThrow(/quietHours.start/);
  });
});

describe("warm-up", () => {
  it("gives the day's budget from the linking on, then the profile's daily limit", () => {
    const linked = Date.UTC(2026, 0, 1, 15);
    const budgets = [0, 1, 2, 3, 4, 5, 6, 7, 30].map(
      (day) => dailyBudget(standard, linked, linked + day * DAY + 1).limit,
    );
    expect(budgets).toEqual([20, 36, 65, 117, 210, 378, 680, 1_000, 1_000]);
    expect(dailyBudget(standard, linked, linked + DAY - 1)).toEqual({ limit: 20, warmingUp: true });
  });
});

describe("quiet hours (IANA timezones through Intl)", () => {
  const night = { start: "21:00", end: "08:00" };

  it("hold in the campaign's timezone, not UTC", () => {
    // 14:30 UTC is 21:30 in Jakarta (UTC+7): quiet until 08:00 there, 01:00 UTC.
    expect(quietUntil(night, "Asia/Jakarta", Date.UTC(2026, 5, 1, 14, 30))).toBe(Date.UTC(2026, 5, 2, 1, 0));
    expect(quietUntil(night, "Asia/Jakarta", Date.UTC(2026, 5, 1, 5, 0))).toBeUndefined();
    expect(quietUntil(night, "UTC", Date.UTC(2026, 5, 1, 5, 0))).toBe(Date.UTC(2026, 5, 1, 8, 0));
  });

  it("end at the local wall time across daylight-saving changes", () => {
    // New York springs forward on 2026-03-08: 22:00 EST the night before, quiet until 08:00 EDT (12:00 UTC).
    expect(quietUntil(night, "America/New_York", Date.UTC(2026, 2, 8, 3, 0))).toBe(Date.UTC(2026, 2, 8, 12, 0));
    // And falls back on 2026-11-01: 22:00 EDT the night before, quiet until 08:00 EST (13:00 UTC).
    expect(quietUntil(night, "America/New_York", Date.UTC(2026, 10, 1, 2, 0))).toBe(Date.UTC(2026, 10, 1, 13, 0));
    // An end that never happens (02:30 is skipped): the first quiet-free instant after the gap, not a day later.
    const until = quietUntil({ start: "01:00", end: "02:30" }, "America/New_York", Date.UTC(2026, 2, 8, 6, 30));
    expect(until).toBeGreaterThan(Date.UTC(2026, 2, 8, 6, 59));
    expect(until).toBeLessThanOrEqual(Date.UTC(2026, 2, 8, 7, 30));
  });

  it("accept IANA names only", () => {
    expect(timeZoneSchema.safeParse("Europe/Lisbon").success).toBe(true);
    expect(timeZoneSchema.safeParse("Mars/Olympus").success).toBe(false);
  });
});

describe("Gaussian gaps", () => {
  it("stay within their bounds and cluster around the middle, reproducibly for a seed", () => {
    const random = seededRandom(7);
    const draws = Array.from({ length: 20_000 }, () => gaussianBetween(random, 10_000, 30_000));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(10_000);
    expect(Math.max(...draws)).toBeLessThanOrEqual(30_000);
    const middle = draws.filter((d) => d > 16_667 && d < 23_333).length / draws.length;
    expect(middle).toBeGreaterThan(0.6); // ±1 sd holds ~68% of a normal draw; a uniform one ~33%
    const again = seededRandom(7);
    expect(gaussianBetween(again, 10_000, 30_000)).toBe(draws[0]);
  });
});
