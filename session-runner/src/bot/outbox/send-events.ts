import { messageStatusOf, type NewEvent, type SendItem } from "@whatsdex/core";
import { EventOutlet, type EventOutletOptions } from "../events/event-outlet.ts";

export type SendEventsOptions = EventOutletOptions;

const iso = (timestamp: { toMillis(): number } | null | undefined) =>
  new Date(timestamp?.toMillis() ?? Date.now()).toISOString();

/**
 * What happened to the bot's outbox sends, as `message.sent` and `message.status` events. Each
 * event has a natural key (item and status), so a status reported twice — a repeated receipt, a
 * retried publish — is one event. Publishing never holds up the send loop or the socket's handlers.
 */
export class SendEvents {
  readonly #options: SendEventsOptions;
  readonly #outlet: EventOutlet;

  constructor(options: SendEventsOptions) {
    this.#options = options;
    this.#outlet = new EventOutlet(options);
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
  idle(): Promise<void> {
    return this.#outlet.idle();
  }

  #track(events: NewEvent[]): void {
    this.#outlet.publish(events);
  }
}
