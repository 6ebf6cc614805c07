import { Timestamp } from "firebase-admin/firestore";
import type Stripe from "stripe";
import { type TenantAccess, tenantNotFound } from "../access/access-service.ts";
import { type AuditContext, AuditLog } from "../audit/audit-log.ts";
import { ConflictError, UnavailableError } from "../errors/domain-error.ts";
import { zodConverter } from "../firestore/converter.ts";
import { usagePath } from "../firestore/paths.ts";
import type { Refs } from "../firestore/refs.ts";
import { PlanCatalog } from "../plans/plan-catalog.ts";
import type { TenantDoc } from "../tenants/schema.ts";
import { usageDocSchema } from "../usage/schema.ts";
import { usageDay } from "../usage/usage-service.ts";
import { type BillingSnapshot, billingSnapshot } from "./billing-snapshot.ts";
import { type BillingInterval, type PaidPlanId, priceLookupKey } from "./schema.ts";
import type { StripeClient } from "./stripe-client.ts";
import { isLiveStatus, outboundRestricted } from "./subscription-state.ts";

export interface BillingServiceOptions {
  refs: Refs;
  /** Null when Stripe is not configured here: the summary still works, checkout and portal answer 503. */
  stripe: StripeClient | null;
  /** Where Checkout and the portal send the customer back (the dashboard's billing page). */
  returnUrl: string;
  audit?: AuditLog;
  now?: () => number;
  /** How long a price looked up by its lookup key is reused (prices change rarely; default 5 min). */
  priceCacheMs?: number;
}

export interface UsageLine {
  used: number;
  limit: number;
}

export interface BillingSummary extends BillingSnapshot {
  planName: string;
  /** Refused now: unpaid past the grace period (whether or not the sweep has announced it yet). */
  outboundRestricted: boolean;
  usage: {
    day: string;
    bots: UsageLine;
    runningBots: UsageLine;
    messagesToday: UsageLine;
    aiCallsToday: UsageLine;
    /** Per campaign: a limit, not a running count. */
    campaignRecipients: { limit: number };
  };
}

const usageConverter = zodConverter(usageDocSchema);

/**
 * What a tenant sees and does about its plan: the summary with usage against every limit, and the
 * way into Stripe's Checkout and customer portal. Plan changes themselves only ever come from Stripe
 * (SubscriptionSync), never from these calls.
 */
export class BillingService {
  readonly #refs: Refs;
  readonly #stripe: StripeClient | null;
  readonly #returnUrl: string;
  readonly #audit: AuditLog;
  readonly #now: () => number;
  readonly #priceCacheMs: number;
  readonly #prices = new Map<string, { price: Stripe.Price; until: number }>();

  constructor(options: BillingServiceOptions) {
    this.#refs = options.refs;
    this.#stripe = options.stripe;
    this.#returnUrl = options.returnUrl;
    this.#audit = options.audit ?? new AuditLog(options.refs.db);
    this.#now = options.now ?? Date.now;
    this.#priceCacheMs = options.priceCacheMs ?? 300_000;
  }

