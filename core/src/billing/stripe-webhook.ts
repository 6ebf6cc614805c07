import type Stripe from "stripe";
import type { Logger } from "../logging/logger.ts";
import type { StripeClient } from "./stripe-client.ts";
import { type BillingNotice, idOf, type SubscriptionSync, type SyncOutcome } from "./subscription-sync.ts";

/** The Stripe events billing acts on; any other type is answered 200 and left alone. */
export const handledStripeEvents = [
  "checkout.session.completed",
  "customer.subscription.created",
  "customer.subscription.updated",
  "customer.subscription.deleted",
  "customer.subscription.paused",
  "customer.subscription.resumed",
  "customer.subscription.trial_will_end",
  "invoice.paid",
  "invoice.payment_failed",
  "invoice.payment_action_required",
] as const;
const handled: ReadonlySet<string> = new Set(handledStripeEvents);

export interface StripeWebhookResponse {
  status: number;
  body: { received: boolean; outcome?: SyncOutcome | "unhandled"; error?: string };
}

export interface StripeWebhookOptions {
  stripe: StripeClient;
  /** The endpoint's signing secret (`whsec_…`). */
  webhookSecret: string;
  sync: SubscriptionSync;
  logger: Logger;
  now?: () => number;
}

/**
 * Stripe's webhook: the signature is checked on the raw bytes before anything is read, then the
 * subscription the event concerns is read again from Stripe (events arrive late, twice and out of
 * order; the subscription as it is now does not) and applied by SubscriptionSync. Failures that a
 * retry can fix answer 5xx, so Stripe delivers again (for up to three days).
 */
export class StripeWebhookHandler {
  readonly #options: StripeWebhookOptions;
  readonly #now: () => number;

  constructor(options: StripeWebhookOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  async handle(rawBody: Buffer | string, signature: string | undefined): Promise<StripeWebhookResponse> {
    const { stripe, webhookSecret, logger } = this.#options;
    if (!signature) return { status: 400, body: { received: false, error: "The Stripe-Signature header is missing." } };
    let event: Stripe.Event;
    try {
      event = await stripe.webhooks.constructEventAsync(rawBody, signature, webhookSecret);
    } catch (error) {
      logger.warn({ err: error }, "Stripe webhook refused: bad signature");
      return { status: 400, body: { received: false, error: "The Stripe-Signature header does not verify." } };
    }
    if (!handled.has(event.type)) return { status: 200, body: { received: true, outcome: "unhandled" } };
    const log = logger.child({ stripeEventId: event.id, stripeEventType: event.type });
    try {
      const outcome = await this.#apply(event);
      log.info({ outcome }, "Stripe event processed");
      return { status: 200, body: { received: true, outcome } };
    } catch (error) {
      // Stripe, Firestore or the network failed: nothing was recorded, so the redelivery applies it.
      log.error({ err: error }, "Stripe event failed; Stripe will deliver it again");
      const status = error instanceof this.#options.stripe.errors.StripeError || isUnavailable(error) ? 503 : 500;
      return { status, body: { received: false, error: "The event could not be applied now; retry." } };
    }
  }

  async #apply(event: Stripe.Event): Promise<SyncOutcome> {
    const { sync, stripe } = this.#options;
    const ref = { id: event.id, type: event.type, created: event.created };
    const subscriptionId = subscriptionIdOf(event);
    if (subscriptionId === null) return sync.ignore(ref, null);
    const readAt = this.#now();
    let subscription: Stripe.Subscription;
    try {
      subscription = await stripe.subscriptions.retrieve(subscriptionId);
    } catch (error) {
      // Not in our Stripe account (another integration's test event): nothing of ours to change.
      if (error instanceof stripe.errors.StripeInvalidRequestError && error.code === "resource_missing") {
        return sync.ignore(ref, null);
      }
      throw error;
    }
    const tenantId = await sync.tenantOf(subscription);
    if (tenantId === null) return sync.ignore(ref, null);
    return sync.apply(ref, { tenantId, subscription, readAt, notice: noticeOf(event) });
  }
}

function subscriptionIdOf(event: Stripe.Event): string | null {
  switch (event.type) {
    case "checkout.session.completed":
      return event.data.object.subscription ? idOf(event.data.object.subscription) : null;
    case "customer.subscription.created":
    case "customer.subscription.updated":
    case "customer.subscription.deleted":
    case "customer.subscription.paused":
    case "customer.subscription.resumed":
    case "customer.subscription.trial_will_end":
      return event.data.object.id;
    case "invoice.paid":
    case "invoice.payment_failed":
    case "invoice.payment_action_required": {
      const subscription = event.data.object.parent?.subscription_details?.subscription;
      return subscription ? idOf(subscription) : null;
    }
    default:
      return null;
  }
}

function noticeOf(event: Stripe.Event): BillingNotice | undefined {
  const invoiceNotice = (type: Extract<BillingNotice, { kind: "invoice" }>["type"], invoice: Stripe.Invoice) => ({
    kind: "invoice" as const,
    type,
    invoice: {
      id: invoice.id ?? "",
      amountDue: invoice.amount_due,
      currency: invoice.currency,
      hostedInvoiceUrl: invoice.hosted_invoice_url ?? null,
      nextPaymentAttempt: invoice.next_payment_attempt,
    },
  });
  switch (event.type) {
    case "invoice.paid":
      return invoiceNotice("billing.payment_succeeded", event.data.object);
    case "invoice.payment_failed":
      return invoiceNotice("billing.payment_failed", event.data.object);
    case "invoice.payment_action_required":
      return invoiceNotice("billing.payment_action_required", event.data.object);
    case "customer.subscription.trial_will_end":
      return { kind: "trial_will_end" };
    default:
      return undefined;
  }
}

/** Firestore's transient failures (gRPC UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED after retries). */
function isUnavailable(error: unknown): boolean {
  const code = typeof error === "object" && error !== null ? Reflect.get(error, "code") : undefined;
  return code === 14 || code === 4 || code === 10;
}
