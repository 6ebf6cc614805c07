import { billingIntervalSchema, billingSnapshotSchema, PlanCatalog, paidPlanIdSchema } from "@whatsdex/core";
import { z } from "zod";
import { auditContext } from "../audit/context.ts";
import { defineRoute } from "../http/route.ts";
import { tenantParams } from "../http/schemas.ts";

const usageLine = z.object({ used: z.number().int(), limit: z.number().int() });

export const billingSummarySchema = billingSnapshotSchema
  .extend({
    planName: z.string(),
    outboundRestricted: z.boolean().meta({
      description: "API sends are refused now (402): a payment failed and the grace period is over.",
    }),
    usage: z.object({
      day: z.string().meta({ description: "The UTC day the daily counters are for (YYYY-MM-DD)." }),
      bots: usageLine.meta({ description: "Bots that exist, against the plan's bots." }),
      runningBots: usageLine.meta({ description: "Bots that should run, against the plan's bots." }),
      messagesToday: usageLine,
      aiCallsToday: usageLine,
      campaignRecipients: z.object({ limit: z.number().int() }).meta({ description: "Recipients per campaign." }),
    }),
  })
  .meta({ id: "BillingSummary" });

const checkoutBody = z.strictObject({
  plan: paidPlanIdSchema.meta({
    description: `The plan to buy: ${PlanCatalog.all()
      .filter((plan) => plan.id !== "free")
      .map((plan) => `\`${plan.id}\` (${plan.maxBots} bots, US$${plan.priceUsdCents / 100}/month)`)
      .join(", ")}.`,
  }),
  interval: billingIntervalSchema.default("month").meta({ description: "Billed monthly (default) or yearly." }),
});

const redirectSchema = z
  .object({ url: z.url().meta({ description: "Send the customer's browser here (Stripe's page)." }) })
  .meta({ id: "BillingRedirect" });

export const planSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    priceUsdCents: z.number().int().meta({ description: "Per month, as shown; Stripe's Price is what is charged." }),
    trialDays: z.number().int().meta({ description: "Free days of a tenant's first subscription (0: none)." }),
    limits: z.object({
      maxBots: z.number().int().meta({ description: "Bots that may run at once." }),
      messagesPerDay: z.number().int(),
      aiCallsPerDay: z.number().int(),
      maxCampaignRecipients: z.number().int(),
      maxApiKeys: z.number().int(),
    }),
    aiModels: z.array(z.string()),
  })
  .meta({ id: "Plan" });

const notConfigured = { description: "Billing is not configured on this deployment (code `unavailable`)." };

export const billingRoutes = [
  defineRoute({
    method: "get",
    path: "/plans",
    operationId: "listPlans",
    summary: "The plans a tenant can be on, with their limits and prices",
    tag: "Billing",
    auth: "user",
    responses: { 200: { description: "Every plan, Free first", schema: z.object({ items: z.array(planSchema) }) } },
    async handle() {
      const items = PlanCatalog.all().map((plan) => ({
        id: plan.id,
        name: plan.name,
        priceUsdCents: plan.priceUsdCents,
        trialDays: plan.trialDays,
        limits: {
          maxBots: plan.maxBots,
          messagesPerDay: plan.messagesPerDay,
          aiCallsPerDay: plan.aiCallsPerDay,
          maxCampaignRecipients: plan.maxCampaignRecipients,
          maxApiKeys: plan.maxApiKeys,
        },
        aiModels: [...plan.aiModels],
      }));
      return { status: 200, body: { items } };
    },
  }),
  defineRoute({
    method: "get",
    path: "/tenants/{tenantId}/billing",
    operationId: "getBilling",
    summary: "The tenant's plan, subscription and usage against every limit",
    tag: "Billing",
    auth: "user-or-api-key",
    permission: "billing:read",
    params: tenantParams,
    responses: { 200: { description: "The billing summary", schema: billingSummarySchema } },
    async handle({ params, services }) {
      return { status: 200, body: await services.billing.summary(params.tenantId) };
    },
  }),
  defineRoute({
    method: "post",
    path: "/tenants/{tenantId}/billing/checkout",
    operationId: "startCheckout",
    summary: "Start a subscription: a Stripe Checkout page for the plan",
    description:
      "Owners only, signed in (no API key). The plan changes when Stripe confirms the payment, through its webhook, " +
      "not when this returns. A tenant that already subscribes changes plans in the customer portal.",
    tag: "Billing",
    auth: "user",
    permission: "billing:manage",
    params: tenantParams,
    body: checkoutBody,
    responses: {
      200: { description: "The Checkout page", schema: redirectSchema.extend({ sessionId: z.string() }) },
      409: { description: "The tenant already has a live subscription (code `conflict`): use the portal." },
      503: notConfigured,
    },
    async handle(context) {
      const { access, body, services } = context;
      return { status: 200, body: await services.billing.startCheckout(access, body, auditContext(context)) };
    },
  }),
  defineRoute({
    method: "post",
    path: "/tenants/{tenantId}/billing/portal",
    operationId: "openBillingPortal",
    summary: "Manage the subscription: a Stripe customer portal page (plan, card, invoices, cancellation)",
    description: "Owners only, signed in (no API key).",
    tag: "Billing",
    auth: "user",
    permission: "billing:manage",
    params: tenantParams,
    responses: {
      200: { description: "The portal page", schema: redirectSchema },
      409: { description: "The tenant has never subscribed (code `conflict`): start with checkout." },
      503: notConfigured,
    },
    async handle({ access, services }) {
      return { status: 200, body: await services.billing.openPortal(access) };
    },
  }),
];
