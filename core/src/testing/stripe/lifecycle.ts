import type Stripe from "stripe";
import { ControlError } from "./errors.ts";
import { renderCheckoutSession, renderInvoice, renderSubscription } from "./objects.ts";
import {
  addInterval,
  type CheckoutSessionRecord,
  type InvoiceRecord,
  type LocalStripeState,
  newId,
  type SubscriptionRecord,
} from "./state.ts";
import type { LocalStripeEvent, NewEvent, WebhookSender } from "./webhook-sender.ts";

const DAY = 86_400;
/** When Stripe's Smart Retries would try a failed renewal again. */
const RETRY_AFTER = 3 * DAY;

export type ApiRequest = NewEvent["request"];

/**
 * What happens to subscriptions and their invoices, and the events each change sends, in the order
 * Stripe sends them. The API, the hosted pages and the control actions all go through here, so a
 * plan switched in the portal and one switched through `subscriptions.update` look the same to the
 * webhook. The server's clock dates everything; periods advance from where the last one ended.
 */
export class SubscriptionLifecycle {
  private readonly state: LocalStripeState;
  private readonly sender: WebhookSender;
  private readonly clock: () => number;

  constructor(deps: { state: LocalStripeState; sender: WebhookSender; now: () => number }) {
    this.state = deps.state;
    this.sender = deps.sender;
    this.clock = deps.now;
  }

  now(): number {
    return Math.floor(this.clock() / 1000);
  }

  /** The hosted checkout page's "Pay": the subscription, its first invoice, and the session completed. */
  completeCheckout(session: CheckoutSessionRecord): LocalStripeEvent[] {
    if (session.status !== "open") throw new ControlError(`Checkout session ${session.id} is ${session.status}.`);
    const now = this.now();
    const price = this.state.priceOf(session.price);
    const trialEnd = session.trialDays > 0 ? now + session.trialDays * DAY : null;
    const subscription: SubscriptionRecord = {
      id: newId("sub"),
      created: now,
      customer: session.customer,
      status: trialEnd ? "trialing" : "active",
      itemId: newId("si"),
      itemCreated: now,
      price: price.id,
      quantity: session.quantity,
      periodStart: now,
      periodEnd: trialEnd ?? addInterval(now, price.interval),
      billingCycleAnchor: trialEnd ?? now,
      trialStart: trialEnd ? now : null,
      trialEnd,
      cancelAtPeriodEnd: false,
      cancelAt: null,
      canceledAt: null,
      endedAt: null,
      cancellationReason: null,
      metadata: { ...session.subscriptionMetadata },
      latestInvoice: null,
      startDate: now,
    };
    this.state.subscriptions.set(subscription.id, subscription);
    const invoice = trialEnd ? null : this.newInvoice(subscription, "subscription_create", "paid");
    session.status = "complete";
    session.subscription = subscription.id;
    session.invoice = invoice?.id ?? null;
    const events = [this.emitSubscription("customer.subscription.created", subscription, null)];
    if (invoice) events.push(this.emitInvoice("invoice.paid", invoice));
    events.push(
      this.emit({
        type: "checkout.session.completed",
        object: renderCheckoutSession(this.state, session),
        request: null,
        orderKey: subscription.id,
      }),
    );
    return events;
  }

  /** Another price for the subscription's item; a new interval restarts the period and bills it now. */
  switchPrice(subscription: SubscriptionRecord, priceId: string, request: ApiRequest): LocalStripeEvent[] {
    this.requireLive(subscription);
    const price = this.state.priceOf(priceId);
    const current = this.state.priceOf(subscription.price);
    if (price.id === current.id) return [];
    let invoice: InvoiceRecord | null = null;
    const events = this.update(
      subscription,
      () => {
        subscription.price = price.id;
        if (price.interval !== current.interval && subscription.status !== "trialing") {
          const now = this.now();
          subscription.periodStart = now;
          subscription.periodEnd = addInterval(now, price.interval);
          subscription.billingCycleAnchor = now;
          if (subscription.cancelAtPeriodEnd) subscription.cancelAt = subscription.periodEnd;
          invoice = this.newInvoice(subscription, "subscription_update", "paid");
        }
      },
      request,
    );
    if (invoice) events.push(this.emitInvoice("invoice.paid", invoice));
    return events;
  }

