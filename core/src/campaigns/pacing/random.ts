/** A source of uniform numbers in [0, 1): `Math.random` in production, seeded in tests and benchmarks. */
export type Random = () => number;

/** mulberry32: small, fast and reproducible; for pacing jitter, not for anything secret. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * A Gaussian draw (Box-Muller) centred in [min, max] with the range as ±3 standard deviations,
 * clamped to it: gaps cluster around the middle like a person's, and never leave the bounds.
 */
export function gaussianBetween(random: Random, min: number, max: number): number {
  if (max <= min) return min;
  const u = 1 - random(); // (0, 1]: log(0) is never taken
  const v = random();
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  const value = (min + max) / 2 + (z * (max - min)) / 6;
  return Math.round(Math.min(max, Math.max(min, value)));
}
