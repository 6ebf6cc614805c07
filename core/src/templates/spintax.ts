/**
 * Spintax choices drawn from a seed, so a retried rendering (a redelivered job, a runner that took
 * over) produces the very text the first attempt did, while different recipients get different
 * variants. The seed is the campaign and the person: `spinSeed(campaignId, personId)`.
 */

/** FNV-1a over the UTF-16 units: a 32-bit hash, fast and good enough to spread seeds. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The seed of one recipient's rendering of one campaign. */
export function spinSeed(campaignId: string, personId: string): number {
  return fnv1a(`${campaignId}\u0000${personId}`);
}

/** A picker of alternatives: `pick(n)` is in [0, n). */
export type Pick = (n: number) => number;

/**
 * mulberry32: a tiny PRNG with a 32-bit state whose outputs pass the usual statistical tests; each
 * spintax group consumes one draw, in the order rendering meets them.
 */
export function seededPick(seed: number): Pick {
  let state = seed >>> 0;
  return (n) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const unit = ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
    return Math.floor(unit * n);
  };
}