  async summary(tenantId: string): Promise<BillingSummary> {
    const day = usageDay(this.#now());
    const [tenantSnapshot, usageSnapshot, running] = await Promise.all([
      this.#refs.tenant(tenantId).get(),
      this.#refs.db.doc(usagePath(tenantId, day)).withConverter(usageConverter).get(),
      this.#refs.bots(tenantId).where("desiredState", "==", "running").count().get(),
    ]);
    const tenant = tenantSnapshot.data();
    if (!tenant) throw tenantNotFound();
    const plan = PlanCatalog.get(tenant.plan);
    const usage = usageSnapshot.data();
    return {
      ...billingSnapshot(tenant.plan, tenant.billing),
      planName: plan.name,
      outboundRestricted: outboundRestricted(tenant.billing, this.#now()),
      usage: {
        day,
        bots: { used: tenant.botCount, limit: plan.maxBots },
        runningBots: { used: running.data().count, limit: plan.maxBots },
        messagesToday: { used: usage?.messages ?? 0, limit: plan.messagesPerDay },
        aiCallsToday: { used: usage?.aiCalls ?? 0, limit: plan.aiCallsPerDay },
        campaignRecipients: { limit: plan.maxCampaignRecipients },
      },
    };
  }

  /**
   * A Checkout Session for a first subscription. A tenant that already has a live one changes plans
   * in the portal (Stripe prorates there), so it cannot end up paying for two.
   */
  async startCheckout(
    access: TenantAccess,
    input: { plan: PaidPlanId; interval: BillingInterval },
    context: AuditContext,
  ): Promise<{ url: string; sessionId: string }> {
    const stripe = this.#requireStripe();
    const tenant = await this.#tenant(access.tenantId);
    if (tenant.stripeSubscriptionId && isLiveStatus(tenant.billing.status)) {
      throw new ConflictError(
        `The tenant already has a ${tenant.billing.status} subscription to the ${PlanCatalog.get(tenant.plan).name} plan; change plans in the customer portal (POST …/billing/portal).`,
        { details: { plan: tenant.plan, status: tenant.billing.status } },
      );
    }
    const plan = PlanCatalog.get(input.plan);
    const price = await this.#price(input.plan, input.interval);
    const customer = await this.#ensureCustomer(access.tenantId, tenant, context);
    // One trial per tenant: a tenant that subscribed before pays from the first day.
    const trialDays = tenant.billing.status === "none" && !tenant.stripeSubscriptionId ? plan.trialDays : 0;
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      customer,
      client_reference_id: access.tenantId,
      line_items: [{ price: price.id, quantity: 1 }],
      success_url: withQuery(this.#returnUrl, "checkout=success&session_id={CHECKOUT_SESSION_ID}"),
      cancel_url: withQuery(this.#returnUrl, "checkout=cancelled"),
      metadata: { tenantId: access.tenantId, plan: plan.id },
      subscription_data: {
        metadata: { tenantId: access.tenantId },
        ...(trialDays > 0 && { trial_period_days: trialDays }),
      },
      allow_promotion_codes: true,
    });
    if (!session.url) throw new UnavailableError("Stripe did not return a Checkout URL; try again.");
    return { url: session.url, sessionId: session.id };
  }

  /** A customer portal session: change plan or card, see invoices, cancel at the period's end. */
  async openPortal(access: TenantAccess): Promise<{ url: string }> {
    const stripe = this.#requireStripe();
    const tenant = await this.#tenant(access.tenantId);
    if (!tenant.stripeCustomerId) {
      throw new ConflictError("The tenant has not subscribed yet: start with POST …/billing/checkout.");
    }
    const session = await stripe.billingPortal.sessions.create({
      customer: tenant.stripeCustomerId,
      return_url: this.#returnUrl,
    });
    return { url: session.url };
  }

  /**
   * Ends the tenant's subscriptions now, without refund (closing the account): the one recorded on
   * the tenant, and every other live one of its customer (a checkout paid moments ago whose events
   * have not arrived). Subscriptions that name another tenant are left alone. Safe to run again.
   */
  async cancelAll(tenantId: string, ids: { customerId: string | null; subscriptionId: string | null }): Promise<void> {
    const stripe = this.#requireStripe();
    const subscriptions: Stripe.Subscription[] = [];
    if (ids.subscriptionId) subscriptions.push(await stripe.subscriptions.retrieve(ids.subscriptionId));
    if (ids.customerId) {
      for await (const subscription of stripe.subscriptions.list({
        customer: ids.customerId,
        status: "all",
        limit: 100,
      })) {
        if (subscription.id !== ids.subscriptionId) subscriptions.push(subscription);
      }
    }
    for (const subscription of subscriptions) {
      const owner = subscription.metadata?.tenantId;
      if (owner && owner !== tenantId) continue;
      if (subscription.status === "canceled" || subscription.status === "incomplete_expired") continue;
      await stripe.subscriptions.cancel(subscription.id, {}, { idempotencyKey: `whatsdex-close-${subscription.id}` });
    }
  }

  async #tenant(tenantId: string): Promise<TenantDoc> {
    const tenant = (await this.#refs.tenant(tenantId).get()).data();
    if (!tenant) throw tenantNotFound();
    return tenant;
  }

  /**
   * The tenant's one Stripe customer, created the first time. Stripe's idempotency key makes two
   * concurrent first checkouts create one customer; the transaction stores it once.
   */
  async #ensureCustomer(tenantId: string, tenant: TenantDoc, context: AuditContext): Promise<string> {
    if (tenant.stripeCustomerId) return tenant.stripeCustomerId;
    const stripe = this.#requireStripe();
    const customer = await stripe.customers.create(
      { name: tenant.name, metadata: { tenantId } },
      { idempotencyKey: `whatsdex-customer-${tenantId}` },
    );
    const ref = this.#refs.tenant(tenantId);
    return this.#refs.db.runTransaction(async (tx) => {
      const current = (await tx.get(ref)).data();
      if (!current) throw tenantNotFound();
      if (current.stripeCustomerId) return current.stripeCustomerId;
      tx.update(ref, { stripeCustomerId: customer.id, updatedAt: Timestamp.fromMillis(this.#now()) });
      this.#audit.record(tx, tenantId, context, {
        action: "billing.customer_created",
        target: `tenant:${tenantId}`,
        before: { stripeCustomerId: null },
        after: { stripeCustomerId: customer.id },
      });
      return customer.id;
    });
  }

  /** The active Price for a plan and interval, found by its lookup key (prices are data in Stripe). */
  async #price(plan: PaidPlanId, interval: BillingInterval): Promise<Stripe.Price> {
    const key = priceLookupKey(plan, interval);
    const cached = this.#prices.get(key);
    if (cached && cached.until > this.#now()) return cached.price;
    const prices = await this.#requireStripe().prices.list({ lookup_keys: [key], active: true, limit: 1 });
    const price = prices.data[0];
    if (!price) {
      throw new UnavailableError(`The ${plan} plan cannot be bought ${interval}ly yet: Stripe has no price "${key}".`);
    }
    this.#prices.set(key, { price, until: this.#now() + this.#priceCacheMs });
    return price;
  }

  #requireStripe(): StripeClient {
    if (!this.#stripe) throw new UnavailableError("Billing is not configured on this deployment (STRIPE_SECRET_KEY).");
    return this.#stripe;
  }
}

function withQuery(url: string, query: string): string {
  return `${url}${url.includes("?") ? "&" : "?"}${query}`;
}
