/**
 * Reconnect delays: exponential with jitter, between half and all of the step (so a fleet that lost WhatsApp at once does not
 * come back at once), reset only after a connection stayed open for `stableMs`, and pushed to the
 * maximum when closes come in a tight loop (`loopCloses` within `loopWindowMs`).
 */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  stableMs: number;
  loopCloses: number;
  loopWindowMs: number;
  random?: () => number;
  now?: () => number;
}

export class Backoff {
  readonly #options: BackoffOptions;
  #attempt = 0;
  #openedAt: number | undefined;
  readonly #closes: number[] = [];

  constructor(options: BackoffOptions) {
    this.#options = options;
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }

  opened(): void {
    this.#openedAt = this.#now();
  }

  /** The delay before the next attempt, after a close. */
  nextDelay(): number {
    const now = this.#now();
    if (this.#openedAt !== undefined && now - this.#openedAt >= this.#options.stableMs) this.#attempt = 0;
    this.#openedAt = undefined;
    this.#closes.push(now);
    while (this.#closes.length > 0 && now - (this.#closes[0] ?? now) > this.#options.loopWindowMs) this.#closes.shift();
    const ceiling =
      this.#closes.length >= this.#options.loopCloses
        ? this.#options.maxMs
        : Math.min(this.#options.maxMs, this.#options.initialMs * 2 ** this.#attempt);
    this.#attempt += 1;
    const random = this.#options.random ?? Math.random;
    return Math.round(ceiling / 2 + (random() * ceiling) / 2);
  }

  get attempt(): number {
    return this.#attempt;
  }
}
