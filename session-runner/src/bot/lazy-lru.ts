/**
 * lru-cache options for at most `max` entries whose slots are allocated as entries arrive.
 * lru-cache's own `max` allocates every slot up front (16 bytes of heap per slot, 16 more with a
 * TTL, and typed arrays beside), paid by each bot of the hundreds one runner holds, most of them
 * nearly idle; counted through `maxSize` instead, its arrays grow with use (docs/benchmarks,
 * runner-memory). Eviction is the same: least recently used first, once there are `max`.
 */
export function lazyMax(max: number): { maxSize: number; sizeCalculation: () => number } {
  return { maxSize: max, sizeCalculation: () => 1 };
}