  /** Cancel at period end (`true`), or keep the subscription after all (`false`). */
  setCancelAtPeriodEnd(subscription: SubscriptionRecord, cancel: boolean, request: ApiRequest): LocalStripeEvent[] {
    this.requireLive(subscription);
    // Asked twice (a resubmitted form), nothing changes the second time.
    if (subscription.cancelAtPeriodEnd === cancel) return [];
    return this.update(
      subscription,
      () => {
        subscription.cancelAtPeriodEnd = cancel;
        subscription.cancelAt = cancel ? subscription.periodEnd : null;
        subscription.canceledAt = cancel ? this.now() : null;
        subscription.cancellationReason = cancel ? "cancellation_requested" : null;
      },
      request,
    );
  }

  setMetadata(subscription: SubscriptionRecord, changes: Record<string, string>, request: ApiRequest) {
    return this.update(
      subscription,
      () => {
        const next = { ...subscription.metadata };
        // An empty value removes the key, as in Stripe.
        for (const [key, value] of Object.entries(changes)) {
          if (value === "") delete next[key];
          else next[key] = value;
        }
        subscription.metadata = next;
      },
      request,
    );
  }

  /** The next period, paid. */
  renew(subscription: SubscriptionRecord): LocalStripeEvent[] {
    this.requireStatus(subscription, ["active", "trialing"], "renew");
    if (subscription.cancelAtPeriodEnd) {
      throw new ControlError(
        `Subscription ${subscription.id} is set to cancel at the end of its period, so it does not renew: end-period cancels it.`,
      );
    }
    let invoice: InvoiceRecord | undefined;
    const events = this.update(
      subscription,
      () => {
        this.advancePeriod(subscription);
        subscription.status = "active";
        invoice = this.newInvoice(subscription, "subscription_cycle", "paid");
      },
      null,
    );
    if (invoice) events.push(this.emitInvoice("invoice.paid", invoice));
    return events;
  }

  /** A renewal whose payment fails (or another failed attempt at the open invoice): past_due. */
  failPayment(subscription: SubscriptionRecord): LocalStripeEvent[] {
    return this.unpaidRenewal(subscription, "invoice.payment_failed");
  }

  /** A renewal whose payment needs the customer (3-D Secure): past_due until paid. */
  requireAction(subscription: SubscriptionRecord): LocalStripeEvent[] {
    return this.unpaidRenewal(subscription, "invoice.payment_action_required");
  }

  /** The open invoice paid (by a retry, or the customer on the invoice page): active again. */
  pay(subscription: SubscriptionRecord): LocalStripeEvent[] {
    const invoice = this.openInvoice(subscription);
    if (!invoice) throw new ControlError(`Subscription ${subscription.id} has no open invoice to pay.`);
    return this.payInvoice(invoice);
  }

  payInvoice(invoice: InvoiceRecord): LocalStripeEvent[] {
    if (invoice.status !== "open") throw new ControlError(`Invoice ${invoice.id} is ${invoice.status}, not open.`);
    const now = this.now();
    invoice.status = "paid";
    invoice.amountPaid = invoice.amountDue;
    invoice.attemptCount += 1;
    invoice.nextPaymentAttempt = null;
    invoice.paidAt = now;
    const events = [this.emitInvoice("invoice.paid", invoice)];
    const subscription = this.state.subscriptions.get(invoice.subscription);
    if (subscription && ["past_due", "unpaid", "incomplete"].includes(subscription.status)) {
      events.push(
        ...this.update(
          subscription,
          () => {
            subscription.status = "active";
          },
          null,
        ),
      );
    }
    return events;
  }

