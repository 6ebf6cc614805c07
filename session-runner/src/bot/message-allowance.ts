import { type UsageService, usageDay } from "@whatsdex/core";

export interface MessageAllowanceOptions {
  usage: UsageService;
  tenantId: string;
  /** Messages reserved from the tenant's daily counter at a time. */
  block?: number;
  now?: () => number;
}

/**
 * One bot's share of its tenant's messages per day (the plan's messagesPerDay), spent locally and
 * refilled a block at a time from `usage/{day}` in a transaction: every instance and every bot of
 * the tenant draws from the same counter, which is written once per block. What a stopped or
 * crashed runner had reserved but not spent is lost for that day (at most one block per bot).
 */
export class MessageAllowance {
  readonly #options: MessageAllowanceOptions;
  readonly #block: number;
  readonly #now: () => number;
  #left = 0;
  #day = "";
  #limit = 0;
  #refill: Promise<void> | undefined;
  #exhausted = false;

  constructor(options: MessageAllowanceOptions) {
    this.#options = options;
    this.#block = options.block ?? 20;
    this.#now = options.now ?? Date.now;
  }

  /** The plan's daily limit as last seen (for the refusal's text). */
  get limit(): number {
    return this.#limit;
  }

  /** True when one more message fits in today's allowance. */
  async take(): Promise<boolean> {
    const day = usageDay(this.#now());
    if (day !== this.#day) {
      // A new UTC day: what was left of yesterday's block does not carry over.
      this.#day = day;
      this.#left = 0;
    }
    // Concurrent commands share one refill; one that finds the new block spent already waits for the
    // next. Ends: every refill either grants something (of a finite allowance) or finds it used up.
    while (this.#left === 0) {
      this.#refill ??= this.#options.usage
        .reserveMessages(this.#options.tenantId, this.#block)
        .then(({ granted, limit }) => {
          this.#left += granted;
          this.#limit = limit;
          this.#exhausted = granted === 0;
        })
        .finally(() => {
          this.#refill = undefined;
        });
      await this.#refill;
      if (this.#exhausted) break;
    }
    if (this.#left === 0) return false;
    this.#left -= 1;
    return true;
  }
}
