import type { HeldLease, LeaseStore } from "@whatsdex/core";

export interface LeaseKeeperOptions {
  leases: LeaseStore;
  lease: HeldLease;
  /** The watchdog fires this long before the lease expires unless a renewal pushed it back. */
  expirySafetyMs: number;
  /** The lease is about to run out unrenewed: end the bot's socket now, before anyone else may take it. */
  onExpiring: () => void;
}

/**
 * Keeps one held lease: `renew` extends it (throwing when it was lost), and a watchdog ends the
 * bot's work before the lease can expire unrenewed, so a slow or failing renewal never leaves a
 * socket alive past its lease. One per bot the instance holds; the supervisor renews them all on
 * its schedule.
 */
export class LeaseKeeper {
  readonly #options: LeaseKeeperOptions;
  #lease: HeldLease;
  #watchdog: NodeJS.Timeout | undefined;
  /** Disarmed for good once the bot is dropped or released: a renewal in flight then arms nothing. */
  #active = false;

  constructor(options: LeaseKeeperOptions) {
    this.#options = options;
    this.#lease = options.lease;
  }

  /** The lease as last renewed. */
  get lease(): HeldLease {
    return this.#lease;
  }

  /** (Re)starts the watchdog for the lease's current expiry. */
  arm(): void {
    this.#active = true;
    clearTimeout(this.#watchdog);
    const delay = this.#lease.expiresAt.getTime() - Date.now() - this.#options.expirySafetyMs;
    this.#watchdog = setTimeout(() => this.#options.onExpiring(), Math.max(0, delay));
  }

  /** Extends the lease and re-arms the watchdog; throws (LeaseLostError) when it is no longer ours. */
  async renew(): Promise<void> {
    this.#lease = await this.#options.leases.renew(this.#lease);
    if (this.#active) this.arm();
  }

  disarm(): void {
    this.#active = false;
    clearTimeout(this.#watchdog);
    this.#watchdog = undefined;
  }
}
