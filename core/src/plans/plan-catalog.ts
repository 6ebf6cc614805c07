import { z } from "zod";

export const planIds = ["free", "starter", "business", "enterprise"] as const;
export const planIdSchema = z.enum(planIds);
export type PlanId = z.output<typeof planIdSchema>;

/** Every Gemini model some plan may use; a bot's `settings.ai.model` is one of its plan's. */
export const aiModels = ["gemini-2.5-flash-lite", "gemini-2.5-flash", "gemini-2.5-pro"] as const;
export type AiModel = (typeof aiModels)[number];

/** Tenants one user may have created that are on the free plan at once (paid ones do not count). */
export const MAX_FREE_TENANTS_PER_USER = 3;

/** A request budget as a token bucket: up to `burst` requests at once, refilled at `perSecond`. */
export interface RequestBudget {
  burst: number;
  perSecond: number;
}

/** What a plan allows. Every limit is enforced by a service before any work is queued. */
export interface Plan {
  id: PlanId;
  name: string;
  /** Bots (linked WhatsApp numbers) the tenant may have at once. */
  maxBots: number;
  /** Messages the tenant's bots may send per UTC day, replies and campaigns together. */
  messagesPerDay: number;
  /** Recipients one campaign may address; 0 = campaigns are not part of the plan. */
  maxCampaignRecipients: number;
  /** Gemini calls (AI answers, search, translations) per UTC day. */
  aiCallsPerDay: number;
  /** API keys that may be active at once. */
  maxApiKeys: number;
  /** Monthly price in US cents, as shown to customers; Stripe holds the authoritative price. */
  priceUsdCents: number;
  /** Days a tenant's first subscription to this plan is free (Checkout's trial); 0 = no trial. */
  trialDays: number;
  /** Gemini models the tenant's bots may use (`settings.ai.model`). */
  aiModels: readonly AiModel[];
  /** The model a bot falls back to when its own is not (or no longer) one of `aiModels`. */
  defaultAiModel: AiModel;
  /** Tenant API requests one of the tenant's API keys may make (kept per function instance: ADR 14). */
  apiRequestsPerKey: RequestBudget;
  /** Tenant API requests one member may make in the tenant (kept per function instance: ADR 14). */
  apiRequestsPerUser: RequestBudget;
}

const everyDayModels: readonly AiModel[] = ["gemini-2.5-flash-lite", "gemini-2.5-flash"];

const catalog: Readonly<Record<PlanId, Plan>> = {
  free: {
    id: "free",
    name: "Free",
    maxBots: 1,
    messagesPerDay: 250,
    maxCampaignRecipients: 0,
    aiCallsPerDay: 50,
    maxApiKeys: 2,
    priceUsdCents: 0,
    trialDays: 0,
    aiModels: everyDayModels,
    defaultAiModel: "gemini-2.5-flash",
    apiRequestsPerKey: { burst: 20, perSecond: 1 },
    apiRequestsPerUser: { burst: 60, perSecond: 2 },
  },
  starter: {
    id: "starter",
    name: "Starter",
    maxBots: 3,
    messagesPerDay: 5_000,
    maxCampaignRecipients: 1_000,
    aiCallsPerDay: 1_000,
    maxApiKeys: 5,
    priceUsdCents: 2_900,
    trialDays: 14,
    aiModels: everyDayModels,
    defaultAiModel: "gemini-2.5-flash",
    apiRequestsPerKey: { burst: 50, perSecond: 5 },
    apiRequestsPerUser: { burst: 100, perSecond: 5 },
  },
  business: {
    id: "business",
    name: "Business",
    maxBots: 10,
    messagesPerDay: 50_000,
    maxCampaignRecipients: 20_000,
    aiCallsPerDay: 10_000,
    maxApiKeys: 20,
    priceUsdCents: 9_900,
    trialDays: 14,
    aiModels: aiModels,
    defaultAiModel: "gemini-2.5-flash",
    apiRequestsPerKey: { burst: 200, perSecond: 20 },
    apiRequestsPerUser: { burst: 200, perSecond: 10 },
  },
  enterprise: {
    id: "enterprise",
    name: "Enterprise",
    maxBots: 50,
    messagesPerDay: 500_000,
    maxCampaignRecipients: 200_000,
    aiCallsPerDay: 100_000,
    maxApiKeys: 100,
    priceUsdCents: 49_900,
    trialDays: 0,
    aiModels: aiModels,
    defaultAiModel: "gemini-2.5-flash",
    apiRequestsPerKey: { burst: 500, perSecond: 50 },
    apiRequestsPerUser: { burst: 400, perSecond: 20 },
  },
};

/** Plans are data: one catalog, read by every service that enforces a limit. */
export const PlanCatalog = {
  get(id: PlanId): Plan {
    return catalog[id];
  },
  all(): Plan[] {
    return planIds.map((id) => catalog[id]);
  },
  defaultPlan: "free" as PlanId,
  /** The model to ask: the one wanted if the plan allows it, else the plan's default (after a downgrade). */
  aiModelFor(id: PlanId, wanted: string): AiModel {
    const plan = catalog[id];
    return plan.aiModels.find((model) => model === wanted) ?? plan.defaultAiModel;
  },
};
