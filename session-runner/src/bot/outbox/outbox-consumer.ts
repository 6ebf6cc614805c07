import {
  type HeldLease,
  type OutboxItem,
  type OutboxService,
  outboxCollectionPath,
  outboxItemSchema,
  type WriteFence,
  zodConverter,
} from "@whatsdex/core";
import type { Firestore, Query, QueryDocumentSnapshot } from "firebase-admin/firestore";
import type { Logger } from "pino";
import type { CommandExecutor } from "./command-executor.ts";
import type { SendExecutor } from "./send-executor.ts";

export interface OutboxConsumerOptions {
  db: Firestore;
  outbox: OutboxService;
  lease: HeldLease;
  fence: WriteFence;
  sends: SendExecutor;
  commands: CommandExecutor;
  logger: Logger;
  /** Sends wait while the bot is not connected (a reconnect takes seconds)… */
  isOpen: () => boolean;
  /** …but no longer than this: then they fail as not connected. */
  maxWaitMs: number;
  /** Seconds from enqueue to pickup, by kind (metrics). */
  onPickup?: (kind: OutboxItem["kind"], lagSeconds: number) => void;
  now?: () => number;
}

const converter = zodConverter(outboxItemSchema);
/** Pending items are read oldest first, this many per snapshot; the rest follow as these finish. */
const WINDOW = 50;

/**
 * The owning runner's loop over one bot's outbox: a snapshot listener on its pending items (so a
 * dashboard command or API message is picked up at once, not at the next poll), run one at a time
 * in the order they were queued. Commands always run; sends wait for an open connection, up to
 * `maxWaitMs`. Each item is claimed before it runs, so a second delivery or a second instance runs
 * nothing twice.
 */
export class OutboxConsumer {
  readonly #options: OutboxConsumerOptions;
  readonly #now: () => number;
  #pending: Array<{ id: string; item: OutboxItem }> = [];
  /** Commands found by `pollCommands` beyond the listener's window; kept until run, whatever snapshots say. */
  readonly #polled = new Map<string, { id: string; item: OutboxItem }>();
  /** Ids run since they were last seen pending: the snapshot that drops them may lag the claim. */
  readonly #handled = new Set<string>();
  #unsubscribe: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #loop: Promise<void> = Promise.resolve();
  #looping = false;
  #again = false;
  #stopped = false;

  constructor(options: OutboxConsumerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  #collection(): Query<OutboxItem> {
    const { db, lease } = this.#options;
    return db.collection(outboxCollectionPath(lease.tenantId, lease.botId)).withConverter(converter);
  }

