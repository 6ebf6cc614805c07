import { type BotRef, derivedId, type EventSink, type NewEvent } from "@whatsdex/core";
import type { GroupParticipant, ParticipantAction, WAMessage } from "baileys";
import type { Logger } from "pino";
import type { Identity } from "../../identity/person.ts";
import type { BotState } from "../session/status-writer.ts";
import { type InboundMedia, personRef, receivedMessageOf } from "./message-events.ts";

/** Keeps an inbound message's media where `GET …/bots/{b}/media/{id}` finds it; false when it could not. */
export type KeepMedia = (mediaId: string, raw: WAMessage, media: InboundMedia) => Promise<boolean>;

export interface BotEventsOptions {
  sink: EventSink;
  bot: BotRef;
  logger: Logger;
  /** What the bot's person store knows of a JID (both forms where it has seen them). */
  resolve: (jid: string) => Identity | undefined;
  keepMedia: KeepMedia;
  /** Tries before an event is given up (the store was unreachable); a WhatsApp message is not sent again. */
  attempts?: number;
  retryDelayMs?: number;
}

/**
 * One bot's happenings → events for the tenant's webhooks: messages it received, its connection
 * states and QR codes (after the fenced status write, so a deposed runner tells nobody), and group
 * participant changes. Publishing never blocks the socket's handlers; whether anyone listens is the
 * sink's business, except for inbound media, which is downloaded and kept only when someone does.
 */
export class BotEvents {
  readonly #options: BotEventsOptions;
  readonly #pending = new Set<Promise<void>>();

  constructor(options: BotEventsOptions) {
    this.#options = options;
  }

  /** Resolves once every event handed in so far was published or given up (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  received(raw: WAMessage): void {
    const { bot, resolve } = this.#options;
    const received = receivedMessageOf(raw, bot.botId, resolve);
    if (!received) return;
    this.#track(async () => {
      const { data, media, key } = received;
      if (media && "mediaId" in data.content) {
        const mediaId = derivedId("in", bot.botId, key);
        if (await this.#subscribed("message.received")) {
          const kept = await this.#options.keepMedia(mediaId, raw, media).catch((error: unknown) => {
            this.#options.logger.warn({ err: error }, "could not keep an inbound message's media");
            return false;
          });
          if (kept) data.content.mediaId = mediaId;
        }
      }
      await this.#publish([{ type: "message.received", data, key, at: Date.parse(data.sentAt) }]);
    });
  }

  participants(update: {
    id: string;
    author?: string | null;
    authorPn?: string | null;
    participants: GroupParticipant[];
    action: ParticipantAction;
  }): void {
    const { bot, resolve } = this.#options;
    const ref = (p: { id: string; phoneNumber?: string | null | undefined; lid?: string | null | undefined }) =>
      personRef(p.id, p.phoneNumber ?? p.lid ?? null, resolve(p.id), null);
    this.#track(() =>
      this.#publish([
        {
          type: "group.participants",
          data: {
            botId: bot.botId,
            group: update.id,
            action: update.action,
            author: update.author
              ? personRef(update.author, update.authorPn ?? null, resolve(update.author), null)
              : null,
            participants: update.participants.slice(0, 256).map(ref),
            at: new Date().toISOString(),
          },
        },
      ]),
    );
  }

  /** The bot's state, as just written to its document. */
  status(state: BotState, reason: string | null, phoneNumber: string | null): void {
    this.#track(() =>
      this.#publish([
        {
          type: "bot.status",
          data: { botId: this.#options.bot.botId, state, reason, phoneNumber, at: new Date().toISOString() },
        },
      ]),
    );
  }

  /** A QR code to link the bot, as just written to its linking document. */
  qr(qr: string): void {
    this.#track(() =>
      this.#publish([{ type: "bot.qr", data: { botId: this.#options.bot.botId, qr, at: new Date().toISOString() } }]),
    );
  }

  async #subscribed(type: NewEvent["type"]): Promise<boolean> {
    return this.#options.sink.subscribed(this.#options.bot.tenantId, type).catch(() => true);
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
          logger.error({ err: error, types: events.map((e) => e.type) }, "could not publish events; given up");
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, (this.#options.retryDelayMs ?? 1_000) * attempt));
      }
    }
  }

  #track(work: () => Promise<void>): void {
    const pending = work().catch((error: unknown) => {
      this.#options.logger.error({ err: error }, "event publishing failed");
    });
    this.#pending.add(pending);
    void pending.finally(() => this.#pending.delete(pending));
  }
}