  /** Stripe gave up retrying: unpaid (the plan's access is the application's call). */
  markUnpaid(subscription: SubscriptionRecord): LocalStripeEvent[] {
    this.requireStatus(subscription, ["past_due"], "mark unpaid");
    return this.update(
      subscription,
      () => {
        subscription.status = "unpaid";
      },
      null,
    );
  }

  /** The period ends: canceled if that was scheduled, else renewed. */
  endPeriod(subscription: SubscriptionRecord): LocalStripeEvent[] {
    if (!subscription.cancelAtPeriodEnd) return this.renew(subscription);
    this.requireLive(subscription);
    subscription.status = "canceled";
    subscription.endedAt = subscription.periodEnd;
    return [this.emitSubscription("customer.subscription.deleted", subscription, null)];
  }

  /** Canceled at once (the API's `subscriptions.cancel`, or the CLI). */
  cancelNow(subscription: SubscriptionRecord, request: ApiRequest): LocalStripeEvent[] {
    this.requireLive(subscription);
    const now = this.now();
    subscription.status = "canceled";
    subscription.canceledAt = now;
    subscription.endedAt = now;
    subscription.cancellationReason = "cancellation_requested";
    return [this.emitSubscription("customer.subscription.deleted", subscription, request)];
  }

  /** Three days before a trial ends Stripe says so; nothing changes. */
  trialWillEnd(subscription: SubscriptionRecord): LocalStripeEvent[] {
    this.requireStatus(subscription, ["trialing"], "announce the end of a trial of");
    return [this.emitSubscription("customer.subscription.trial_will_end", subscription, null)];
  }

  pause(subscription: SubscriptionRecord): LocalStripeEvent[] {
    this.requireStatus(subscription, ["active", "trialing", "past_due"], "pause");
    subscription.status = "paused";
    return [this.emitSubscription("customer.subscription.paused", subscription, null)];
  }

  /** A paused subscription resumes with a new period from now, billed at once. */
  resume(subscription: SubscriptionRecord): LocalStripeEvent[] {
    this.requireStatus(subscription, ["paused"], "resume");
    const now = this.now();
    const price = this.state.priceOf(subscription.price);
    subscription.status = "active";
    subscription.periodStart = now;
    subscription.periodEnd = addInterval(now, price.interval);
    subscription.billingCycleAnchor = now;
    const invoice = this.newInvoice(subscription, "subscription_cycle", "paid");
    return [
      this.emitSubscription("customer.subscription.resumed", subscription, null),
      this.emitInvoice("invoice.paid", invoice),
    ];
  }

  openInvoice(subscription: SubscriptionRecord): InvoiceRecord | undefined {
    const latest = subscription.latestInvoice ? this.state.invoices.get(subscription.latestInvoice) : undefined;
    return latest?.status === "open" ? latest : undefined;
  }

  private unpaidRenewal(
    subscription: SubscriptionRecord,
    type: "invoice.payment_failed" | "invoice.payment_action_required",
  ): LocalStripeEvent[] {
    const open = this.openInvoice(subscription);
    if (open) {
      // Another attempt at the invoice already due.
      open.attemptCount += 1;
      open.nextPaymentAttempt = type === "invoice.payment_failed" ? this.now() + RETRY_AFTER : null;
      return [this.emitInvoice(type, open)];
    }
    this.requireStatus(subscription, ["active", "trialing"], "fail the renewal of");
    if (subscription.cancelAtPeriodEnd) {
      throw new ControlError(
        `Subscription ${subscription.id} is set to cancel at the end of its period, so there is no renewal to fail: end-period cancels it.`,
      );
    }
    const before = structuredClone(renderSubscription(this.state, subscription));
    this.advancePeriod(subscription);
    const invoice = this.newInvoice(subscription, "subscription_cycle", "open");
    invoice.attemptCount = 1;
    invoice.nextPaymentAttempt = type === "invoice.payment_failed" ? this.now() + RETRY_AFTER : null;
    subscription.status = "past_due";
    const events = [this.emitInvoice(type, invoice)];
    events.push(...this.emitUpdated(subscription, before, null));
    return events;
  }

