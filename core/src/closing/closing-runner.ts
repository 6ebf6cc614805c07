import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { FieldPath, type Firestore, Timestamp } from "firebase-admin/firestore";
import type { Logger } from "pino";
import { outboxItemPath, tenantPath } from "../firestore/paths.ts";
import type { MediaStore } from "../media/media-store.ts";
import { tenantDeletionRef, tenantDeletionsCollection } from "./account-closing.ts";
import { type ClosingPhase, closingPhases, type TenantDeletionDoc } from "./schema.ts";

/**
 * Cancels the tenant's Stripe subscription. Must succeed when it is already cancelled (a retried
 * step calls it again); any failure is retried by the next run, never skipped.
 */
/** Ends the tenant's subscriptions in Stripe now: the one recorded on it, and any other live one of its customer. */
export type CancelSubscription = (
  tenantId: string,
  stripe: { customerId: string | null; subscriptionId: string | null },
) => Promise<void>;

export interface ClosingRunnerOptions {
  db: Firestore;
  media: MediaStore;
  cancelSubscription: CancelSubscription;
  logger: Logger;
  /** How long one run may hold a closing before another may take it over (default 5 minutes). */
  claimMs?: number;
  /** How often a run looks at the logouts while it waits for them (default 2 s). */
  pollMs?: number;
  now?: () => number;
}

export type StepOutcome =
  | { kind: "advanced"; phase: ClosingPhase }
  | { kind: "waiting"; phase: "await_logouts"; until: Date }
  | { kind: "skipped"; reason: "missing" | "done" | "claimed" };

/** A run that was overtaken (its claim lapsed and another run took the closing): it stops. */
class ClaimLostError extends Error {}

const SETTLED_OUTBOX = new Set(["done", "failed", "indeterminate"]);
/** The statuses a sweep looks for: everything but `done`. */
const UNFINISHED = closingPhases.filter((phase) => phase !== "done");

/**
 * Carries an account closing (`tenantDeletions/{t}`) through its phases: cancel the subscription,
 * wait (bounded) for the bots' runners to log them out, delete the tenant's media, delete its
 * Firestore data recursively, done. Each phase is idempotent and is recorded only once finished,
 * so a run that dies halfway is resumed by the next from the phase it was in; a claim keeps a
 * trigger and a sweep from running one closing at once. Started by the record's creation
 * (functions' onTenantClosing) and resumed by a scheduled sweep.
 */
export class ClosingRunner {
  readonly #options: ClosingRunnerOptions;
  readonly #owner = randomUUID();
  readonly #now: () => number;

