import { PlanCatalog, type PlanId } from "@whatsdex/core";
import type { RequestBudget } from "./token-buckets.ts";

/** Which budget applies to whom. */
export interface RateLimitPolicy {
  /** Requests without valid credentials, per client address. */
  address: RequestBudget;
  /** A tenant's plan → the budget of each of its API keys and of each member in it. */
  forPlan(plan: PlanId): { apiKey: RequestBudget; user: RequestBudget };
}

/**
 * The production policy: keys and members by their tenant's plan (the catalog), signed-in users on
 * routes outside a tenant by the default plan's member budget, anonymous callers by a small fixed one
 * (enough for the reference page's assets and an uptime check, not for probing keys).
 */
export const planPolicy: RateLimitPolicy = {
  address: { burst: 30, perSecond: 1 },
  forPlan(plan) {
    const { apiRequestsPerKey, apiRequestsPerUser } = PlanCatalog.get(plan);
    return { apiKey: apiRequestsPerKey, user: apiRequestsPerUser };
  },
};
