import type { HeldLease, OutboxService, Receipt, WriteFence } from "@whatsdex/core";
import { type MessageUserReceiptUpdate, proto, type WAMessageUpdate } from "baileys";
import { LRUCache } from "lru-cache";
import type { Logger } from "pino";
import type { SendEvents } from "./send-events.ts";

export interface DeliveryReceiptsOptions {
  outbox: OutboxService;
  lease: HeldLease;
  fence: WriteFence;
  events: SendEvents;
  logger: Logger;
  /** Recent sends remembered (WhatsApp id → outbox item, or "not an outbox send"); older ones are looked up. */
  remember?: number;
  now?: () => number;
}

const { DELIVERY_ACK, READ, PLAYED } = proto.WebMessageInfo.Status;

/** WhatsApp's status of a one-to-one message, as a receipt; server acks and errors are not receipts. */
function receiptOf(status: number | null | undefined): Receipt | undefined {
  if (status === DELIVERY_ACK) return "delivered";
  // A voice note played was heard: read, for the API.
  if (status === READ || status === PLAYED) return "read";
  return undefined;
}

/**
 * Delivery and read receipts for the bot's outbox sends, from the socket: `messages.update` for a
 * person, `message-receipt.update` (one per member) for a group, where the first member's device
 * counts. Each receipt updates its item fenced by the lease and only forwards, then publishes a
 * `message.status`. Receipts for one message are applied in order, after its send was recorded
 * (the simulator, like a fast phone, can acknowledge before the send's own write lands).
 */
export class DeliveryReceipts {
  readonly #options: DeliveryReceiptsOptions;
  readonly #now: () => number;
  /** Recent sends: the outbox item, or null for a send that was not one (command replies need no query). */
  readonly #items: LRUCache<string, { itemId: string | null }>;
  /** Per WhatsApp id, the tail of its receipts' work (the first link is its send's outcome). */
  readonly #chains = new Map<string, Promise<void>>();
  readonly #receiving = new Set<Promise<void>>();

  constructor(options: DeliveryReceiptsOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#items = new LRUCache({ max: options.remember ?? 1_000 });
  }

  /** An outbox item is about to be sent as `whatsappId`: call the returned function once its outcome is written. */
  sending(whatsappId: string, itemId: string): () => void {
    this.#items.set(whatsappId, { itemId });
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#chain(whatsappId, () => promise);
    return resolve;
  }

  /** The bot sent something outside the outbox (a command's reply): its receipts concern no item. */
  sentElsewhere(whatsappId: string | null | undefined): void {
    if (whatsappId && !this.#items.has(whatsappId)) this.#items.set(whatsappId, { itemId: null });
  }

  updates(updates: readonly WAMessageUpdate[]): void {
    for (const { key, update } of updates) {
      const receipt = receiptOf(update.status);
      if (key.fromMe && key.id && receipt) this.#receive(key.id, receipt, this.#now());
    }
  }

  groupReceipts(receipts: readonly MessageUserReceiptUpdate[]): void {
    for (const { key, receipt } of receipts) {
      if (!key.fromMe || !key.id) continue;
      if (receipt.readTimestamp || receipt.playedTimestamp) {
        this.#receive(key.id, "read", this.#atMs(receipt.readTimestamp ?? receipt.playedTimestamp));
      } else if (receipt.receiptTimestamp) {
        this.#receive(key.id, "delivered", this.#atMs(receipt.receiptTimestamp));
      }
    }
  }

  /** Resolves once every receipt handed in so far was applied (tests, shutdown; after the sends in flight). */
  async idle(): Promise<void> {
    while (this.#receiving.size > 0) await Promise.allSettled([...this.#receiving]);
  }

  #atMs(seconds: number | { toNumber(): number } | null | undefined): number {
    const value = typeof seconds === "number" ? seconds : seconds?.toNumber();
    return value ? value * 1000 : this.#now();
  }

  #receive(whatsappId: string, receipt: Receipt, atMs: number): void {
    const applied = this.#chain(whatsappId, async () => {
      const { outbox, lease, fence, events } = this.#options;
      const itemId = await this.#itemOf(whatsappId);
      if (!itemId) return;
      const next = await outbox.recordReceipt(lease, fence, itemId, receipt, atMs);
      if (next) events.status(itemId, next);
    });
    this.#receiving.add(applied);
    void applied.finally(() => this.#receiving.delete(applied));
  }

  async #itemOf(whatsappId: string): Promise<string | undefined> {
    const known = this.#items.get(whatsappId);
    if (known) return known.itemId ?? undefined;
    // Sent before this runtime (a restart, another owner): one indexed query, remembered either way.
    const itemId = await this.#options.outbox.findSend(this.#options.lease, whatsappId);
    this.#items.set(whatsappId, { itemId: itemId ?? null });
    return itemId;
  }

  #chain(whatsappId: string, work: () => Promise<void>): Promise<void> {
    const previous = this.#chains.get(whatsappId) ?? Promise.resolve();
    const next = previous.then(work).catch((error: unknown) => {
      this.#options.logger.warn({ err: error, whatsappId }, "could not record a receipt");
    });
    this.#chains.set(whatsappId, next);
    void next.finally(() => {
      if (this.#chains.get(whatsappId) === next) this.#chains.delete(whatsappId);
    });
    return next;
  }
}
