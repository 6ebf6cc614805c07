import { type Firestore, Timestamp } from "firebase-admin/firestore";
import { ConflictError } from "../errors/domain-error.ts";
import { zodConverter } from "../firestore/converter.ts";
import { outboxCollectionPath, outboxItemPath } from "../firestore/paths.ts";
import type { BotRef, HeldLease, WriteFence } from "../leases/lease-store.ts";
import { type Receipt, withReceipt } from "./message-status.ts";
import { type OutboxItem, outboxItemSchema, type SendItem } from "./schema.ts";

export type ClaimResult =
  /** Do the work now (for a send: with `item.messageId`, reserved before anything went out). */
  | { kind: "run"; item: OutboxItem }
  /** Nothing to do: finished already, being run by this owner, or gone. */
  | { kind: "skip"; reason: "finished" | "running" | "missing" }
  /** A send a previous owner took and may have sent: recorded as indeterminate, never sent again. */
  | { kind: "indeterminate"; item: OutboxItem };

export type Outcome =
  | { status: "done" }
  | { status: "failed"; error: { code: string; message: string } }
  | { status: "indeterminate"; error: { code: string; message: string } };

export interface OutboxServiceOptions {
  /** A WhatsApp message id (Baileys' generator in the runner), reserved for a send before it goes out. */
  newMessageId: () => string;
  /** How long a claimed item may take before its outcome counts as unknown. */
  deadlineMs: number;
  now?: () => number;
}

const converter = zodConverter(outboxItemSchema);

/**
 * Runs each outbox item at most once, even when it is delivered twice, its runner crashes mid-send,
 * or ownership of the bot moves. A send is never retried blindly: once claimed, it either finishes
 * (done/failed) or is explicitly `indeterminate`, because WhatsApp gives no way to ask whether a
 * message went out. Commands (connect, disconnect, logout) are idempotent and simply re-run.
 * Every transition is fenced by the bot's lease.
 */
export class OutboxService {
  readonly #db: Firestore;
  readonly #options: OutboxServiceOptions;
  readonly #now: () => number;

  constructor(db: Firestore, options: OutboxServiceOptions) {
    this.#db = db;
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  #ref(bot: BotRef, itemId: string) {
    return this.#db.doc(outboxItemPath(bot.tenantId, bot.botId, itemId)).withConverter(converter);
  }

  async claim(lease: HeldLease, fence: WriteFence, itemId: string): Promise<ClaimResult> {
    const ref = this.#ref(lease, itemId);
    return this.#db.runTransaction(async (tx): Promise<ClaimResult> => {
      await fence.assertHeld(tx);
      const item = (await tx.get(ref)).data();
      if (!item) return { kind: "skip", reason: "missing" };
      if (item.status === "done" || item.status === "failed" || item.status === "indeterminate") {
        return { kind: "skip", reason: "finished" };
      }
      const now = Timestamp.fromMillis(this.#now());
      if (item.status === "processing" && item.claim?.generation === lease.generation) {
        return { kind: "skip", reason: "running" };
      }
      if (item.status === "processing" && item.kind === "send") {
        const unknown: OutboxItem = {
          ...item,
          status: "indeterminate",
          error: {
            code: "owner_changed",
            message:
              "The runner that was sending this message stopped before reporting; it may or may not have been sent.",
          },
          updatedAt: now,
        };
        tx.set(ref, unknown);
        return { kind: "indeterminate", item: unknown };
      }
      const claimed: OutboxItem = {
        ...item,
        status: "processing",
        attempts: item.attempts + 1,
        claim: {
          owner: lease.owner,
          generation: lease.generation,
          deadline: Timestamp.fromMillis(now.toMillis() + this.#options.deadlineMs),
        },
        updatedAt: now,
      };
      if (claimed.kind === "send" && claimed.messageId === null) claimed.messageId = this.#options.newMessageId();
      tx.set(ref, claimed);
      return { kind: "run", item: claimed };
    });
  }

  /** Records how a claimed item ended. Refused if this owner no longer holds the claim. */
  async complete(lease: HeldLease, fence: WriteFence, itemId: string, outcome: Outcome): Promise<OutboxItem> {
    const ref = this.#ref(lease, itemId);
    return this.#db.runTransaction(async (tx) => {
      await fence.assertHeld(tx);
      const item = (await tx.get(ref)).data();
      if (item?.status !== "processing" || item.claim?.generation !== lease.generation) {
        throw new ConflictError(
          `Outbox item ${itemId} is not claimed by this owner (status ${item?.status ?? "missing"}).`,
        );
      }
      const now = Timestamp.fromMillis(this.#now());
      const finished: OutboxItem = {
        ...item,
        status: outcome.status,
        error: outcome.status === "done" ? null : outcome.error,
        updatedAt: now,
        ...(item.kind === "send" && outcome.status === "done" ? { sentAt: now } : {}),
      };
      tx.set(ref, finished);
      return finished;
    });
  }

  /**
   * The send whose WhatsApp message id is `whatsappMessageId` (one indexed query), if it is one of
   * this bot's outbox items; command replies and other sends are not.
   */
  async findSend(bot: BotRef, whatsappMessageId: string): Promise<string | undefined> {
    const found = await this.#db
      .collection(outboxCollectionPath(bot.tenantId, bot.botId))
      .where("kind", "==", "send")
      .where("messageId", "==", whatsappMessageId)
      .limit(1)
      .get();
    return found.docs[0]?.id;
  }

  /**
   * A delivery or read receipt for a sent item, fenced by the lease and monotonic: a repeated or
   * late receipt (delivered after read) changes nothing and returns undefined.
   */
  async recordReceipt(
    lease: HeldLease,
    fence: WriteFence,
    itemId: string,
    receipt: Receipt,
    atMs: number,
  ): Promise<SendItem | undefined> {
    const ref = this.#ref(lease, itemId);
    return this.#db.runTransaction(async (tx) => {
      await fence.assertHeld(tx);
      const item = (await tx.get(ref)).data();
      if (item?.kind !== "send") return undefined;
      const next = withReceipt(item, receipt, Timestamp.fromMillis(atMs));
      if (!next) return undefined;
      tx.set(ref, { ...next, updatedAt: Timestamp.fromMillis(this.#now()) });
      return next;
    });
  }

  /**
   * Items this owner claimed whose deadline passed without an outcome (a send that hung): sends
   * become indeterminate, commands go back to pending to be run again. Returns how many changed.
   */
  async expireOverdue(lease: HeldLease, fence: WriteFence): Promise<number> {
    const now = this.#now();
    const overdue = await this.#db
      .collection(outboxCollectionPath(lease.tenantId, lease.botId))
      .withConverter(converter)
      .where("status", "==", "processing")
      .where("claim.generation", "==", lease.generation)
      .get();
    let changed = 0;
    for (const doc of overdue.docs) {
      const item = doc.data();
      if (!item.claim || item.claim.deadline.toMillis() > now) continue;
      await this.#db.runTransaction(async (tx) => {
        await fence.assertHeld(tx);
        const current = (await tx.get(doc.ref)).data();
        if (current?.status !== "processing" || current.claim?.generation !== lease.generation) return;
        const updatedAt = Timestamp.fromMillis(now);
        const next: OutboxItem =
          current.kind === "send"
            ? {
                ...current,
                status: "indeterminate",
                error: { code: "deadline_exceeded", message: "No outcome within the send deadline." },
                updatedAt,
              }
            : { ...current, status: "pending", claim: null, updatedAt };
        tx.set(doc.ref, next);
        changed++;
      });
    }
    return changed;
  }
}
