import { Timestamp, type Transaction } from "firebase-admin/firestore";
import type Stripe from "stripe";
import { type AuditContext, AuditLog } from "../audit/audit-log.ts";
import type { NewEvent } from "../events/schema.ts";
import { zodConverter } from "../firestore/converter.ts";
import { resourceIdSchema } from "../firestore/ids.ts";
import { stripeEventPath } from "../firestore/paths.ts";
import type { Refs } from "../firestore/refs.ts";
import type { Logger } from "../logging/logger.ts";
import { PlanCatalog, type PlanId } from "../plans/plan-catalog.ts";
import { billingSnapshot, isoNow } from "./billing-snapshot.ts";
import {
  activeCampaignsIn,
  botsOverLimit,
  pauseCampaignsOverPlan,
  runningBotsIn,
  stopBotsForPlan,
} from "./plan-effects.ts";
import {
  noBilling,
  STRIPE_EVENT_RETENTION_MS,
  type StripeEventDoc,
  stripeEventDocSchema,
  type TenantBilling,
} from "./schema.ts";
import {
  billingFromSubscription,
  effectivePlan,
  isLiveStatus,
  outboundRestricted,
  statusOf,
} from "./subscription-state.ts";

/** Where billing's events go: written in the applying transaction, queued after it commits. */
export interface BillingEventSink {
  stage(tx: Transaction, tenantId: string, events: readonly NewEvent[]): Promise<string[]>;
  dispatchStaged(tenantId: string, eventIds: readonly string[]): Promise<void>;
}

/** The Stripe event being applied: its id is the idempotency key. */
export interface StripeEventRef {
  id: string;
  type: string;
  /** Seconds since the epoch, as Stripe sends it. */
  created: number;
}

/** What an event says beyond the subscription's state. */
export type BillingNotice =
  | {
      kind: "invoice";
      type: "billing.payment_failed" | "billing.payment_action_required" | "billing.payment_succeeded";
      invoice: {
        id: string;
        amountDue: number;
        currency: string;
        hostedInvoiceUrl: string | null;
        nextPaymentAttempt: number | null;
      };
    }
  | { kind: "trial_will_end" };

export type SyncOutcome = "applied" | "stale" | "ignored" | "replayed";

export interface SubscriptionSyncOptions {
  refs: Refs;
  events: BillingEventSink;
  logger: Logger;
  /** How long outbound sending keeps working after a payment fails (default 7 days). */
  graceMs: number;
  audit?: AuditLog;
  now?: () => number;
}

const stripeEventConverter = zodConverter(stripeEventDocSchema);
/** Stripe's changes are attributed to Stripe in the audit log. */
export const stripeAuditContext: AuditContext = { actor: { kind: "system", id: "stripe" }, requestId: null };

/**
 * Applies Stripe's view of a subscription to its tenant. Each Stripe event is recorded create-only
 * in the transaction that applies it, so a redelivered event changes nothing, and a crash leaves
 * either both or neither. Order-safe: the caller re-reads the subscription from Stripe, and a read
 * older than the one already applied (a slower, concurrent delivery) is recorded as `stale` and
 * changes nothing.
 */
export class SubscriptionSync {
  readonly #refs: Refs;
  readonly #events: BillingEventSink;
  readonly #logger: Logger;
  readonly #graceMs: number;
  readonly #audit: AuditLog;
  readonly #now: () => number;

  constructor(options: SubscriptionSyncOptions) {
    this.#refs = options.refs;
    this.#events = options.events;
    this.#logger = options.logger;
    this.#graceMs = options.graceMs;
    this.#audit = options.audit ?? new AuditLog(options.refs.db);
    this.#now = options.now ?? Date.now;
  }

  /**
   * The tenant a subscription belongs to: the id our checkout put in its metadata, confirmed by the
   * customer stored on that tenant (metadata alone could name any tenant), else the tenant whose
   * customer it is. Null for a subscription that is not ours.
   */
  async tenantOf(subscription: Pick<Stripe.Subscription, "customer" | "metadata">): Promise<string | null> {
    const customerId = idOf(subscription.customer);
    const named = subscription.metadata?.tenantId;
    if (named && resourceIdSchema.safeParse(named).success) {
      const tenant = (await this.#refs.tenant(named).get()).data();
      if (tenant?.stripeCustomerId === customerId) return named;
    }
    const owners = await this.#refs.tenants().where("stripeCustomerId", "==", customerId).limit(1).get();
    return owners.docs[0]?.id ?? null;
  }

  /** Records an event that changes nothing (not ours, or a type with nothing to apply), so a replay is cheap. */
  async ignore(event: StripeEventRef, tenantId: string | null): Promise<SyncOutcome> {
    const ref = this.#eventRef(event.id);
    return this.#refs.db.runTransaction(async (tx) => {
      if ((await tx.get(ref)).exists) return "replayed";
      tx.create(ref, this.#record(event, tenantId, "ignored"));
      return "ignored";
    });
  }

