import { z } from "zod";
import { timestampSchema } from "../firestore/timestamps.ts";
import { type PlanId, planIdSchema } from "../plans/plan-catalog.ts";

/** How often a paid plan is billed; each (plan, interval) is one Stripe Price, found by lookup key. */
export const billingIntervals = ["month", "year"] as const;
export const billingIntervalSchema = z.enum(billingIntervals);
export type BillingInterval = z.output<typeof billingIntervalSchema>;

/** Plans a tenant can buy; `free` is what a tenant without a subscription has. */
export const paidPlanIdSchema = planIdSchema.exclude(["free"]);
export type PaidPlanId = z.output<typeof paidPlanIdSchema>;

/**
 * Stripe's subscription statuses as they are stored, plus `none` (never subscribed, or the last
 * subscription is gone). Mirrors Stripe's list, so a status we do not act on is still shown as it is.
 */
export const subscriptionStatuses = [
  "none",
  "incomplete",
  "incomplete_expired",
  "trialing",
  "active",
  "past_due",
  "canceled",
  "unpaid",
  "paused",
] as const;
export const subscriptionStatusSchema = z.enum(subscriptionStatuses);
export type SubscriptionStatus = z.output<typeof subscriptionStatusSchema>;

/**
 * The tenant's subscription as last read from Stripe (Stripe is the source of truth; ADR 22). Kept
 * on the tenant document because every outbound send reads it there anyway (the plan, the
 * restriction) in the transaction that meters it.
 */
export const tenantBillingSchema = z.object({
  status: subscriptionStatusSchema,
  /** The plan the subscription pays for (the tenant's `plan` unless the status withholds it). */
  subscribedPlan: planIdSchema.nullable(),
  interval: billingIntervalSchema.nullable(),
  /** End of the period paid for (from the subscription item: current API versions keep it there). */
  currentPeriodEnd: timestampSchema.nullable(),
  /** When a cancellation takes effect (the plan falls back to Free then), if one is scheduled. */
  cancelAt: timestampSchema.nullable(),
  trialEnd: timestampSchema.nullable(),
  /** When payments started failing; cleared when an invoice is paid. */
  pastDueSince: timestampSchema.nullable(),
  /** From when outbound sending (API sends, campaigns) is refused, while still unpaid: past_due + grace. */
  restrictFrom: timestampSchema.nullable(),
  /** Whether the restriction was announced (audit, `billing.restricted`); the grace sweep sets it. */
  restricted: z.boolean(),
  /** When the applied Stripe state was read: an older read (a slower, concurrent event) is never applied over it. */
  syncedAt: timestampSchema.nullable(),
});
export type TenantBilling = z.output<typeof tenantBillingSchema>;

export const noBilling: TenantBilling = {
  status: "none",
  subscribedPlan: null,
  interval: null,
  currentPeriodEnd: null,
  cancelAt: null,
  trialEnd: null,
  pastDueSince: null,
  restrictFrom: null,
  restricted: false,
  syncedAt: null,
};

/**
 * `stripeEvents/{eventId}`: a Stripe event that was applied, created in the transaction that applied
 * it, so a redelivery (Stripe delivers at least once) changes nothing. A TTL policy on `expiresAt`
 * removes it after Stripe's retry window has long passed.
 */
export const stripeEventDocSchema = z.object({
  type: z.string(),
  tenantId: z.string().nullable(),
  /** What applying it did: `applied`, `stale` (a newer state was already stored), `ignored` (not ours). */
  outcome: z.enum(["applied", "stale", "ignored"]),
  created: timestampSchema,
  processedAt: timestampSchema,
  expiresAt: timestampSchema,
});
export type StripeEventDoc = z.output<typeof stripeEventDocSchema>;

/** Stripe keeps retrying an event for 3 days; its id is remembered well beyond that. */
export const STRIPE_EVENT_RETENTION_MS = 30 * 86_400_000;

/** The Price's lookup key for a plan and interval: prices are found by it, never by id in config. */
export function priceLookupKey(plan: PaidPlanId, interval: BillingInterval): string {
  return `whatsdex_${plan}_${interval}`;
}

/** The plan and interval a Price's lookup key names; null for a price that is not one of ours. */
export function planOfLookupKey(
  lookupKey: string | null | undefined,
): { plan: PaidPlanId; interval: BillingInterval } | null {
  const match = /^whatsdex_([a-z]+)_(month|year)$/.exec(lookupKey ?? "");
  if (!match) return null;
  const plan = paidPlanIdSchema.safeParse(match[1]);
  const interval = billingIntervalSchema.safeParse(match[2]);
  return plan.success && interval.success ? { plan: plan.data, interval: interval.data } : null;
}

/** Whether `plan` is one a tenant can subscribe to. */
export function isPaidPlan(plan: PlanId): plan is PaidPlanId {
  return plan !== "free";
}
