import { randomInt } from "node:crypto";
import type Stripe from "stripe";
import type { BillingInterval, PaidPlanId } from "../../billing/schema.ts";

/** What the local Stripe holds, in memory; objects are rendered in Stripe's shapes only on the way out. */

export type Metadata = Record<string, string>;

export interface CustomerRecord {
  id: string;
  created: number;
  name: string | null;
  email: string | null;
  metadata: Metadata;
  /** Deleted customers stay, as Stripe keeps them: retrieving one says `deleted: true`. */
  deleted: boolean;
}

export interface ProductRecord {
  id: string;
  created: number;
  name: string;
  plan: PaidPlanId;
}

export interface PriceRecord {
  id: string;
  created: number;
  product: string;
  plan: PaidPlanId;
  interval: BillingInterval;
  unitAmount: number;
  lookupKey: string;
  active: boolean;
}

export interface CheckoutSessionRecord {
  id: string;
  created: number;
  expiresAt: number;
  customer: string;
  customerEmail: string | null;
  price: string;
  quantity: number;
  successUrl: string;
  cancelUrl: string | null;
  clientReferenceId: string | null;
  metadata: Metadata;
  subscriptionMetadata: Metadata;
  trialDays: number;
  allowPromotionCodes: boolean | null;
  status: "open" | "complete" | "expired";
  subscription: string | null;
  invoice: string | null;
}

export interface PortalSessionRecord {
  id: string;
  created: number;
  customer: string;
  returnUrl: string | null;
}

export interface SubscriptionRecord {
  id: string;
  created: number;
  customer: string;
  status: Stripe.Subscription.Status;
  itemId: string;
  itemCreated: number;
  price: string;
  quantity: number;
  periodStart: number;
  periodEnd: number;
  billingCycleAnchor: number;
  trialStart: number | null;
  trialEnd: number | null;
  cancelAtPeriodEnd: boolean;
  cancelAt: number | null;
  canceledAt: number | null;
  endedAt: number | null;
  cancellationReason: "cancellation_requested" | "payment_failed" | null;
  metadata: Metadata;
  latestInvoice: string | null;
  startDate: number;
}

export interface InvoiceRecord {
  id: string;
  created: number;
  number: string;
  customer: string;
  subscription: string;
  price: string;
  quantity: number;
  billingReason: "subscription_create" | "subscription_cycle" | "subscription_update";
  status: "open" | "paid" | "void" | "uncollectible";
  amountDue: number;
  amountPaid: number;
  periodStart: number;
  periodEnd: number;
  attemptCount: number;
  nextPaymentAttempt: number | null;
  finalizedAt: number;
  paidAt: number | null;
}

/** A response kept for an Idempotency-Key: the same key and body get it again. */
export interface IdempotentResponse {
  fingerprint: string;
  status: number;
  body: string;
}

const MAX_IDEMPOTENT_RESPONSES = 10_000;

export class LocalStripeState {
  /** `http://host:port` of the server, known once it listens: the hosted pages' URLs start with it. */
  origin = "";
  readonly customers = new Map<string, CustomerRecord>();
  readonly products = new Map<string, ProductRecord>();
  readonly prices = new Map<string, PriceRecord>();
  readonly checkoutSessions = new Map<string, CheckoutSessionRecord>();
  readonly portalSessions = new Map<string, PortalSessionRecord>();
  readonly subscriptions = new Map<string, SubscriptionRecord>();
  readonly invoices = new Map<string, InvoiceRecord>();
  readonly idempotency = new Map<string, IdempotentResponse>();
  private invoiceNumber = 0;

  /** Keeps a response for its Idempotency-Key; the oldest are forgotten past a bound (Stripe keeps them 24 h). */
  remember(scope: string, response: IdempotentResponse): void {
    this.idempotency.set(scope, response);
    if (this.idempotency.size > MAX_IDEMPOTENT_RESPONSES) {
      const oldest = this.idempotency.keys().next().value;
      if (oldest !== undefined) this.idempotency.delete(oldest);
    }
  }

  nextInvoiceNumber(): string {
    this.invoiceNumber += 1;
    return `LOCAL-${String(this.invoiceNumber).padStart(4, "0")}`;
  }

  priceOf(id: string): PriceRecord {
    const price = this.prices.get(id);
    // Prices are never deleted, so a record naming a missing one is a bug in this server.
    if (!price) throw new Error(`local Stripe: no price ${id}`);
    return price;
  }

  customerOf(id: string): CustomerRecord {
    const customer = this.customers.get(id);
    if (!customer) throw new Error(`local Stripe: no customer ${id}`);
    return customer;
  }

  /** The tenant a subscription is for: its own metadata, else its customer's. */
  tenantOf(subscription: SubscriptionRecord): string | null {
    return subscription.metadata.tenantId ?? this.customers.get(subscription.customer)?.metadata.tenantId ?? null;
  }
}

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** An id shaped like Stripe's (`cus_…`, `sub_…`): a prefix and 24 random characters, unguessable. */
export function newId(prefix: string): string {
  let out = `${prefix}_`;
  for (let i = 0; i < 24; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

/** The end of a billing period that starts at `start` (unix seconds): calendar months, as Stripe bills. */
export function addInterval(start: number, interval: BillingInterval): number {
  const date = new Date(start * 1000);
  const day = date.getUTCDate();
  date.setUTCDate(1);
  date.setUTCMonth(date.getUTCMonth() + (interval === "year" ? 12 : 1));
  // The 31st of a shorter month bills on its last day.
  const lastDay = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate();
  date.setUTCDate(Math.min(day, lastDay));
  return Math.floor(date.getTime() / 1000);
}
