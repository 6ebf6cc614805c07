import { ForbiddenError, NotFoundError, TenantClosingError, TenantSuspendedError } from "../errors/domain-error.ts";
import type { Refs } from "../firestore/refs.ts";
import type { PlanId } from "../plans/plan-catalog.ts";
import type { AccessCache, TenantFacts } from "./access-cache.ts";
import type { Principal } from "./principal.ts";
import { type Permission, type Role, roleAllows, scopesAllow } from "./roles.ts";

export interface TenantAccess {
  tenantId: string;
  principal: Principal;
  /** The member's role; undefined for API keys. */
  role: Role | undefined;
  /** The tenant's plan, as read for this check (its budgets size the caller's rate limit). */
  plan: PlanId;
}

/**
 * Decides whether `principal` may do `permission` in `tenantId`. Anyone who is not in the tenant
 * gets the same NotFound as for a tenant that does not exist, so ids cannot be probed; members and
 * keys of a suspended tenant get TenantSuspended, for every permission, reads included (ADR 16);
 * those of a tenant whose account is being closed get TenantClosing, but for `tenant:delete` (the
 * owner asking again, or asking how far the closing got: ADR 23); members who lack the permission
 * get Forbidden.
 */
export class AccessService {
  readonly #refs: Refs;
  readonly #cache: AccessCache;

  constructor(refs: Refs, cache: AccessCache) {
    this.#refs = refs;
    this.#cache = cache;
  }

  async require(principal: Principal, tenantId: string, permission: Permission): Promise<TenantAccess> {
    if (principal.kind === "apiKey") {
      // The key was looked up under this tenant, but check anyway: it is the isolation boundary.
      if (principal.tenantId !== tenantId) throw tenantNotFound();
      const tenant = assertActive(await this.#tenant(tenantId), permission);
      if (!scopesAllow(principal.scopes, permission)) {
        throw new ForbiddenError(`This API key's scopes do not allow ${permission}.`, { details: { permission } });
      }
      return { tenantId, principal, role: undefined, plan: tenant.plan };
    }
    // Both are usually cached; when not, read them together.
    const [role, facts] = await Promise.all([
      this.#cache.role(tenantId, principal.uid) ?? this.#readRole(tenantId, principal.uid),
      this.#tenant(tenantId),
    ]);
    if (!role) throw tenantNotFound();
    // Only now: a stranger learns nothing about the tenant, its suspension included.
    const tenant = assertActive(facts, permission);
    if (!roleAllows(role, permission)) {
      throw new ForbiddenError(`Your role (${role}) does not allow ${permission}.`, { details: { permission, role } });
    }
    return { tenantId, principal, role, plan: tenant.plan };
  }

  /**
   * A change this instance made to the tenant's status (an account closing): its next request sees
   * it at once; other instances within the cache's TTL.
   */
  tenantChanged(tenantId: string, facts: TenantFacts): void {
    this.#cache.rememberTenant(tenantId, facts);
  }

  async #tenant(tenantId: string): Promise<TenantFacts | undefined> {
    const cached = this.#cache.tenant(tenantId);
    if (cached) return cached;
    const doc = (await this.#refs.tenant(tenantId).get()).data();
    if (!doc) return undefined;
    const facts = { status: doc.status, plan: doc.plan };
    this.#cache.rememberTenant(tenantId, facts);
    return facts;
  }

  async #readRole(tenantId: string, uid: string): Promise<Role | undefined> {
    const role = (await this.#refs.member(tenantId, uid).get()).data()?.role;
    if (role) this.#cache.rememberRole(tenantId, uid, role);
    return role;
  }
}

/** A member of a tenant whose document is gone (being deleted) finds nothing, like anyone else. */
function assertActive(tenant: TenantFacts | undefined, permission: Permission): TenantFacts {
  if (tenant === undefined) throw tenantNotFound();
  if (tenant.status === "suspended") {
    throw new TenantSuspendedError("This tenant is suspended: nothing can be done in it until it is reinstated.");
  }
  if (tenant.status === "deleting" && permission !== "tenant:delete") {
    throw new TenantClosingError(
      "This tenant's account is being closed: its bots are logged out and its data is being deleted.",
    );
  }
  return tenant;
}

export function tenantNotFound(): NotFoundError {
  return new NotFoundError("Tenant not found.");
}
