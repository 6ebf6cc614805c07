import type { HeldLease, MediaStore, OutboxService, SendItem, WriteFence } from "@whatsdex/core";
import { type AnyMessageContent, DisconnectReason, type WAMessage, type WAMessageKey } from "baileys";
import type { Logger } from "pino";
import { statusCodeOf } from "../../transport/disconnect.ts";
import type { SendOptions, TransportSocket } from "../../transport/transport.ts";
import type { DeliveryReceipts } from "./delivery-receipts.ts";
import type { SendEvents } from "./send-events.ts";

/** What the executor needs of the bot's session: whether it is open, and its socket. */
export interface SendingSession {
  readonly state: string;
  readonly socket: TransportSocket | undefined;
}

export interface SendExecutorOptions {
  outbox: OutboxService;
  lease: HeldLease;
  fence: WriteFence;
  session: SendingSession;
  logger: Logger;
  /** Longer than this and the outcome counts as unknown (the claim's deadline is the backstop). */
  sendTimeoutMs: number;
  /** Where media items' bytes wait (a job put them there); absent, media items fail. */
  media?: MediaStore;
  /** What went out, for the bot's recent-message store (retries re-encrypt from it). */
  onSent?: (message: WAMessage | undefined) => void;
  /** `message.sent` / `message.status` for each outcome (absent only where nobody could listen: the orphan settler). */
  events?: SendEvents;
  /** Told of each send before it goes out, so its receipts find the item (and wait for its outcome). */
  receipts?: DeliveryReceipts;
  /** A recent message of `chat` to reply or react to (see QuotableMessages); absent, replies fail. */
  quotable?: (chat: string, id: string) => WAMessage | undefined;
}

export type SendOutcome = "sent" | "failed" | "indeterminate" | "skipped";

class SendTimeout extends Error {}
/** The item cannot be sent as it is (its media or quoted message is gone): failed, nothing sent. */
class Unsendable extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * Executes `send` items from the bot's outbox, each at most once: the claim reserves the WhatsApp
 * message id, a bot that is not connected fails the item explicitly, and a send whose fate cannot
 * be known (timeout, error after it may have left) is recorded as `indeterminate`, never retried.
 */
export class SendExecutor {
  readonly #options: SendExecutorOptions;

  constructor(options: SendExecutorOptions) {
    this.#options = options;
  }

  async run(itemId: string): Promise<SendOutcome> {
    const { outbox, lease, fence, session, events } = this.#options;
    const claim = await outbox.claim(lease, fence, itemId);
    if (claim.kind === "skip") return "skipped";
    if (claim.kind === "indeterminate") {
      if (claim.item.kind === "send") this.#finished(itemId, claim.item);
      return "indeterminate";
    }
    const item = claim.item;

    if (item.kind !== "send") throw new Error(`${itemId} is a ${item.kind} command, not a message`);

    const socket = session.socket;
    if (session.state !== "open" || !socket) {
      return this.#fail(itemId, "not_connected", `The bot is not connected to WhatsApp (state ${session.state}).`);
    }
    let message: { content: AnyMessageContent; options: SendOptions };
    try {
      message = await this.#message(item);
    } catch (error) {
      if (!(error instanceof Unsendable)) throw error;
      return this.#fail(itemId, error.code, error.message);
    }
    // Receipts for this id wait until its outcome is written (the recipient can be faster than Firestore).
    const recorded = item.messageId ? this.#options.receipts?.sending(item.messageId, itemId) : undefined;
    try {
      try {
        await this.#send(socket, item, message);
      } catch (error) {
        return await this.#recordFailure(itemId, error);
      }
      const sent = await outbox.complete(lease, fence, itemId, { status: "done" });
      if (sent.kind === "send") {
        events?.sent(itemId, sent);
        this.#deleteMedia(itemId, sent);
      }
      return "sent";
    } finally {
      recorded?.();
    }
  }

  /** For a bot that is no longer wanted: a message not yet sent fails as `bot_stopped`, and says so. */
  async cancel(itemId: string): Promise<SendOutcome> {
    const { outbox, lease, fence } = this.#options;
    const claim = await outbox.claim(lease, fence, itemId);
    if (claim.kind === "skip") return "skipped";
    if (claim.kind === "indeterminate") {
      if (claim.item.kind === "send") this.#finished(itemId, claim.item);
      return "indeterminate";
    }
    return this.#fail(itemId, "bot_stopped", "The bot was stopped before this message was sent.");
  }

