import type { Transaction } from "firebase-admin/firestore";
import { FieldValue, Timestamp } from "firebase-admin/firestore";
import { type ApiKeyScope, permissions, type Role, roleAllows, scopesAllow } from "../access/roles.ts";
import type { AuditContext, AuditLog } from "../audit/audit-log.ts";
import type { Refs } from "../firestore/refs.ts";
import type { ApiKeyDoc } from "./schema.ts";

/**
 * A member may grant a scope when their role manages keys and allows everything the scope allows:
 * a key never carries more than its creator could do. Keys cannot make keys, so a key's creator is
 * always a member (`user:<uid>`).
 */
export function roleMayGrant(role: Role | undefined, scopes: readonly ApiKeyScope[]): boolean {
  if (!role || !roleAllows(role, "apiKeys:manage")) return false;
  return scopes.every((scope) =>
    permissions.every((permission) => !scopesAllow([scope], permission) || roleAllows(role, permission)),
  );
}

export interface KeysToRevoke {
  keys: { id: string; key: ApiKeyDoc }[];
}

/**
 * Reads (inside `tx`, before any write) the live keys `createdBy` made that `role` could no longer
 * grant; `role` undefined means they are no longer a member, so every live key of theirs goes.
 */
export async function keysBeyondRole(
  tx: Transaction,
  refs: Refs,
  tenantId: string,
  createdBy: string,
  role: Role | undefined,
): Promise<KeysToRevoke> {
  const snapshot = await tx.get(refs.apiKeys(tenantId).where("createdBy", "==", createdBy));
  const keys = snapshot.docs
    .map((doc) => ({ id: doc.id, key: doc.data() }))
    .filter(({ key }) => key.revokedAt === null && !roleMayGrant(role, key.scopes));
  return { keys };
}

/** Writes (inside `tx`) the revocation of each key, its counter and its audit entry. */
export function revokeInTransaction(
  tx: Transaction,
  refs: Refs,
  audit: AuditLog,
  context: AuditContext,
  tenantId: string,
  { keys }: KeysToRevoke,
): void {
  if (keys.length === 0) return;
  const revokedAt = Timestamp.now();
  for (const { id, key } of keys) {
    tx.update(refs.apiKey(tenantId, id), { revokedAt });
    audit.record(tx, tenantId, context, {
      action: "apiKey.revoked",
      target: `apiKey:${id}`,
      before: { revokedAt: key.revokedAt },
      after: { revokedAt },
    });
  }
  tx.update(refs.tenant(tenantId), { apiKeyCount: FieldValue.increment(-keys.length) });
}