  constructor(options: ClosingRunnerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Runs the closing as far as it goes: until it is done, or (with `wait`) waiting for the logouts
   * as long as their deadline allows; without `wait`, it stops at the first wait (a sweep moves on
   * to the next closing and comes back to this one later).
   */
  async run(tenantId: string, { wait = true }: { wait?: boolean } = {}): Promise<StepOutcome> {
    for (;;) {
      const outcome = await this.step(tenantId);
      if (outcome.kind === "skipped" || (outcome.kind === "advanced" && outcome.phase === "done")) return outcome;
      if (outcome.kind === "waiting") {
        if (!wait) return outcome;
        await sleep(Math.max(0, Math.min(this.#options.pollMs ?? 2_000, outcome.until.getTime() - this.#now())));
      }
    }
  }

  /**
   * One phase: claims the closing, does what its phase says and records the next phase. A failure is
   * recorded (the phase stays, for the next run) and thrown.
   */
  async step(tenantId: string): Promise<StepOutcome> {
    const claimed = await this.#claim(tenantId);
    if (claimed.kind === "skipped") return claimed;
    const { deletion } = claimed;
    const logger = this.#options.logger.child({ tenantId, phase: deletion.phase });
    try {
      switch (deletion.phase) {
        case "cancel_subscription":
          if (deletion.subscriptionId || deletion.customerId) {
            const { customerId, subscriptionId } = deletion;
            await this.#options.cancelSubscription(tenantId, { customerId, subscriptionId });
          }
          return await this.#advance(tenantId, "cancel_subscription", "await_logouts");
        case "await_logouts": {
          const unconfirmed = await this.#unconfirmedLogouts(tenantId, deletion);
          const deadline = deletion.logoutDeadline.toMillis();
          if (unconfirmed.length > 0 && this.#now() < deadline) {
            await this.#release(tenantId);
            return { kind: "waiting", phase: "await_logouts", until: new Date(deadline) };
          }
          if (unconfirmed.length > 0) {
            // Their credentials go with the data; WhatsApp may list the device until the phone removes it.
            logger.warn({ botIds: unconfirmed }, "bots did not confirm their logout in time; deleting anyway");
          }
          return await this.#advance(tenantId, "await_logouts", "delete_media", { unconfirmedBots: unconfirmed });
        }
        case "delete_media":
          await this.#options.media.deleteTenant(tenantId);
          return await this.#advance(tenantId, "delete_media", "delete_data");
        case "delete_data":
          await this.#deleteData(tenantId);
          // Again: a runner that had not let go yet may have kept a received image meanwhile.
          await this.#options.media.deleteTenant(tenantId);
          logger.info("account closed: the tenant's data is deleted");
          return await this.#advance(tenantId, "delete_data", "done", { doneAt: Timestamp.fromMillis(this.#now()) });
        case "done":
          return { kind: "skipped", reason: "done" };
      }
    } catch (error) {
      if (error instanceof ClaimLostError) return { kind: "skipped", reason: "claimed" };
      await this.#failed(tenantId, deletion.phase, error).catch((recordError: unknown) =>
        logger.error({ err: recordError }, "could not record the closing's failure"),
      );
      throw error;
    }
  }

  /**
   * Closings not done and not held by a live run that nobody touched for `staleMs`: what a crashed
   * run or a failed step left. Each is run in turn; a failure is logged and the next one goes on.
   */
  async sweep({
    staleMs,
    limit = 20,
    onlyTenants,
  }: {
    staleMs: number;
    limit?: number;
    /** Only these tenants' closings (tests sharing an emulator keep to their own). */
    onlyTenants?: readonly string[];
  }): Promise<string[]> {
    const { db, logger } = this.#options;
    const cutoff = Timestamp.fromMillis(this.#now() - staleMs);
    // Firestore takes one `in` beside an inequality: a test's own tenants are filtered here instead.
    const snapshot = onlyTenants
      ? await tenantDeletionsCollection(db).where(FieldPath.documentId(), "in", onlyTenants).get()
      : await tenantDeletionsCollection(db)
          .where("phase", "in", UNFINISHED)
          .where("updatedAt", "<=", cutoff)
          .orderBy("updatedAt")
          .limit(limit)
          .get();
    const stale = snapshot.docs.filter(
      (doc) => doc.data().phase !== "done" && doc.data().updatedAt.toMillis() <= cutoff.toMillis(),
    );
    const resumed: string[] = [];
    for (const doc of stale) {
      const claim = doc.data().claim;
      if (claim && claim.until.toMillis() > this.#now()) continue;
      resumed.push(doc.id);
      try {
        await this.run(doc.id, { wait: false });
      } catch (error) {
        logger.error({ err: error, tenantId: doc.id }, "account closing failed again; the next sweep retries");
      }
    }
    return resumed;
  }

  async #claim(
    tenantId: string,
  ): Promise<{ kind: "claimed"; deletion: TenantDeletionDoc } | Extract<StepOutcome, { kind: "skipped" }>> {
    const { db } = this.#options;
    const ref = tenantDeletionRef(db, tenantId);
    return db.runTransaction(async (tx) => {
      const deletion = (await tx.get(ref)).data();
      if (!deletion) return { kind: "skipped", reason: "missing" } as const;
      if (deletion.phase === "done") return { kind: "skipped", reason: "done" } as const;
      const now = this.#now();
      if (deletion.claim && deletion.claim.owner !== this.#owner && deletion.claim.until.toMillis() > now) {
        return { kind: "skipped", reason: "claimed" } as const;
      }
      const claim = { owner: this.#owner, until: Timestamp.fromMillis(now + (this.#options.claimMs ?? 5 * 60_000)) };
      tx.update(ref, { claim });
      return { kind: "claimed", deletion: { ...deletion, claim } } as const;
    });
  }

  /**
   * Records the phase done, if this run still holds the closing (else someone else carries it on).
   * The claim is kept (renewed) for the next phase, so no other run slips in between phases; it is
   * let go when the closing is done, waits, or fails.
   */
  async #advance(
    tenantId: string,
    from: ClosingPhase,
    to: ClosingPhase,
    extra: Partial<Pick<TenantDeletionDoc, "unconfirmedBots" | "doneAt">> = {},
  ): Promise<StepOutcome> {
    const { db } = this.#options;
    const ref = tenantDeletionRef(db, tenantId);
    await db.runTransaction(async (tx) => {
      const deletion = (await tx.get(ref)).data();
      if (!deletion || deletion.phase !== from || deletion.claim?.owner !== this.#owner) throw new ClaimLostError();
      const now = this.#now();
      const claim =
        to === "done"
          ? null
          : { owner: this.#owner, until: Timestamp.fromMillis(now + (this.#options.claimMs ?? 5 * 60_000)) };
      tx.update(ref, { ...extra, phase: to, updatedAt: Timestamp.fromMillis(now), claim });
    });
    return { kind: "advanced", phase: to };
  }

  async #release(tenantId: string): Promise<void> {
    const { db } = this.#options;
    const ref = tenantDeletionRef(db, tenantId);
    await db.runTransaction(async (tx) => {
      const deletion = (await tx.get(ref)).data();
      if (deletion?.claim?.owner === this.#owner) tx.update(ref, { claim: null });
    });
  }

  async #failed(tenantId: string, phase: ClosingPhase, error: unknown): Promise<void> {
    const { db } = this.#options;
    const ref = tenantDeletionRef(db, tenantId);
    const at = Timestamp.fromMillis(this.#now());
    const message = error instanceof Error ? error.message : String(error);
    await db.runTransaction(async (tx) => {
      const deletion = (await tx.get(ref)).data();
      if (!deletion || deletion.claim?.owner !== this.#owner) return;
      tx.update(ref, {
        failures: deletion.failures + 1,
        lastError: { phase, message: message.slice(0, 1_000), at },
        updatedAt: at,
        claim: null,
      });
    });
  }

  /** The bots whose queued logout no runner has carried out (a bot deleted meanwhile has nothing left to log out). */
  async #unconfirmedLogouts(tenantId: string, deletion: TenantDeletionDoc): Promise<string[]> {
    const { db } = this.#options;
    if (deletion.logouts.length === 0) return [];
    const refs = deletion.logouts.map(({ botId, outboxId }) => db.doc(outboxItemPath(tenantId, botId, outboxId)));
    const snapshots = await db.getAll(...refs);
    return deletion.logouts
      .filter((_, index) => {
        const status: unknown = snapshots[index]?.get("status");
        return snapshots[index]?.exists === true && !(typeof status === "string" && SETTLED_OUTBOX.has(status));
      })
      .map(({ botId }) => botId);
  }

  /**
   * Everything under `tenants/{t}` (members, keys, bots with their auth state, logs), by the Admin
   * SDK's BulkWriter. Whatever a straggler wrote meanwhile (a runner not yet let go) is caught by a
   * second pass; if data still remains the step fails and is retried.
   */
  async #deleteData(tenantId: string): Promise<void> {
    const { db } = this.#options;
    const tenant = db.doc(tenantPath(tenantId));
    for (let pass = 0; pass < 2; pass++) {
      await db.recursiveDelete(tenant);
      const left = await tenant.listCollections();
      if (left.length === 0 && !(await tenant.get()).exists) return;
    }
    throw new Error("the tenant's data reappeared while it was being deleted");
  }
}