  private advancePeriod(subscription: SubscriptionRecord): void {
    const price = this.state.priceOf(subscription.price);
    subscription.periodStart = subscription.periodEnd;
    subscription.periodEnd = addInterval(subscription.periodStart, price.interval);
  }

  private newInvoice(
    subscription: SubscriptionRecord,
    billingReason: InvoiceRecord["billingReason"],
    status: "paid" | "open",
  ): InvoiceRecord {
    const now = this.now();
    const price = this.state.priceOf(subscription.price);
    const amount = price.unitAmount * subscription.quantity;
    const invoice: InvoiceRecord = {
      id: newId("in"),
      created: now,
      number: this.state.nextInvoiceNumber(),
      customer: subscription.customer,
      subscription: subscription.id,
      price: price.id,
      quantity: subscription.quantity,
      billingReason,
      status,
      amountDue: amount,
      amountPaid: status === "paid" ? amount : 0,
      periodStart: subscription.periodStart,
      periodEnd: subscription.periodEnd,
      attemptCount: status === "paid" ? 1 : 0,
      nextPaymentAttempt: null,
      finalizedAt: now,
      paidAt: status === "paid" ? now : null,
    };
    this.state.invoices.set(invoice.id, invoice);
    subscription.latestInvoice = invoice.id;
    return invoice;
  }

  private requireLive(subscription: SubscriptionRecord): void {
    if (subscription.status === "canceled" || subscription.status === "incomplete_expired") {
      throw new ControlError(`Subscription ${subscription.id} is ${subscription.status}.`);
    }
  }

  private requireStatus(
    subscription: SubscriptionRecord,
    allowed: readonly Stripe.Subscription.Status[],
    what: string,
  ): void {
    if (!allowed.includes(subscription.status)) {
      throw new ControlError(
        `Cannot ${what} subscription ${subscription.id}: it is ${subscription.status} (needs ${allowed.join(" or ")}).`,
      );
    }
  }

  /** Applies `change`, and sends customer.subscription.updated naming what it changed (if anything). */
  private update(subscription: SubscriptionRecord, change: () => void, request: ApiRequest): LocalStripeEvent[] {
    const before = structuredClone(renderSubscription(this.state, subscription));
    change();
    return this.emitUpdated(subscription, before, request);
  }

  private emitUpdated(
    subscription: SubscriptionRecord,
    before: Record<string, unknown>,
    request: ApiRequest,
  ): LocalStripeEvent[] {
    const after: Record<string, unknown> = renderSubscription(this.state, subscription);
    const previous: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(before)) {
      if (JSON.stringify(value) !== JSON.stringify(after[key])) previous[key] = value;
    }
    if (Object.keys(previous).length === 0) return [];
    return [this.emitSubscription("customer.subscription.updated", subscription, request, previous)];
  }

  private emitSubscription(
    type: Stripe.Event.Type,
    subscription: SubscriptionRecord,
    request: ApiRequest,
    previousAttributes?: Record<string, unknown>,
  ): LocalStripeEvent {
    return this.emit({
      type,
      object: renderSubscription(this.state, subscription),
      ...(previousAttributes ? { previousAttributes } : {}),
      request,
      orderKey: subscription.id,
    });
  }

  private emitInvoice(type: Stripe.Event.Type, invoice: InvoiceRecord): LocalStripeEvent {
    return this.emit({
      type,
      object: renderInvoice(this.state, invoice),
      request: null,
      orderKey: invoice.subscription,
    });
  }

  private emit(event: Omit<NewEvent, "created">): LocalStripeEvent {
    return this.sender.add({ ...event, created: this.now() });
  }
}
