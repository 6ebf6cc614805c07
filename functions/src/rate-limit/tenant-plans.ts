import { PlanCatalog, type PlanId, type Refs } from "@whatsdex/core";
import { LRUCache } from "lru-cache";

/**
 * A tenant's plan, read once per `ttlMs` per instance: a plan change reaches the rate limiter of
 * every instance within the TTL. Asked only after the caller's access to the tenant was checked.
 */
export function cachedTenantPlans(
  refs: Refs,
  options: { ttlMs: number; maxTenants: number; now: () => number },
): (tenantId: string) => Promise<PlanId> {
  const cache = new LRUCache<string, { plan: PlanId; until: number }>({ max: options.maxTenants });
  return async (tenantId) => {
    const cached = cache.get(tenantId);
    if (cached && cached.until > options.now()) return cached.plan;
    const plan = (await refs.tenant(tenantId).get()).data()?.plan ?? PlanCatalog.defaultPlan;
    cache.set(tenantId, { plan, until: options.now() + options.ttlMs });
    return plan;
  };
}
