import { PlanCatalog, type Principal, RateLimitedError, type TenantAccess } from "@whatsdex/core";
import type { Request, RequestHandler, Response } from "express";
import type { RateLimitPolicy } from "./policy.ts";
import { type BucketState, type RequestBudget, TokenBuckets } from "./token-buckets.ts";

export interface RateLimiterOptions {
  policy: RateLimitPolicy;
  /** Milliseconds; injected so tests move time instead of waiting. */
  now(): number;
  /** Buckets kept at once (per instance); the least recently used are forgotten first. */
  maxCallers: number;
}

type PolicyName = "address" | "key" | "user";

/**
 * Request budgets (token buckets) for the tenant API, kept in this instance's memory: per API key
 * and per member (keyed by tenant), per signed-in user outside a tenant, and per client address for
 * everything without valid credentials. Each answer names its budget in `RateLimit` and
 * `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers); a spent one answers 429 with
 * `Retry-After`. Approximate across instances: see docs/decisions/0014-api-rate-limits-and-response-contract.md.
 */
export class ApiRateLimiter {
  readonly #options: RateLimiterOptions;
  readonly #buckets: TokenBuckets;

  constructor(options: RateLimiterOptions) {
    this.#options = options;
    this.#buckets = new TokenBuckets({ maxKeys: options.maxCallers, now: options.now });
  }

  /**
   * First middleware: a request that a route will authenticate (credentials on an API route's
   * path) is charged after authentication, to its key or user, but not even looked up while its
   * address has spent its budget on failures. Every other request is charged to its address now.
   */
  addressBudget(isAuthenticatedRoute: (path: string) => boolean): RequestHandler {
    return (req, res, next) => {
      const key = addressKey(req);
      const budget = this.#options.policy.address;
      if (hasCredentials(req) && isAuthenticatedRoute(req.path)) {
        const state = this.#buckets.peek(key, budget);
        if (!state.allowed) return next(refusal(res, "address", budget, state));
        return next();
      }
      const state = this.#buckets.take(key, budget);
      describe(res, "address", budget, state);
      return next(state.allowed ? undefined : refusal(res, "address", budget, state));
    };
  }

  /** Credentials or access were refused: the attempt costs the address, as an anonymous request would. */
  chargeAddress(req: Request, res: Response): void {
    const budget = this.#options.policy.address;
    describe(res, "address", budget, this.#buckets.take(addressKey(req), budget));
  }

  /**
   * Charges an authenticated caller's budget; throws RateLimitedError when it is spent. `access`,
   * on a tenant's routes, carries the plan the access check read (no second read of the tenant).
   */
  chargePrincipal(
    principal: Principal,
    access: Pick<TenantAccess, "tenantId" | "plan"> | undefined,
    res: Response,
  ): void {
    const tenantId = access?.tenantId;
    const budgets = this.#options.policy.forPlan(access?.plan ?? PlanCatalog.defaultPlan);
    const [name, key, budget]: [PolicyName, string, RequestBudget] =
      principal.kind === "apiKey"
        ? ["key", `key:${principal.tenantId}/${principal.keyId}`, budgets.apiKey]
        : ["user", `user:${tenantId ?? ""}/${principal.uid}`, budgets.user];
    const state = this.#buckets.take(key, budget);
    describe(res, name, budget, state);
    if (!state.allowed) throw refusal(res, name, budget, state);
  }
}

function hasCredentials(req: Request): boolean {
  return req.get("x-api-key") !== undefined || req.get("authorization") !== undefined;
}

function addressKey(req: Request): string {
  return `address:${req.ip ?? req.socket.remoteAddress ?? "unknown"}`;
}

/** `q` is the bucket's size and `w` the seconds it takes to refill from empty. */
function describe(res: Response, name: PolicyName, budget: RequestBudget, state: BucketState): void {
  res.set("RateLimit-Policy", `"${name}";q=${budget.burst};w=${Math.ceil(budget.burst / budget.perSecond)}`);
  res.set("RateLimit", `"${name}";r=${state.remaining};t=${state.resetSeconds}`);
}

function refusal(res: Response, name: PolicyName, budget: RequestBudget, state: BucketState): RateLimitedError {
  describe(res, name, budget, state);
  const whose = { address: "this address's", key: "this API key's", user: "your" }[name];
  return new RateLimitedError(
    `Too many requests: ${whose} budget of ${budget.burst} requests (refilled at ${budget.perSecond}/s) is spent. Retry after ${state.retryAfterSeconds} s.`,
    state.retryAfterSeconds,
    { details: { policy: name, burst: budget.burst, perSecond: budget.perSecond } },
  );
}
