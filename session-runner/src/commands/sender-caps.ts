import type { BotLimits } from "@whatsdex/core";

/** Which daily cap refused a command. */
export type CapHit = { cap: "commands" | "ai"; limit: number; tell: boolean };

interface Counts {
  commands: number;
  ai: number;
  /** The caps this sender was told about today (bits of TOLD): each is explained once a day, then silent. */
  told: number;
}

/** One bit per cap, so an entry stays three small numbers (up to maxSenders of them per bot). */
const TOLD: Record<CapHit["cap"], number> = { commands: 1, ai: 2 };

/** UTC days, like `usageDay`: the plan's counters and these caps turn over together. */
const DAY_MS = 86_400_000;

/** Senders remembered per bot and day; beyond it the longest-known one is forgotten (and starts over). */
const DEFAULT_MAX_SENDERS = 10_000;

/**
 * One bot's per-sender daily caps (`settings.limits`): how many commands, and how many of them AI or
 * search, each WhatsApp user got answered today (UTC, like the plan's counters). In memory on the
 * owning instance: a plain Map bounded in size and emptied at the day boundary, so a restart or a
 * move to another instance starts the counts over (approximate by design, see ADR 10).
 */
export class SenderCaps {
  readonly #now: () => number;
  readonly #maxSenders: number;
  readonly #counts = new Map<string, Counts>();
  /** When today's counts end (the next UTC midnight): checked per command instead of formatting a date. */
  #dayEndsAt = Number.NEGATIVE_INFINITY;

  constructor(options: { now?: () => number; maxSenders?: number } = {}) {
    this.#now = options.now ?? Date.now;
    this.#maxSenders = options.maxSenders ?? DEFAULT_MAX_SENDERS;
  }

  /** Counts one command for `sender`, or says which cap it would exceed (counting nothing). */
  take(sender: string, ai: boolean, limits: BotLimits): CapHit | undefined {
    const now = this.#now();
    if (now >= this.#dayEndsAt) {
      this.#dayEndsAt = (Math.floor(now / DAY_MS) + 1) * DAY_MS;
      this.#counts.clear();
    }
    let counts = this.#counts.get(sender);
    if (!counts) {
      if (this.#counts.size >= this.#maxSenders) this.#forgetOldest();
      counts = { commands: 0, ai: 0, told: 0 };
      this.#counts.set(sender, counts);
    }
    const hit = (cap: CapHit["cap"], limit: number): CapHit => {
      const tell = (counts.told & TOLD[cap]) === 0;
      counts.told |= TOLD[cap];
      return { cap, limit, tell };
    };
    if (counts.commands >= limits.commandsPerSenderPerDay) return hit("commands", limits.commandsPerSenderPerDay);
    if (ai && counts.ai >= limits.aiPerSenderPerDay) return hit("ai", limits.aiPerSenderPerDay);
    counts.commands += 1;
    if (ai) counts.ai += 1;
    return undefined;
  }

  /** A sixteenth of the senders at once, longest known first: one walk of the Map per many new senders. */
  #forgetOldest(): void {
    let left = Math.max(1, Math.floor(this.#maxSenders / 16));
    for (const sender of this.#counts.keys()) {
      this.#counts.delete(sender);
      if (--left === 0) break;
    }
  }

  /** Senders counted today (for tests and metrics). */
  get size(): number {
    return this.#counts.size;
  }
}
