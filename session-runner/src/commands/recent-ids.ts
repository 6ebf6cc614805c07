/**
 * "Have we seen this id lately?" for at least the last `keep` ids and at most twice that: two
 * generations of Sets, the older dropped whole when the newer fills. Memory grows with use (an idle
 * bot holds nothing) and each check is two Set lookups, with no per-entry bookkeeping: this runs
 * on every message a bot receives.
 */
export class RecentIds {
  readonly #keep: number;
  #current = new Set<string>();
  #previous = new Set<string>();

  constructor(keep: number) {
    if (!Number.isInteger(keep) || keep < 1) throw new RangeError("keep must be a positive integer");
    this.#keep = keep;
  }

  /** True if `id` was seen before; otherwise remembers it. */
  seen(id: string): boolean {
    if (this.#current.has(id) || this.#previous.has(id)) return true;
    if (this.#current.size >= this.#keep) {
      this.#previous = this.#current;
      this.#current = new Set();
    }
    this.#current.add(id);
    return false;
  }

  get size(): number {
    return this.#current.size + this.#previous.size;
  }
}
