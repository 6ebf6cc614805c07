import { ForbiddenError, NotFoundError } from "../errors/domain-error.ts";
import type { Refs } from "../firestore/refs.ts";
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

  constructor(refs: Refs) {
    this.#refs = refs;
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
    const member = await this.#refs.member(tenantId, principal.uid).get();
    const role = member.data()?.role;
    if (!role) throw tenantNotFound();
    if (!roleAllows(role, permission)) {
      throw new ForbiddenError(`Your role (${role}) does not allow ${permission}.`, { details: { permission, role } });
    }
    return { tenantId, principal, role };
  }
}

export function tenantNotFound(): NotFoundError {
  return new NotFoundError("Tenant not found.");
}
