/** A clock a test moves by hand, so expiries and deadlines are exercised without waiting for them. */
export function manualClock(start = Date.now()): { now: () => number; advance: (ms: number) => number } {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}
