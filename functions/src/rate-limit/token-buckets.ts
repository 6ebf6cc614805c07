import type { Plan } from "@whatsdex/core";
import { LRUCache } from "lru-cache";

export type RequestBudget = Plan["apiRequestsPerKey"];

/** Where a caller stands after asking for one request. */
export interface BucketState {
  allowed: boolean;
  /** Whole requests left in the bucket. */
  remaining: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
  /** Seconds until the next request can succeed (0 when it can now). */
  retryAfterSeconds: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets by key, in memory. At most `maxKeys` buckets are kept (least recently used go
 * first); a forgotten bucket comes back full, which is what an idle one would have become anyway.
 * lru-cache allocates its arrays for `maxKeys` up front, so keep it modest.
 */
export class TokenBuckets {
  readonly #buckets: LRUCache<string, Bucket>;
  readonly #now: () => number;

  constructor(options: { maxKeys: number; now: () => number }) {
    this.#buckets = new LRUCache({ max: options.maxKeys });
    this.#now = options.now;
  }

  /** Takes one token from `key`'s bucket if there is one. */
  take(key: string, budget: RequestBudget): BucketState {
    return this.#visit(key, budget, true);
  }

  /** Where `key` stands, taking nothing. */
  peek(key: string, budget: RequestBudget): BucketState {
    return this.#visit(key, budget, false);
  }

  get size(): number {
    return this.#buckets.size;
  }

  #visit(key: string, budget: RequestBudget, take: boolean): BucketState {
    const now = this.#now();
    const stored = this.#buckets.get(key);
    const elapsedSeconds = stored ? Math.max(0, now - stored.at) / 1000 : 0;
    let tokens = stored ? Math.min(budget.burst, stored.tokens + elapsedSeconds * budget.perSecond) : budget.burst;
    const allowed = tokens >= 1;
    if (take) {
      if (allowed) tokens -= 1;
      this.#buckets.set(key, { tokens, at: now });
    }
    return {
      allowed,
      remaining: Math.floor(tokens),
      resetSeconds: Math.ceil((budget.burst - tokens) / budget.perSecond),
      retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((1 - tokens) / budget.perSecond)),
    };
  }
}
