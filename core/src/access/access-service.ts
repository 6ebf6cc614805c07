import { ForbiddenError, NotFoundError } from "../errors/domain-error.ts";
import type { Refs } from "../firestore/refs.ts";
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
 * gets the same NotFound as for a tenant that does not exist, so ids cannot be probed; members who
 * lack the permission get Forbidden.
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
      if (!scopesAllow(principal.scopes, permission)) {
        throw new ForbiddenError(`This API key's scopes do not allow ${permission}.`, { details: { permission } });
      }
      return { tenantId, principal, role: undefined };
    }
    const role = this.#cache.role(tenantId, principal.uid) ?? (await this.#readRole(tenantId, principal.uid));
    if (!role) throw tenantNotFound();
    if (!roleAllows(role, permission)) {
      throw new ForbiddenError(`Your role (${role}) does not allow ${permission}.`, { details: { permission, role } });
    }
    return { tenantId, principal, role };
  }

  async #readRole(tenantId: string, uid: string): Promise<Role | undefined> {
    const role = (await this.#refs.member(tenantId, uid).get()).data()?.role;
    if (role) this.#cache.rememberRole(tenantId, uid, role);
    return role;
  }
}

export function tenantNotFound(): NotFoundError {
  return new NotFoundError("Tenant not found.");
}
