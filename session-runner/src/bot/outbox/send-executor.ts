import type { HeldLease, MediaStore, OutboxContent, OutboxItem, OutboxService, WriteFence } from "@whatsdex/core";
import { type AnyMessageContent, DisconnectReason, type WAMessage } from "baileys";
import type { Logger } from "pino";
import { statusCodeOf } from "../../transport/disconnect.ts";
import type { TransportSocket } from "../../transport/transport.ts";

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
}

export type SendOutcome = "sent" | "failed" | "indeterminate" | "skipped";

class SendTimeout extends Error {}
class MediaMissing extends Error {}

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
    const { outbox, lease, fence, session } = this.#options;
    const claim = await outbox.claim(lease, fence, itemId);
    if (claim.kind === "skip") return "skipped";
    if (claim.kind === "indeterminate") return "indeterminate";
    const item = claim.item;
    if (item.kind !== "send") throw new Error(`${itemId} is a ${item.kind} command, not a message`);

    const socket = session.socket;
    if (session.state !== "open" || !socket) {
      await outbox.complete(lease, fence, itemId, {
        status: "failed",
        error: { code: "not_connected", message: `The bot is not connected to WhatsApp (state ${session.state}).` },
      });
      return "failed";
    }
    let content: AnyMessageContent;
    try {
      content = await this.#content(item.content);
    } catch (error) {
      if (!(error instanceof MediaMissing)) throw error;
      await outbox.complete(lease, fence, itemId, {
        status: "failed",
        error: { code: "media_missing", message: error.message },
      });
      return "failed";
    }
    try {
      await this.#send(socket, item, content);
    } catch (error) {
      return this.#recordFailure(itemId, error);
    }
    await outbox.complete(lease, fence, itemId, { status: "done" });
    if (item.content.type !== "text") {
      await this.#options.media?.delete(lease, item.content.mediaId).catch((error: unknown) => {
        this.#options.logger.warn({ err: error, itemId }, "could not delete sent media");
      });
    }
    return "sent";
  }

  /** The Baileys content of an item: text as it is, media loaded from where the job left it. */
  async #content(content: OutboxContent): Promise<AnyMessageContent> {
    if (content.type === "text") return { text: content.text };
    const media = await this.#options.media?.get(this.#options.lease, content.mediaId);
    if (!media) throw new MediaMissing(`The media ${content.mediaId} for this message is gone.`);
    if (content.type === "sticker") return { sticker: media.data, isAnimated: content.animated };
    return {
      image: media.data,
      mimetype: media.mimetype,
      ...(content.caption === null ? {} : { caption: content.caption }),
    };
  }

  async #send(
    socket: TransportSocket,
    item: Extract<OutboxItem, { kind: "send" }>,
    content: AnyMessageContent,
  ): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new SendTimeout()), this.#options.sendTimeoutMs);
    });
    try {
      const sent = await Promise.race([
        socket.sendMessage(item.to, content, item.messageId ? { messageId: item.messageId } : {}),
        timeout,
      ]);
      this.#options.onSent?.(sent);
    } finally {
      clearTimeout(timer);
    }
  }

  async #recordFailure(itemId: string, error: unknown): Promise<SendOutcome> {
    const { outbox, lease, fence, logger } = this.#options;
    // A closed connection refuses before anything is relayed; every other failure may come after.
    if (statusCodeOf(error) === DisconnectReason.connectionClosed) {
      await outbox.complete(lease, fence, itemId, {
        status: "failed",
        error: { code: "not_connected", message: "The connection closed before the message was sent." },
      });
      return "failed";
    }
    logger.warn({ err: error, itemId }, "send outcome unknown");
    const timedOut = error instanceof SendTimeout;
    await outbox.complete(lease, fence, itemId, {
      status: "indeterminate",
      error: timedOut
        ? { code: "send_timeout", message: `No acknowledgement within ${this.#options.sendTimeoutMs} ms.` }
        : { code: "send_error", message: error instanceof Error ? error.message : String(error) },
    });
    return "indeterminate";
  }
}
