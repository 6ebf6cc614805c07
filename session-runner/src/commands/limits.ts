import { LRUCache } from "lru-cache";

export interface BucketSpec {
  /** Commands allowed in a burst. */
  capacity: number;
  /** Tokens regained per second. */
  refillPerSecond: number;
}

/**
 * Token buckets by key, in memory: a bot has exactly one owning instance, so its limits need no
 * shared store, and losing them on a restart costs nothing. Bounded, so a flood of new senders
 * cannot grow memory.
 */
export class TokenBuckets {
  readonly #spec: BucketSpec;
  readonly #now: () => number;
  readonly #buckets: LRUCache<string, { tokens: number; at: number }>;

  constructor(spec: BucketSpec, options: { max?: number; now?: () => number } = {}) {
    this.#spec = spec;
    this.#now = options.now ?? Date.now;
    this.#buckets = new LRUCache({ max: options.max ?? 10_000 });
  }

  /** Takes a token if there is one. */
  take(key: string): boolean {
    const now = this.#now();
    const bucket = this.#buckets.get(key) ?? { tokens: this.#spec.capacity, at: now };
    const tokens = Math.min(
      this.#spec.capacity,
      bucket.tokens + ((now - bucket.at) / 1000) * this.#spec.refillPerSecond,
    );
    if (tokens < 1) {
      this.#buckets.set(key, { tokens, at: now });
      return false;
    }
    this.#buckets.set(key, { tokens: tokens - 1, at: now });
    return true;
  }
}

/** "Not again before …", by key: cooldowns, and how often a refusal is explained to one person. */
export class Cooldowns {
  readonly #until: LRUCache<string, number>;
  readonly #now: () => number;

  constructor(options: { max?: number; now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
    this.#until = new LRUCache({ max: options.max ?? 10_000 });
  }

  /** Milliseconds left, or 0 when free (then the cooldown starts anew). */
  hit(key: string, ms: number): number {
    const now = this.#now();
    const until = this.#until.get(key) ?? 0;
    if (until > now) return until - now;
    this.#until.set(key, now + ms);
    return 0;
  }
}
