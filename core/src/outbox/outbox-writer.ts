import { type Firestore, Timestamp } from "firebase-admin/firestore";
import { botDocSchema } from "../bots/schema.ts";
import { zodConverter } from "../firestore/converter.ts";
import { botPath, outboxItemPath } from "../firestore/paths.ts";
import type { BotRef } from "../leases/lease-store.ts";
import { type OutboxContent, outboxItemSchema, pendingSendItem } from "./schema.ts";

export type QueueSendResult =
  | { queued: true; itemId: string }
  /** The same item exists already: a retried job, nothing new queued. */
  | { queued: false; itemId: string; reason: "exists" }
  /** The bot does not want to run (or is gone): nothing would send it. */
  | { queued: false; itemId: string; reason: "bot_stopped" | "bot_missing" };

const botConverter = zodConverter(botDocSchema);
const itemConverter = zodConverter(outboxItemSchema);

/**
 * Sends queued by the platform itself (a job's result, a campaign's message) rather than through
 * the tenant API. The caller picks the item id from its natural key, so a job that runs twice
 * queues one message; the bot must want to run, or the item would wait for nobody.
 */
export class OutboxWriter {
  readonly #db: Firestore;

  constructor(db: Firestore) {
    this.#db = db;
  }

  /** Whether the item was queued already (a job that ran before and is now retried). */
  async has(bot: BotRef, itemId: string): Promise<boolean> {
    return (await this.#db.doc(outboxItemPath(bot.tenantId, bot.botId, itemId)).get()).exists;
  }

  async queueSend(
    bot: BotRef,
    itemId: string,
    send: { to: string; content: OutboxContent; requestedBy: string },
  ): Promise<QueueSendResult> {
    const botRef = this.#db.doc(botPath(bot.tenantId, bot.botId)).withConverter(botConverter);
    const itemRef = this.#db.doc(outboxItemPath(bot.tenantId, bot.botId, itemId)).withConverter(itemConverter);
    return this.#db.runTransaction(async (tx): Promise<QueueSendResult> => {
      const [botDoc, existing] = await Promise.all([tx.get(botRef), tx.get(itemRef)]);
      if (existing.exists) return { queued: false, itemId, reason: "exists" };
      const data = botDoc.data();
      if (!data) return { queued: false, itemId, reason: "bot_missing" };
      if (data.desiredState !== "running") return { queued: false, itemId, reason: "bot_stopped" };
      tx.create(itemRef, pendingSendItem(send, Timestamp.now()));
      return { queued: true, itemId };
    });
  }
}