  async #fail(itemId: string, code: string, message: string): Promise<SendOutcome> {
    const failed = await this.#options.outbox.complete(this.#options.lease, this.#options.fence, itemId, {
      status: "failed",
      error: { code, message },
    });
    if (failed.kind === "send") this.#finished(itemId, failed);
    return "failed";
  }

  /** A send that ended without going out (or without knowing): its status event, and its media is no longer needed. */
  #finished(itemId: string, item: SendItem): void {
    this.#options.events?.status(itemId, item);
    this.#deleteMedia(itemId, item);
  }

  #deleteMedia(itemId: string, item: SendItem): void {
    if (!("mediaId" in item.content)) return;
    this.#options.media?.delete(this.#options.lease, item.content.mediaId).catch((error: unknown) => {
      this.#options.logger.warn({ err: error, itemId }, "could not delete a sent message's media");
    });
  }

  /** The Baileys content and options of an item: media loaded from the bot's copy, replies and reactions resolved. */
  async #message(item: SendItem): Promise<{ content: AnyMessageContent; options: SendOptions }> {
    const content = item.content;
    const options: SendOptions = item.messageId ? { messageId: item.messageId } : {};
    if (content.type !== "reaction" && content.quotedId) {
      const quoted = this.#options.quotable?.(item.to, content.quotedId);
      if (!quoted) {
        throw new Unsendable(
          "quoted_not_found",
          `The message ${content.quotedId} to reply to is not one the bot sent or received in this chat recently.`,
        );
      }
      options.quoted = quoted;
    }
    const mentions = "mentions" in content && content.mentions?.length ? { mentions: content.mentions } : {};
    switch (content.type) {
      case "text":
        return { content: { text: content.text, ...mentions }, options };
      case "location":
        return {
          content: {
            location: {
              degreesLatitude: content.latitude,
              degreesLongitude: content.longitude,
              ...(content.name === undefined ? {} : { name: content.name }),
              ...(content.address === undefined ? {} : { address: content.address }),
            },
          },
          options,
        };
      case "contact":
        return {
          content: {
            contacts: {
              displayName: content.displayName,
              contacts: [{ displayName: content.displayName, vcard: content.vcard }],
            },
          },
          options,
        };
      case "reaction":
        return {
          content: { react: { text: content.emoji, key: this.#reactionKey(item.to, content.target) } },
          options,
        };
    }
    const media = await this.#options.media?.get(this.#options.lease, content.mediaId);
    if (!media) throw new Unsendable("media_missing", `The media ${content.mediaId} for this message is gone.`);
    const caption = "caption" in content && content.caption !== null ? { caption: content.caption } : {};
    const { data, mimetype } = media;
    switch (content.type) {
      case "image":
        return { content: { image: data, mimetype, ...caption, ...mentions }, options };
      case "video":
        return {
          content: { video: data, mimetype, gifPlayback: content.gifPlayback, ...caption, ...mentions },
          options,
        };
      case "audio":
        return { content: { audio: data, mimetype, ptt: content.voiceNote }, options };
      case "document":
        return { content: { document: data, mimetype, fileName: content.fileName, ...caption }, options };
      case "sticker":
        return { content: { sticker: data, mimetype, isAnimated: content.animated }, options };
    }
  }

  /** WhatsApp's key of the message reacted to: as the bot saw it when it still knows it, else as the API named it. */
  #reactionKey(chat: string, target: { id: string; fromMe: boolean; participant?: string | undefined }): WAMessageKey {
    const known = this.#options.quotable?.(chat, target.id)?.key;
    if (known) return known;
    return {
      remoteJid: chat,
      fromMe: target.fromMe,
      id: target.id,
      ...(target.participant ? { participant: target.participant } : {}),
    };
  }

  async #send(
    socket: TransportSocket,
    item: SendItem,
    message: { content: AnyMessageContent; options: SendOptions },
  ): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new SendTimeout()), this.#options.sendTimeoutMs);
    });
    try {
      const sent = await Promise.race([socket.sendMessage(item.to, message.content, message.options), timeout]);
      this.#options.onSent?.(sent);
    } finally {
      clearTimeout(timer);
    }
  }

  async #recordFailure(itemId: string, error: unknown): Promise<SendOutcome> {
    const { outbox, lease, fence, logger } = this.#options;
    // A closed connection refuses before anything is relayed; every other failure may come after.
    if (statusCodeOf(error) === DisconnectReason.connectionClosed) {
      return this.#fail(itemId, "not_connected", "The connection closed before the message was sent.");
    }
    logger.warn({ err: error, itemId }, "send outcome unknown");
    const timedOut = error instanceof SendTimeout;
    const unknown = await outbox.complete(lease, fence, itemId, {
      status: "indeterminate",
      error: timedOut
        ? { code: "send_timeout", message: `No acknowledgement within ${this.#options.sendTimeoutMs} ms.` }
        : { code: "send_error", message: error instanceof Error ? error.message : String(error) },
    });
    if (unknown.kind === "send") this.#finished(itemId, unknown);
    return "indeterminate";
  }
}
