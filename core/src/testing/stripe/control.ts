import type { ControlAction, ControlCustomer, ControlEvent, ControlSubscription } from "./control-schema.ts";
import { ControlError } from "./errors.ts";
import type { SubscriptionLifecycle } from "./lifecycle.ts";
import type { LocalStripeState, SubscriptionRecord } from "./state.ts";
import type { LocalStripeEvent } from "./webhook-sender.ts";

/** What Stripe does by itself, on demand: each control action and the lifecycle step it is. */
export function runAction(
  lifecycle: SubscriptionLifecycle,
  subscription: SubscriptionRecord,
  action: ControlAction,
): LocalStripeEvent[] {
  switch (action) {
    case "renew":
      return lifecycle.renew(subscription);
    case "fail-payment":
      return lifecycle.failPayment(subscription);
    case "pay":
      return lifecycle.pay(subscription);
    case "require-action":
      return lifecycle.requireAction(subscription);
    case "cancel-at-period-end":
      if (subscription.cancelAtPeriodEnd) {
        throw new ControlError(`Subscription ${subscription.id} is already set to cancel at the end of its period.`);
      }
      return lifecycle.setCancelAtPeriodEnd(subscription, true, null);
    case "end-period":
      return lifecycle.endPeriod(subscription);
    case "cancel-now":
      return lifecycle.cancelNow(subscription, null);
    case "trial-will-end":
      return lifecycle.trialWillEnd(subscription);
    case "pause":
      return lifecycle.pause(subscription);
    case "resume":
      return lifecycle.resume(subscription);
    case "unpaid":
      return lifecycle.markUnpaid(subscription);
  }
}

export function subscriptionSummary(state: LocalStripeState, s: SubscriptionRecord): ControlSubscription {
  const price = state.priceOf(s.price);
  const invoice = s.latestInvoice ? state.invoices.get(s.latestInvoice) : undefined;
  return {
    id: s.id,
    customer: s.customer,
    tenantId: state.tenantOf(s),
    status: s.status,
    plan: price.plan,
    interval: price.interval,
    lookupKey: price.lookupKey,
    amount: price.unitAmount * s.quantity,
    created: s.created,
    currentPeriodStart: s.periodStart,
    currentPeriodEnd: s.periodEnd,
    cancelAtPeriodEnd: s.cancelAtPeriodEnd,
    cancelAt: s.cancelAt,
    trialEnd: s.trialEnd,
    latestInvoice: invoice
      ? {
          id: invoice.id,
          status: invoice.status,
          amountDue: invoice.amountDue,
          attemptCount: invoice.attemptCount,
          nextPaymentAttempt: invoice.nextPaymentAttempt,
        }
      : null,
  };
}

export function customerSummary(state: LocalStripeState, id: string): ControlCustomer {
  const c = state.customerOf(id);
  return { id: c.id, name: c.name, email: c.email, tenantId: c.metadata.tenantId ?? null, created: c.created };
}

export function eventSummary(event: LocalStripeEvent): ControlEvent {
  return {
    id: event.id,
    type: event.type,
    created: event.created,
    state: event.state,
    attempts: event.attempts.map((a) => ({ ...a })),
  };
}

/** Subscriptions, newest first, of a tenant (by its own or its customer's `metadata.tenantId`) or a customer. */
export function findSubscriptions(
  state: LocalStripeState,
  filter: { tenantId?: string | undefined; customer?: string | undefined },
): SubscriptionRecord[] {
  return [...state.subscriptions.values()]
    .reverse()
    .filter((s) => filter.tenantId === undefined || state.tenantOf(s) === filter.tenantId)
    .filter((s) => filter.customer === undefined || s.customer === filter.customer)
    .sort((a, b) => b.created - a.created);
}

export function findCustomers(state: LocalStripeState, filter: { tenantId?: string | undefined }): ControlCustomer[] {
  return [...state.customers.values()]
    .reverse()
    .filter((c) => filter.tenantId === undefined || c.metadata.tenantId === filter.tenantId)
    .sort((a, b) => b.created - a.created)
    .map((c) => customerSummary(state, c.id));
}
