export interface BucketSpec {
  /** Commands allowed in a burst. */
  capacity: number;
  /** Tokens regained per second. */
  refillPerSecond: number;
}

/** How many senders (or sender and command pairs) one bot remembers before it forgets the oldest. */
const DEFAULT_MAX = 10_000;

/**
 * Values by key, each mattering until a known time; at most `max`, the oldest write forgotten
 * first, and entries past their time forgotten as later writes pass them. A Map grows with use:
 * lru-cache preallocates its slot arrays at `max` (~160 KiB of heap at 10,000), which for four
 * limits per bot was most of a held bot's memory (docs/benchmarks, runner-memory).
 */
export class ExpiringMap<V> {
  readonly #max: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, { value: V; until: number }>();

  constructor(options: { max: number; now?: () => number }) {
    if (!Number.isInteger(options.max) || options.max < 1) throw new RangeError("max must be a positive integer");
    this.#max = options.max;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The value, unless it was forgotten or its time has passed. */
  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.until <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Keeps `value` until `until` (ms since the epoch; Infinity: until forgotten as the oldest). */
  set(key: string, value: V, until = Number.POSITIVE_INFINITY): void {
    // Deleted first so that the Map's order stays the order of writes.
    this.#entries.delete(key);
    this.#entries.set(key, { value, until });
    const now = this.#now();
    // Each entry is removed once, so the sweep costs O(1) per write on average.
    for (const [oldest, entry] of this.#entries) {
      if (this.#entries.size <= this.#max && entry.until > now) break;
      this.#entries.delete(oldest);
    }
  }
}

/**
 * Token buckets by key, in memory: a bot has exactly one owning instance, so its limits need no
 * shared store, and losing them on a restart costs nothing. Bounded, so a flood of new senders
 * cannot grow memory; a bucket that has filled up again is the same as none and is dropped.
 */
export class TokenBuckets {
  readonly #spec: BucketSpec;
  readonly #now: () => number;
  readonly #buckets: ExpiringMap<{ tokens: number; at: number }>;

  constructor(spec: BucketSpec, options: { max?: number; now?: () => number } = {}) {
    this.#spec = spec;
    this.#now = options.now ?? Date.now;
    this.#buckets = new ExpiringMap({ max: options.max ?? DEFAULT_MAX, now: this.#now });
  }

  /** Buckets held (not full). */
  get size(): number {
    return this.#buckets.size;
  }

  /** Takes a token if there is one. */
  take(key: string): boolean {
    const { capacity, refillPerSecond } = this.#spec;
    const now = this.#now();
    const bucket = this.#buckets.get(key) ?? { tokens: capacity, at: now };
    const tokens = Math.min(capacity, bucket.tokens + ((now - bucket.at) / 1000) * refillPerSecond);
    const left = tokens < 1 ? tokens : tokens - 1;
    const fullAt = left >= capacity ? now : now + ((capacity - left) / refillPerSecond) * 1000;
    this.#buckets.set(key, { tokens: left, at: now }, fullAt);
    return tokens >= 1;
  }
}

/** "Not again before …", by key: cooldowns, and how often a refusal is explained to one person. */
export class Cooldowns {
  readonly #until: ExpiringMap<number>;
  readonly #now: () => number;

  constructor(options: { max?: number; now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
    this.#until = new ExpiringMap({ max: options.max ?? DEFAULT_MAX, now: this.#now });
  }

  /** Cooldowns running. */
  get size(): number {
    return this.#until.size;
  }

  /** Milliseconds left, or 0 when free (then the cooldown starts anew). */
  hit(key: string, ms: number): number {
    const now = this.#now();
    const until = this.#until.get(key);
    if (until !== undefined) return until - now;
    this.#until.set(key, now + ms, now + ms);
    return 0;
  }
}
