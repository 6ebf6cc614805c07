import { ForbiddenError, NotFoundError, TenantSuspendedError } from "../errors/domain-error.ts";
import type { Refs } from "../firestore/refs.ts";
import type { TenantDoc } from "../tenants/schema.ts";
import type { AccessCache } from "./access-cache.ts";
import type { Principal } from "./principal.ts";
import { type Permission, type Role, roleAllows, scopesAllow } from "./roles.ts";

export interface TenantAccess {
  tenantId: string;
  principal: Principal;
  /** The member's role; undefined for API keys. */
  role: Role | undefined;
}

/**
 * Decides whether `principal` may do `permission` in `tenantId`. Anyone who is not in the tenant
 * gets the same NotFound as for a tenant that does not exist, so ids cannot be probed; members and
 * keys of a suspended tenant get TenantSuspended, for every permission, reads included (ADR 16);
 * members who lack the permission get Forbidden.
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
      assertActive(await this.#tenantStatus(tenantId));
      if (!scopesAllow(principal.scopes, permission)) {
        throw new ForbiddenError(`This API key's scopes do not allow ${permission}.`, { details: { permission } });
      }
      return { tenantId, principal, role: undefined };
    }
    // Both are usually cached; when not, read them together.
    const [role, status] = await Promise.all([
      this.#cache.role(tenantId, principal.uid) ?? this.#readRole(tenantId, principal.uid),
      this.#tenantStatus(tenantId),
    ]);
    if (!role) throw tenantNotFound();
    // Only now: a stranger learns nothing about the tenant, its suspension included.
    assertActive(status);
    if (!roleAllows(role, permission)) {
      throw new ForbiddenError(`Your role (${role}) does not allow ${permission}.`, { details: { permission, role } });
    }
    return { tenantId, principal, role };
  }

  async #tenantStatus(tenantId: string): Promise<TenantDoc["status"] | undefined> {
    const cached = this.#cache.tenantStatus(tenantId);
    if (cached) return cached;
    const status = (await this.#refs.tenant(tenantId).get()).data()?.status;
    if (status) this.#cache.rememberTenantStatus(tenantId, status);
    return status;
  }

  async #readRole(tenantId: string, uid: string): Promise<Role | undefined> {
    const role = (await this.#refs.member(tenantId, uid).get()).data()?.role;
    if (role) this.#cache.rememberRole(tenantId, uid, role);
    return role;
  }
}

/** A member of a tenant whose document is gone (being deleted) finds nothing, like anyone else. */
function assertActive(status: TenantDoc["status"] | undefined): void {
  if (status === undefined) throw tenantNotFound();
  if (status === "suspended") {
    throw new TenantSuspendedError("This tenant is suspended: nothing can be done in it until it is reinstated.");
  }
}

export function tenantNotFound(): NotFoundError {
  return new NotFoundError("Tenant not found.");
}
