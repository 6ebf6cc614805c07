import type { proto, WAMessage, WAMessageKey } from "baileys";
import { LRUCache } from "lru-cache";

export interface RecentMessagesOptions {
  /** At most this many messages are kept. */
  max: number;
  /** And at most this many bytes of encoded message content. */
  maxBytes: number;
  /** Retries come within minutes; older entries are dropped even when there is room. */
  ttlMs: number;
}

const keyOf = (remoteJid: string | null | undefined, id: string | null | undefined) =>
  remoteJid && id ? `${remoteJid}|${id}` : undefined;

/**
 * What this bot recently sent, for Baileys' `getMessage`: when a recipient's device could not
 * decrypt a message it asks for a retry, and Baileys re-encrypts the original content, which it
 * asks us for. Bounded by count, bytes and age, because one runner holds hundreds of bots. The
 * store outlives the socket: a retry often arrives after a reconnect.
 */
export class RecentMessages {
  readonly #cache: LRUCache<string, proto.IMessage>;

  constructor(options: RecentMessagesOptions) {
    this.#cache = new LRUCache<string, proto.IMessage, unknown>({
      max: options.max,
      maxSize: options.maxBytes,
      ttl: options.ttlMs,
      // A rough but cheap size: the JSON form is within a small factor of the protobuf's.
      sizeCalculation: (message) => Math.max(1, JSON.stringify(message).length),
    });
  }

  remember(message: WAMessage | undefined): void {
    const key = keyOf(message?.key.remoteJid, message?.key.id);
    if (key && message?.message) this.#cache.set(key, message.message);
  }

  get(key: WAMessageKey): proto.IMessage | undefined {
    const name = keyOf(key.remoteJid, key.id);
    return name ? this.#cache.get(name) : undefined;
  }

  get size(): number {
    return this.#cache.size;
  }

  get bytes(): number {
    return this.#cache.calculatedSize;
  }
}
