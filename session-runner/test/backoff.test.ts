import { manualClock } from "@whatsdex/core/testing";
import { describe, expect, it } from "vitest";
import { Backoff } from "../src/bot/session/backoff.ts";

describe("reconnect backoff", () => {
  const options = { initialMs: 10, maxMs: 100, stableMs: 1_000, loopCloses: 4, loopWindowMs: 500 };

  it("doubles up to the maximum, jittered between half and all of each step", () => {
    const clock = manualClock();
    const top = new Backoff({ ...options, random: () => 1, now: clock.now, loopCloses: 99 });
    const bottom = new Backoff({ ...options, random: () => 0, now: clock.now, loopCloses: 99 });
    const delays = (b: Backoff) =>
      Array.from({ length: 6 }, () => {
        clock.advance(1_000);
        return b.nextDelay();
      });
    expect(delays(top)).toEqual([10, 20, 40, 80, 100, 100]);
    expect(delays(bottom)).toEqual([5, 10, 20, 40, 50, 50]);
  });

  it("resets only after a connection stayed open for the stable period", () => {
    const clock = manualClock();
    const backoff = new Backoff({ ...options, random: () => 1, now: clock.now });
    backoff.nextDelay();
    backoff.nextDelay();
    clock.advance(600);
    backoff.opened();
    clock.advance(500); // open, but not for long enough
    expect(backoff.nextDelay()).toBe(40);
    clock.advance(600);
    backoff.opened();
    clock.advance(1_000);
    expect(backoff.nextDelay()).toBe(10);
  });

  it("goes straight to the maximum when closes come in a tight loop", () => {
    const clock = manualClock();
    const backoff = new Backoff({ ...options, random: () => 1, now: clock.now });
    const delays = Array.from({ length: 4 }, () => {
      clock.advance(50);
      return backoff.nextDelay();
    });
    expect(delays).toEqual([10, 20, 40, 100]);
  });
});
