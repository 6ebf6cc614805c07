import { z } from "zod";

/**
 * The local Stripe's control API (`/_control/…`), which `npm run stripe` and tests use to make
 * happen what Stripe does by itself: renewals, failed payments, the end of a period. One schema per
 * response, read by the CLI through them.
 */

/** The port `npm run dev` runs the local Stripe on, and `npm run stripe` looks for it at. */
export const LOCAL_STRIPE_DEV_PORT = 12111;

/** Actions on a subscription, as the URL and the CLI name them. */
export const controlActions = [
  "renew",
  "fail-payment",
  "pay",
  "require-action",
  "cancel-at-period-end",
  "end-period",
  "cancel-now",
  "trial-will-end",
  "pause",
  "resume",
  "unpaid",
] as const;
export const controlActionSchema = z.enum(controlActions);
export type ControlAction = z.output<typeof controlActionSchema>;

export const controlInvoiceSchema = z.object({
  id: z.string(),
  status: z.string(),
  amountDue: z.number(),
  attemptCount: z.number(),
  nextPaymentAttempt: z.number().nullable(),
});

/** Times are unix seconds, as in Stripe's objects. */
export const controlSubscriptionSchema = z.object({
  id: z.string(),
  customer: z.string(),
  tenantId: z.string().nullable(),
  status: z.string(),
  plan: z.string(),
  interval: z.string(),
  lookupKey: z.string(),
  amount: z.number(),
  created: z.number(),
  currentPeriodStart: z.number(),
  currentPeriodEnd: z.number(),
  cancelAtPeriodEnd: z.boolean(),
  cancelAt: z.number().nullable(),
  trialEnd: z.number().nullable(),
  latestInvoice: controlInvoiceSchema.nullable(),
});
export type ControlSubscription = z.output<typeof controlSubscriptionSchema>;

export const controlCustomerSchema = z.object({
  id: z.string(),
  name: z.string().nullable(),
  email: z.string().nullable(),
  tenantId: z.string().nullable(),
  created: z.number(),
});
export type ControlCustomer = z.output<typeof controlCustomerSchema>;

export const controlEventSchema = z.object({
  id: z.string(),
  type: z.string(),
  created: z.number(),
  state: z.enum(["pending", "delivered", "failed"]),
  attempts: z.array(
    z.object({ at: z.number(), status: z.number(), error: z.string().nullable(), redelivery: z.boolean() }),
  ),
});
export type ControlEvent = z.output<typeof controlEventSchema>;

export const controlResultSchema = z.object({
  subscription: controlSubscriptionSchema,
  events: z.array(controlEventSchema),
});
export type ControlResult = z.output<typeof controlResultSchema>;

export const controlSubscriptionListSchema = z.object({ data: z.array(controlSubscriptionSchema) });
export const controlCustomerListSchema = z.object({ data: z.array(controlCustomerSchema) });
/** `webhookUrl` null: events wait until one is set (npm run dev sets it once the function is up). */
export const controlEventListSchema = z.object({
  data: z.array(controlEventSchema),
  webhookUrl: z.string().nullable(),
});
export const controlErrorSchema = z.object({ error: z.object({ message: z.string() }) });