  async apply(
    event: StripeEventRef,
    input: { tenantId: string; subscription: Stripe.Subscription; readAt: number; notice?: BillingNotice | undefined },
  ): Promise<SyncOutcome> {
    const { tenantId, subscription, readAt, notice } = input;
    const eventRef = this.#eventRef(event.id);
    const tenantRef = this.#refs.tenant(tenantId);
    const { outcome, staged } = await this.#refs.db.runTransaction(async (tx) => {
      const [recorded, tenantSnapshot] = await Promise.all([tx.get(eventRef), tx.get(tenantRef)]);
      if (recorded.exists) return { outcome: "replayed" as const, staged: [] };
      const tenant = tenantSnapshot.data();
      const ours =
        tenant !== undefined &&
        tenant.status !== "deleting" &&
        tenant.stripeCustomerId === idOf(subscription.customer) &&
        // A different subscription replaces the stored one only while it is live (a late event of an
        // old, cancelled subscription must not undo the new one).
        (tenant.stripeSubscriptionId === null ||
          tenant.stripeSubscriptionId === subscription.id ||
          isLiveStatus(statusOf(subscription)));
      if (!tenant || !ours) {
        tx.create(eventRef, this.#record(event, tenantId, "ignored"));
        return { outcome: "ignored" as const, staged: [] };
      }
      // Strictly newer: a read started in the same millisecond as the stored one is at least as new
      // when it came after it (one instance, one event after another), and a coin toss otherwise.
      const stale = tenant.billing.syncedAt !== null && tenant.billing.syncedAt.toMillis() > readAt;
      if (stale) {
        // The state is older than what is stored; what the event itself tells (an invoice) still goes out.
        const events = notice ? [this.#noticeEvent(event, notice, tenant.plan, tenant.billing)] : [];
        const staged = await this.#events.stage(tx, tenantId, events);
        tx.create(eventRef, this.#record(event, tenantId, "stale"));
        return { outcome: "stale" as const, staged };
      }
      const previous = tenant.stripeSubscriptionId === subscription.id ? tenant.billing : noBilling;
      const billing = billingFromSubscription(subscription, previous, { readAt, graceMs: this.#graceMs });
      const plan = effectivePlan(billing);
      // Reads before writes: the bots a smaller plan stops.
      const changed = plan !== tenant.plan;
      const [running, campaigns] = changed
        ? await Promise.all([runningBotsIn(tx, this.#refs, tenantId), activeCampaignsIn(tx, this.#refs, tenantId)])
        : [[], []];
      const stopIds = new Set(botsOverLimit(running, PlanCatalog.get(plan).maxBots));
      const stopped = running.filter((entry) => stopIds.has(entry.id));

      tx.update(tenantRef, {
        plan,
        billing,
        stripeSubscriptionId: subscription.id,
        updatedAt: Timestamp.fromMillis(this.#now()),
      });
      stopBotsForPlan(
        tx,
        { refs: this.#refs, audit: this.#audit },
        tenantId,
        stopped,
        PlanCatalog.get(plan),
        stripeAuditContext,
      );
      const pausedCampaignIds = pauseCampaignsOverPlan(
        tx,
        { refs: this.#refs, audit: this.#audit },
        tenantId,
        campaigns,
        PlanCatalog.get(plan),
        stripeAuditContext,
      );
      const events = this.#changeEvents(event, tenantId, tx, {
        before: { plan: tenant.plan, billing: tenant.billing },
        after: { plan, billing },
        stoppedBotIds: stopped.map((entry) => entry.id),
        pausedCampaignIds,
        readAt,
      });
      if (notice) events.push(this.#noticeEvent(event, notice, plan, billing));
      const staged = await this.#events.stage(tx, tenantId, events);
      tx.create(eventRef, this.#record(event, tenantId, "applied"));
      return { outcome: "applied" as const, staged };
    });
    await this.#dispatch(tenantId, staged);
    return outcome;
  }

  /**
   * Announces the restriction of tenants whose grace period ended since the last sweep (enforcement
   * itself never waits for this: every send compares `restrictFrom` with the clock). Returns how many.
   */
  async restrictDue(limit = 100): Promise<number> {
    const now = this.#now();
    const due = await this.#refs
      .tenants()
      .where("billing.restricted", "==", false)
      .where("billing.restrictFrom", "<=", Timestamp.fromMillis(now))
      .limit(limit)
      .get();
    let announced = 0;
    for (const doc of due.docs) {
      const tenantRef = this.#refs.tenant(doc.id);
      const staged = await this.#refs.db.runTransaction(async (tx) => {
        const tenant = (await tx.get(tenantRef)).data();
        if (!tenant || tenant.billing.restricted || !outboundRestricted(tenant.billing, now)) return null;
        const billing: TenantBilling = { ...tenant.billing, restricted: true };
        tx.update(tenantRef, { billing, updatedAt: Timestamp.fromMillis(now) });
        this.#audit.record(tx, doc.id, stripeAuditContext, {
          action: "billing.restricted",
          target: `tenant:${doc.id}`,
          before: { restricted: false },
          after: { restricted: true, restrictFrom: isoNow(tenant.billing.restrictFrom?.toMillis() ?? now) },
        });
        const key = `restricted:${tenant.billing.restrictFrom?.toMillis() ?? now}`;
        return this.#events.stage(tx, doc.id, [
          {
            type: "billing.restricted",
            key,
            data: { billing: billingSnapshot(tenant.plan, billing), at: isoNow(now) },
          },
        ]);
      });
      if (staged === null) continue;
      announced++;
      await this.#dispatch(doc.id, staged);
    }
    return announced;
  }

  /** The audit entries and events of a change, in the applying transaction. */
  #changeEvents(
    event: StripeEventRef,
    tenantId: string,
    tx: Transaction,
    change: {
      before: { plan: PlanId; billing: TenantBilling };
      after: { plan: PlanId; billing: TenantBilling };
      stoppedBotIds: string[];
      pausedCampaignIds: string[];
      readAt: number;
    },
  ): NewEvent[] {
    const { before, after, readAt } = change;
    const beforeView = billingSnapshot(before.plan, before.billing);
    const afterView = billingSnapshot(after.plan, after.billing);
    const events: NewEvent[] = [];
    if (JSON.stringify(beforeView) !== JSON.stringify(afterView)) {
      this.#audit.record(tx, tenantId, stripeAuditContext, {
        action: "billing.subscription_changed",
        target: `tenant:${tenantId}`,
        before: { ...beforeView },
        after: { ...afterView, stripeEvent: event.id },
      });
      events.push({
        type: "billing.subscription_updated",
        key: event.id,
        data: {
          previousPlan: before.plan,
          previousStatus: before.billing.status,
          billing: afterView,
          stoppedBotIds: change.stoppedBotIds,
          pausedCampaignIds: change.pausedCampaignIds,
          at: isoNow(readAt),
        },
      });
    }
    const wasRestricted = before.billing.restricted || outboundRestricted(before.billing, readAt);
    if (!wasRestricted && after.billing.restricted) {
      this.#audit.record(tx, tenantId, stripeAuditContext, {
        action: "billing.restricted",
        target: `tenant:${tenantId}`,
        before: { restricted: false },
        after: { restricted: true },
      });
      events.push({ type: "billing.restricted", key: event.id, data: { billing: afterView, at: isoNow(readAt) } });
    } else if (wasRestricted && !after.billing.restricted) {
      this.#audit.record(tx, tenantId, stripeAuditContext, {
        action: "billing.restored",
        target: `tenant:${tenantId}`,
        before: { restricted: true },
        after: { restricted: false },
      });
      events.push({ type: "billing.restored", key: event.id, data: { billing: afterView, at: isoNow(readAt) } });
    }
    return events;
  }

  #noticeEvent(event: StripeEventRef, notice: BillingNotice, plan: PlanId, billing: TenantBilling): NewEvent {
    const view = billingSnapshot(plan, billing);
    const at = isoNow(event.created * 1000);
    if (notice.kind === "trial_will_end") {
      return { type: "billing.trial_will_end", key: event.id, data: { trialEnd: view.trialEnd, billing: view, at } };
    }
    const { invoice } = notice;
    return {
      type: notice.type,
      key: event.id,
      data: {
        invoiceId: invoice.id,
        amountDue: invoice.amountDue,
        currency: invoice.currency,
        hostedInvoiceUrl: invoice.hostedInvoiceUrl,
        nextPaymentAttempt: invoice.nextPaymentAttempt === null ? null : isoNow(invoice.nextPaymentAttempt * 1000),
        billing: view,
        at,
      },
    };
  }

  #eventRef(eventId: string) {
    return this.#refs.db.doc(stripeEventPath(eventId)).withConverter(stripeEventConverter);
  }

  #record(event: StripeEventRef, tenantId: string | null, outcome: StripeEventDoc["outcome"]): StripeEventDoc {
    const now = this.#now();
    return {
      type: event.type,
      tenantId,
      outcome,
      created: Timestamp.fromMillis(event.created * 1000),
      processedAt: Timestamp.fromMillis(now),
      expiresAt: Timestamp.fromMillis(now + STRIPE_EVENT_RETENTION_MS),
    };
  }

  /** After the commit; a failure here is finished by the webhook sweeper (`dispatchStranded`). */
  async #dispatch(tenantId: string, staged: readonly string[]): Promise<void> {
    if (staged.length === 0) return;
    await this.#events.dispatchStaged(tenantId, staged).catch((error: unknown) => {
      this.#logger.warn({ err: error, tenantId }, "billing events not queued yet; the sweeper will");
    });
  }
}

/** Stripe fields that are an id or, when expanded, the object. */
export function idOf(value: string | { id: string }): string {
  return typeof value === "string" ? value : value.id;
}
