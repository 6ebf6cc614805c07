import type { ApiKeyScope } from "./roles.ts";

/** Who is calling: a signed-in dashboard user, or a tenant's API key. */
export type Principal =
  | { kind: "user"; uid: string; email: string | null }
  | { kind: "apiKey"; tenantId: string; keyId: string; scopes: readonly ApiKeyScope[] };

/** How a principal is recorded in `createdBy`/`requestedBy` fields and audit entries. */
export function principalId(principal: Principal): string {
  return principal.kind === "user" ? userPrincipalId(principal.uid) : `apiKey:${principal.keyId}`;
}

/** A member's principal id, by uid (what their keys' `createdBy` holds). */
export function userPrincipalId(uid: string): string {
  return `user:${uid}`;
}
