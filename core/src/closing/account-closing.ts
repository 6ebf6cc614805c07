import { type CollectionReference, type DocumentReference, type Firestore, Timestamp } from "firebase-admin/firestore";
import { type TenantAccess, tenantNotFound } from "../access/access-service.ts";
import { principalId } from "../access/principal.ts";
import { type AuditContext, AuditLog } from "../audit/audit-log.ts";
import { UnauthenticatedError, ValidationError } from "../errors/domain-error.ts";
import { zodConverter } from "../firestore/converter.ts";
import { collections, tenantDeletionPath } from "../firestore/paths.ts";
import type { Refs } from "../firestore/refs.ts";
import { type OutboxItem, pendingOutboxItem } from "../outbox/schema.ts";
import { type TenantDeletionDoc, tenantDeletionDocSchema } from "./schema.ts";

/** How long the closing waits for the bots' runners to log them out before it goes on without them. */
export const LOGOUT_WAIT_MS = 2 * 60_000;

const converter = zodConverter(tenantDeletionDocSchema);

export function tenantDeletionsCollection(db: Firestore): CollectionReference<TenantDeletionDoc> {
  return db.collection(collections.tenantDeletions).withConverter(converter);
}

export function tenantDeletionRef(db: Firestore, tenantId: string): DocumentReference<TenantDeletionDoc> {
  return db.doc(tenantDeletionPath(tenantId)).withConverter(converter);
}

export interface AccountClosingOptions {
  audit?: AuditLog;
  /** How long `await_logouts` waits (default LOGOUT_WAIT_MS). */
  logoutWaitMs?: number;
}

/**
 * Asking for an account to be closed, and how far it got. The asking is one transaction: the tenant
 * becomes `deleting` (refused everywhere but here, ADR 23), every bot is told to stop with a logout
 * queued for its runner, and the `tenantDeletions/{t}` record is created, which starts the steps
 * that delete everything (ClosingRunner). Asking again changes nothing and answers the same record.
 */
export class AccountClosing {
  readonly #refs: Refs;
  readonly #audit: AuditLog;
  readonly #logoutWaitMs: number;

  constructor(refs: Refs, options: AccountClosingOptions = {}) {
    this.#refs = refs;
    this.#audit = options.audit ?? new AuditLog(refs.db);
    this.#logoutWaitMs = options.logoutWaitMs ?? LOGOUT_WAIT_MS;
  }

  async request(
    access: TenantAccess,
    confirm: string,
    context: AuditContext,
  ): Promise<{ deletion: TenantDeletionDoc; started: boolean }> {
    const { tenantId, principal } = access;
    // The permission says so too; this keeps the service safe whatever route calls it.
    if (principal.kind !== "user") throw new UnauthenticatedError("Only a signed-in owner can close the account.");
    const tenantRef = this.#refs.tenant(tenantId);
    const deletionRef = tenantDeletionRef(this.#refs.db, tenantId);
    return this.#refs.db.runTransaction(
      async (tx) => {
        const tenant = (await tx.get(tenantRef)).data();
        const existing = (await tx.get(deletionRef)).data();
        if (!tenant) throw tenantNotFound();
        if (confirm !== tenant.name) {
          throw new ValidationError("To close the account, confirm with the tenant's exact name.", [
            { path: "body.confirm", message: "must be the tenant's exact name" },
          ]);
        }
        if (existing) return { deletion: existing, started: false };
        // Read raw: one malformed bot document must not keep the owner from closing the account.
        const bots = await tx.get(this.#refs.bots(tenantId).withConverter(null));
        const now = Timestamp.now();
        const requestedBy = principalId(principal);
        const logouts: TenantDeletionDoc["logouts"] = [];
        for (const bot of bots.docs) {
          const itemRef = this.#refs.outbox(tenantId, bot.id).doc();
          const item: OutboxItem = { ...pendingOutboxItem(requestedBy, now), kind: "logout" };
          tx.update(bot.ref, { desiredState: "stopped", updatedAt: now });
          tx.create(itemRef, item);
          logouts.push({ botId: bot.id, outboxId: itemRef.id });
        }
        const deletion: TenantDeletionDoc = {
          phase: "cancel_subscription",
          requestedBy,
          requestedAt: now,
          updatedAt: now,
          subscriptionId: tenant.stripeSubscriptionId,
          customerId: tenant.stripeCustomerId,
          logouts,
          logoutDeadline: Timestamp.fromMillis(now.toMillis() + this.#logoutWaitMs),
          unconfirmedBots: [],
          failures: 0,
          lastError: null,
          claim: null,
          doneAt: null,
        };
        tx.update(tenantRef, { status: "deleting", updatedAt: now });
        tx.create(deletionRef, deletion);
        // Deleted with the tenant, like the rest of its log; the closing record above outlives it.
        this.#audit.record(tx, tenantId, context, {
          action: "tenant.closing_requested",
          target: `tenant:${tenantId}`,
          before: { status: tenant.status },
          after: { status: "deleting", botsLoggedOut: logouts.length },
        });
        return { deletion, started: true };
      },
      { maxAttempts: 50 },
    );
  }

  /** How far the closing got; null when none was asked for. */
  async status(tenantId: string): Promise<TenantDeletionDoc | null> {
    return (await tenantDeletionRef(this.#refs.db, tenantId).get()).data() ?? null;
  }
}
