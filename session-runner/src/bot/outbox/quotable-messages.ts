import { areJidsSameUser, type proto, type WAMessage, type WAMessageKey } from "baileys";
import { LRUCache } from "lru-cache";

export interface QuotableMessagesOptions {
  max: number;
  maxBytes: number;
  ttlMs: number;
  /** The bot's own recent sends (its RecentMessages), which this store does not copy. */
  own: (key: WAMessageKey) => proto.IMessage | undefined;
}

/** The same chat, whichever of its two addresses (LID or phone number) each side used. */
function sameChat(key: WAMessageKey, chat: string): boolean {
  return [key.remoteJid, key.remoteJidAlt].some((jid) => jid && (jid === chat || areJidsSameUser(jid, chat)));
}

/**
 * What an API send may reply to or react to: a message the bot received recently (kept here,
 * bounded by count, bytes and age, since one runner holds hundreds of bots) or one it sent (from
 * its recent sends). Baileys needs the full message to quote it and its key to react to it; an
 * id the runner no longer knows cannot be quoted, and the send fails with `quoted_not_found`.
 */
export class QuotableMessages {
  readonly #received: LRUCache<string, WAMessage>;
  readonly #own: QuotableMessagesOptions["own"];

  constructor(options: QuotableMessagesOptions) {
    this.#own = options.own;
    this.#received = new LRUCache<string, WAMessage, unknown>({
      max: options.max,
      maxSize: options.maxBytes,
      ttl: options.ttlMs,
      sizeCalculation: (message) => Math.max(1, JSON.stringify(message.message ?? {}).length),
    });
  }

  /** A message the bot received (not its own echo, nor one without content). */
  received(message: WAMessage): void {
    if (message.key.fromMe || !message.key.id || !message.message) return;
    this.#received.set(message.key.id, message);
  }

  /** The message `id` in `chat`, as Baileys quotes it; undefined if it is not (or no longer) known. */
  find(chat: string, id: string): WAMessage | undefined {
    const received = this.#received.get(id);
    if (received) return sameChat(received.key, chat) ? received : undefined;
    const key: WAMessageKey = { remoteJid: chat, fromMe: true, id };
    const own = this.#own(key);
    return own ? { key, message: own } : undefined;
  }
}