  /** The items that parse; one malformed document is logged and left alone, never a stuck loop. */
  #parse(docs: ReadonlyArray<QueryDocumentSnapshot<OutboxItem>>): Array<{ id: string; item: OutboxItem }> {
    return docs.flatMap((doc) => {
      try {
        return [{ id: doc.id, item: doc.data() }];
      } catch (error) {
        this.#options.logger.error({ err: error, itemId: doc.id }, "outbox item does not parse; skipping it");
        return [];
      }
    });
  }

  /** Settles what a previous owner left half-done, then follows the pending items. */
  async start(): Promise<void> {
    await this.#recover();
    if (this.#stopped) return;
    this.#unsubscribe = this.#collection()
      .where("status", "==", "pending")
      .orderBy("createdAt")
      .limit(WINDOW)
      .onSnapshot(
        (snapshot) => {
          this.#pending = this.#parse(snapshot.docs);
          const present = new Set(this.#pending.map(({ id }) => id));
          for (const id of this.#handled) if (!present.has(id)) this.#handled.delete(id);
          this.kick();
        },
        (error) => this.#options.logger.error({ err: error }, "outbox listener failed"),
      );
    // Waiting sends are re-examined now and then, so that one past its wait fails even if nothing else happens.
    // Items this owner claimed and never finished (a completion write that failed) are settled too.
    this.#timer = setInterval(
      () => {
        this.kick();
        const { outbox, lease, fence, logger } = this.#options;
        outbox
          .expireOverdue(lease, fence)
          .catch((error: unknown) => logger.warn({ err: error }, "expiring overdue items failed"));
      },
      Math.max(1_000, Math.round(this.#options.maxWaitMs / 4)),
    );
  }

  /**
   * Items left `processing` by an earlier generation (its runner died mid-item): claiming them
   * again settles them — a send becomes indeterminate, a command runs again.
   */
  async #recover(): Promise<void> {
    const { lease, sends, commands } = this.#options;
    const stale = await this.#collection().where("status", "==", "processing").get();
    for (const { id, item } of this.#parse(stale.docs)) {
      if (item.claim?.generation === lease.generation) continue;
      await (item.kind === "send" ? sends.run(id) : commands.run(id));
    }
  }

  /** Something changed (new items, or the connection opened): run what can run now. */
  kick(): void {
    if (this.#stopped) return;
    if (this.#looping) {
      this.#again = true;
      return;
    }
    this.#looping = true;
    this.#loop = this.#drainPending()
      .catch((error: unknown) => this.#options.logger.error({ err: error }, "outbox item failed"))
      .finally(() => {
        this.#looping = false;
        if (this.#again && !this.#stopped) {
          this.#again = false;
          this.kick();
        }
      });
  }

  async #drainPending(): Promise<void> {
    const { sends, commands, isOpen, maxWaitMs } = this.#options;
    const inWindow = new Set(this.#pending.map(({ id }) => id));
    const queue = [...this.#pending, ...[...this.#polled.values()].filter(({ id }) => !inWindow.has(id))].sort(
      (a, b) => a.item.createdAt.toMillis() - b.item.createdAt.toMillis(),
    );
    for (const { id, item } of queue) {
      if (this.#stopped) return;
      if (this.#handled.has(id)) {
        this.#polled.delete(id);
        continue;
      }
      // A campaign's message is the campaign driver's to send, after its typing time and pacing.
      if (item.kind === "send" && item.campaign) continue;
      if (item.kind === "send" && !isOpen() && this.#now() - item.createdAt.toMillis() < maxWaitMs) continue;
      this.#handled.add(id);
      this.#options.onPickup?.(item.kind, (this.#now() - item.createdAt.toMillis()) / 1000);
      try {
        await (item.kind === "send" ? sends.run(id) : commands.run(id));
        this.#polled.delete(id);
      } catch (error) {
        // Not claimed, or claimed and not finished (a failed write): a later pass tries it again
        // (a claimed send is then settled as indeterminate, never sent twice).
        this.#handled.delete(id);
        throw error;
      }
    }
  }

  /**
   * The bot document changed (a connect request rewrites it): look for pending commands directly,
   * in case they sit behind a full window of waiting messages.
   */
  async pollCommands(): Promise<void> {
    if (this.#stopped) return;
    const found = await this.#collection()
      .where("status", "==", "pending")
      .where("kind", "in", ["connect", "disconnect", "logout"])
      .get();
    const known = new Set(this.#pending.map(({ id }) => id));
    const added = this.#parse(found.docs).filter(({ id }) => !known.has(id) && !this.#handled.has(id));
    if (added.length === 0) return;
    for (const entry of added) this.#polled.set(entry.id, entry);
    this.kick();
  }

  /** Stops following the outbox; waits for the item in hand to finish. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    clearInterval(this.#timer);
    await this.#loop;
  }

  /**
   * The bot is no longer wanted: run its remaining commands (a logout still logs out), close
   * connects that never ran, and fail messages that will not be sent now, rather than leaving them
   * pending for a bot that may never run again.
   */
  async drainStopped(): Promise<void> {
    const { lease, sends, commands } = this.#options;
    const pending = await this.#collection()
      .where("status", "in", ["pending", "processing"])
      .orderBy("createdAt")
      .get();
    for (const { id, item } of this.#parse(pending.docs)) {
      if (item.status === "processing" && item.claim?.generation === lease.generation) continue;
      if (item.kind === "send") {
        await sends.cancel(id);
      } else if (item.kind === "connect") {
        await commands.supersede(id);
      } else {
        await commands.run(id);
      }
    }
  }
}
