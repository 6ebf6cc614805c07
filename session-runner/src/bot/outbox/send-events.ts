import { type BotRef, type EventSink, messageStatusOf, type NewEvent, type SendItem } from "@whatsdex/core";
import type { Logger } from "pino";

export interface SendEventsOptions {
  sink: EventSink;
  bot: BotRef;
  logger: Logger;
  /** Tries before an event is given up (the store was unreachable); the message itself is not sent again. */
  attempts?: number;
  retryDelayMs?: number;
}

const iso = (timestamp: { toMillis(): number } | null | undefined) =>
  new Date(timestamp?.toMillis() ?? Date.now()).toISOString();

/**
 * What happened to the bot's outbox sends, as `message.sent` and `message.status` events. Each
 * event has a natural key (item and status), so a status reported twice — a repeated receipt, a
 * retried publish — is one event. Publishing never holds up the send loop or the socket's handlers.
 */
export class SendEvents {
  readonly #options: SendEventsOptions;
  readonly #pending = new Set<Promise<void>>();

  constructor(options: SendEventsOptions) {
    this.#options = options;
  }

  /** The send returned: WhatsApp's server has the message. */
  sent(itemId: string, item: SendItem): void {
    const { bot } = this.#options;
    const events: NewEvent[] = [];
    if (item.messageId) {
      events.push({
        type: "message.sent",
        key: `${itemId}/sent`,
        data: {
          botId: bot.botId,
          messageId: itemId,
          whatsappMessageId: item.messageId,
          to: item.to,
          contentType: item.content.type,
          sentAt: iso(item.sentAt),
        },
      });
    }
    events.push(this.#statusEvent(itemId, item, "sent"));
    this.#track(events);
  }

  /** The item reached a status past `sending` (failed, indeterminate, delivered, read). */
  status(itemId: string, item: SendItem): void {
    const status = messageStatusOf(item);
    if (status === "queued" || status === "sending") return;
    this.#track([this.#statusEvent(itemId, item, status)]);
  }

  #statusEvent(itemId: string, item: SendItem, status: "sent" | "delivered" | "read" | "failed" | "indeterminate") {
    const at =
      status === "read"
        ? item.readAt
        : status === "delivered"
          ? item.deliveredAt
          : status === "sent"
            ? item.sentAt
            : item.updatedAt;
    return {
      type: "message.status",
      key: `${itemId}/${status}`,
      data: {
        botId: this.#options.bot.botId,
        messageId: itemId,
        whatsappMessageId: item.messageId,
        to: item.to,
        status,
        error: status === "failed" || status === "indeterminate" ? item.error : null,
        at: iso(at),
      },
    } satisfies NewEvent;
  }

  /** Resolves once every event handed in so far was published or given up (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  #track(events: NewEvent[]): void {
    const pending = this.#publish(events);
    this.#pending.add(pending);
    void pending.finally(() => this.#pending.delete(pending));
  }

  async #publish(events: NewEvent[]): Promise<void> {
    const { sink, bot, logger } = this.#options;
    const attempts = this.#options.attempts ?? 3;
    for (let attempt = 1; ; attempt++) {
      try {
        await sink.publish(bot.tenantId, events);
        return;
      } catch (error) {
        if (attempt >= attempts) {
          logger.error({ err: error, types: events.map((e) => e.type) }, "could not publish send events; given up");
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, (this.#options.retryDelayMs ?? 1_000) * attempt));
      }
    }
  }
}
