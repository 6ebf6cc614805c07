import { Timestamp } from "firebase-admin/firestore";
import type Stripe from "stripe";
import type { PlanId } from "../plans/plan-catalog.ts";
import { planOfLookupKey, type SubscriptionStatus, subscriptionStatusSchema, type TenantBilling } from "./schema.ts";

/** Statuses in which the subscription still pays for its plan (a failing payment keeps it during grace). */
const planGranting: ReadonlySet<SubscriptionStatus> = new Set(["trialing", "active", "past_due", "unpaid"]);
/** Statuses in which a subscription is the tenant's current one, even if another was before it. */
const live: ReadonlySet<SubscriptionStatus> = new Set(["incomplete", "trialing", "active", "past_due", "unpaid"]);

export function isLiveStatus(status: SubscriptionStatus): boolean {
  return live.has(status);
}

/**
 * A subscription's status as we store it. The API version is pinned, so its list of statuses is
 * fixed; anything else is a bug to see (the webhook answers 500 and Stripe retries), not a guess.
 */
export function statusOf(subscription: Pick<Stripe.Subscription, "id" | "status">): SubscriptionStatus {
  const parsed = subscriptionStatusSchema.exclude(["none"]).safeParse(subscription.status);
  if (!parsed.success) throw new Error(`subscription ${subscription.id} has an unknown status: ${subscription.status}`);
  return parsed.data;
}

/** The plan a tenant's limits come from, given what Stripe says about its subscription. */
export function effectivePlan(billing: Pick<TenantBilling, "status" | "subscribedPlan">): PlanId {
  return billing.subscribedPlan && planGranting.has(billing.status) ? billing.subscribedPlan : "free";
}

/** Whether outbound sending (API sends, campaigns) is refused at `now`: unpaid past the grace period. */
export function outboundRestricted(billing: Pick<TenantBilling, "restrictFrom">, now: number): boolean {
  return billing.restrictFrom !== null && billing.restrictFrom.toMillis() <= now;
}

const ts = (seconds: number | null | undefined): Timestamp | null =>
  seconds === null || seconds === undefined ? null : Timestamp.fromMillis(seconds * 1000);

/**
 * The tenant's billing state from a subscription as Stripe returned it at `readAt`. The period and
 * the plan come from the subscription's item (the period moved there in API 2025-03-31); the grace
 * clock starts the first time the subscription is seen past due and keeps running across updates.
 */
export function billingFromSubscription(
  subscription: Stripe.Subscription,
  previous: TenantBilling,
  options: { readAt: number; graceMs: number },
): TenantBilling {
  const status = statusOf(subscription);
  const item = subscription.items.data[0];
  const price = planOfLookupKey(item?.price.lookup_key);
  const failing = status === "past_due" || status === "unpaid";
  const pastDueSince = failing ? (previous.pastDueSince ?? Timestamp.fromMillis(options.readAt)) : null;
  // Unpaid means Stripe gave up retrying: no grace left.
  const restrictFrom =
    pastDueSince === null
      ? null
      : status === "unpaid"
        ? pastDueSince
        : Timestamp.fromMillis(pastDueSince.toMillis() + options.graceMs);
  const next: TenantBilling = {
    status,
    subscribedPlan: price?.plan ?? null,
    interval: price?.interval ?? null,
    currentPeriodEnd: ts(item?.current_period_end),
    cancelAt: ts(subscription.cancel_at) ?? (subscription.cancel_at_period_end ? ts(item?.current_period_end) : null),
    trialEnd: status === "trialing" ? ts(subscription.trial_end) : null,
    pastDueSince,
    restrictFrom,
    restricted: false,
    syncedAt: Timestamp.fromMillis(options.readAt),
  };
  next.restricted = outboundRestricted(next, options.readAt);
  return next;
}
