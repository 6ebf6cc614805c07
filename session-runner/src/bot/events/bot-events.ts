import { derivedId, type NewEvent } from "@whatsdex/core";
import type { GroupParticipant, ParticipantAction, WAMessage } from "baileys";
import type { Identity } from "../../identity/person.ts";
import type { BotState } from "../session/status-writer.ts";
import { EventOutlet, type EventOutletOptions } from "./event-outlet.ts";
import { type InboundMedia, personRef, receivedMessageOf } from "./message-events.ts";

/** Keeps an inbound message's media where `GET …/bots/{b}/media/{id}` finds it; false when it could not. */
export type KeepMedia = (mediaId: string, raw: WAMessage, media: InboundMedia) => Promise<boolean>;

export interface BotEventsOptions extends EventOutletOptions {
  /** What the bot's person store knows of a JID (both forms where it has seen them). */
  resolve: (jid: string) => Identity | undefined;
  keepMedia: KeepMedia;
}

/**
 * One bot's happenings → events for the tenant's webhooks: messages it received, its connection
 * states and QR codes (after the fenced status write, so a deposed runner tells nobody), and group
 * participant changes. Publishing never blocks the socket's handlers; whether anyone listens is the
 * sink's business, except for inbound media, which is downloaded and kept only when someone does.
 */
export class BotEvents {
  readonly #options: BotEventsOptions;
  readonly #outlet: EventOutlet;

  constructor(options: BotEventsOptions) {
    this.#options = options;
    this.#outlet = new EventOutlet(options);
  }

  /** Resolves once every event handed in so far was published or given up (tests, shutdown). */
  idle(): Promise<void> {
    return this.#outlet.idle();
  }

  received(raw: WAMessage): void {
    const { bot, resolve } = this.#options;
    const received = receivedMessageOf(raw, bot.botId, resolve);
    if (!received) return;
    this.#outlet.track(async () => {
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
      await this.#outlet.publishNow([{ type: "message.received", data, key, at: Date.parse(data.sentAt) }]);
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
    this.#outlet.publish([
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
    ]);
  }

  /** The bot's state, as just written to its document. */
  status(state: BotState, reason: string | null, phoneNumber: string | null): void {
    this.#outlet.publish([
      {
        type: "bot.status",
        data: { botId: this.#options.bot.botId, state, reason, phoneNumber, at: new Date().toISOString() },
      },
    ]);
  }

  /** A QR code to link the bot, as just written to its linking document. */
  qr(qr: string): void {
    this.#outlet.publish([
      { type: "bot.qr", data: { botId: this.#options.bot.botId, qr, at: new Date().toISOString() } },
    ]);
  }

  async #subscribed(type: NewEvent["type"]): Promise<boolean> {
    return this.#options.sink.subscribed(this.#options.bot.tenantId, type).catch(() => true);
  }
}
