import type { BotRef, EventSink, NewEvent } from "@whatsdex/core";
import type { Logger } from "pino";

export interface EventOutletOptions {
  sink: EventSink;
  bot: BotRef;
  logger: Logger;
  /** Tries before events are given up (the store was unreachable); what happened is not repeated. */
  attempts?: number;
  retryDelayMs?: number;
}

/**
 * Where a bot's event producers hand their events: published in the background (never holding up
 * the socket's handlers or the send loop), retried a few times, and awaitable as a whole (`idle`)
 * before the bot lets go.
 */
export class EventOutlet {
  readonly #options: EventOutletOptions;
  readonly #pending = new Set<Promise<void>>();

  constructor(options: EventOutletOptions) {
    this.#options = options;
  }

  /** Resolves once every piece of work handed in so far has finished (published or given up). */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  /** Publishes in the background. */
  publish(events: NewEvent[]): void {
    this.track(() => this.publishNow(events));
  }

  /** Background work that ends in publishing (building a payload first, e.g. keeping media). */
  track(work: () => Promise<void>): void {
    const pending = work().catch((error: unknown) => {
      this.#options.logger.error({ err: error }, "event publishing failed");
    });
    this.#pending.add(pending);
    void pending.finally(() => this.#pending.delete(pending));
  }

  /** Publishes now, retrying; logs and gives up after the last try. */
  async publishNow(events: NewEvent[]): Promise<void> {
    const { sink, bot, logger } = this.#options;
    const attempts = this.#options.attempts ?? 3;
    for (let attempt = 1; ; attempt++) {
      try {
        await sink.publish(bot.tenantId, events);
        return;
      } catch (error) {
        if (attempt >= attempts) {
          logger.error({ err: error, types: events.map((e) => e.type) }, "could not publish events; given up");
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, (this.#options.retryDelayMs ?? 1_000) * attempt));
      }
    }
  }
}
