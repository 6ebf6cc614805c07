import type { CacheStore } from "baileys";
import { LRUCache } from "lru-cache";
import { lazyMax } from "../lazy-lru.ts";

/**
 * Baileys' CacheStore over a bounded LRU. Used for the message-retry counters, which must outlive
 * one socket (a retry storm that spans a reconnect still stops at Baileys' limit) and must not grow
 * without bound on a bot that receives many undecryptable messages.
 */
export function lruCacheStore(options: { max: number; ttlMs: number }): CacheStore {
  const cache = new LRUCache<string, { value: unknown }>({ ...lazyMax(options.max), ttl: options.ttlMs });
  return {
    // Baileys' declared signature is generic in the value type; the store gives back what was put.
    get: <T>(key: string) => cache.get(key)?.value as T | undefined,
    set: <T>(key: string, value: T) => {
      cache.set(key, { value });
    },
    del: (key) => cache.delete(key),
    flushAll: () => cache.clear(),
  };
}
