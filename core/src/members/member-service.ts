import { Timestamp, type Transaction } from "firebase-admin/firestore";
import type { AccessCache } from "../access/access-cache.ts";
import type { TenantAccess } from "../access/access-service.ts";
import { principalId, userPrincipalId } from "../access/principal.ts";
import type { Role } from "../access/roles.ts";
import { keysBeyondRole, revokeInTransaction } from "../api-keys/grants.ts";
import { type AuditContext, AuditLog } from "../audit/audit-log.ts";
import { ConflictError, ForbiddenError, NotFoundError } from "../errors/domain-error.ts";
import { type Page, type PageRequest, paginate } from "../firestore/pagination.ts";
import type { Refs } from "../firestore/refs.ts";
import type { MemberDoc } from "./schema.ts";
import type { UserDirectory } from "./user-directory.ts";

/**
 * Membership rules: only owners grant, change or revoke the owner role, and a tenant always keeps at
 * least one owner. Admins manage admins and viewers. A member who loses a role loses, in the same
 * transaction, the API keys they made that their new role could not make.
 */
export class MemberService {
  readonly #refs: Refs;
  readonly #users: UserDirectory;
  readonly #cache: AccessCache;
  readonly #audit: AuditLog;

  constructor(refs: Refs, users: UserDirectory, cache: AccessCache, audit: AuditLog = new AuditLog(refs.db)) {
    this.#refs = refs;
    this.#users = users;
    this.#cache = cache;
    this.#audit = audit;
  }

  /**
   * Everyone's membership (with their emails) for owners, admins and `admin`-scoped keys; a viewer
   * sees only their own, as the Firestore rules allow; other keys see none.
   */
  async list(access: TenantAccess, page: PageRequest): Promise<Page<{ id: string; path: string; data: MemberDoc }>> {
    const { principal, tenantId } = access;
    if (access.role === "owner" || access.role === "admin") return paginate(this.#refs.members(tenantId), page);
    if (principal.kind === "apiKey") {
      if (principal.scopes.includes("admin")) return paginate(this.#refs.members(tenantId), page);
      throw new ForbiddenError("Listing members needs an API key with the admin scope.", {
        details: { permission: "members:read" },
      });
    }
    if (page.cursor) return { items: [], nextCursor: null };
    const ref = this.#refs.member(tenantId, principal.uid);
    const self = (await ref.get()).data();
    return { items: self ? [{ id: ref.id, path: ref.path, data: self }] : [], nextCursor: null };
  }

  async get(tenantId: string, uid: string): Promise<MemberDoc> {
    const member = (await this.#refs.member(tenantId, uid).get()).data();
    if (!member) throw memberNotFound();
    return member;
  }

  /**
   * Adds an existing account by its uid. The uid is no claim anyone can make about someone else, so
   * it grants at once; the email is recorded only if the account has verified it (ADR 15). Adding
   * by email goes through an invitation instead (InvitationService).
   */
  async addByUid(access: TenantAccess, uid: string, role: Role, context: AuditContext): Promise<MemberDoc> {
    requireOwnerFor(access, role === "owner");
    const user = await this.#users.get(uid);
    if (!user) throw new NotFoundError("No WhatsDeX account has that uid.", { details: { uid } });
    const now = Timestamp.now();
    const member: MemberDoc = {
      uid: user.uid,
      role,
      email: user.emailVerified ? (user.email?.toLowerCase() ?? null) : null,
      addedBy: principalId(access.principal),
      createdAt: now,
      updatedAt: now,
    };
    const ref = this.#refs.member(access.tenantId, user.uid);
    await this.#refs.db.runTransaction(async (tx) => {
      if ((await tx.get(ref)).exists) throw alreadyMember();
      tx.create(ref, member);
      this.#audit.record(tx, access.tenantId, context, {
        action: "member.added",
        target: `member:${user.uid}`,
        before: null,
        after: member,
      });
    });
    return member;
  }

  async changeRole(access: TenantAccess, uid: string, role: Role, context: AuditContext): Promise<MemberDoc> {
    const ref = this.#refs.member(access.tenantId, uid);
    const { changed, revokedKeys } = await this.#refs.db.runTransaction(async (tx) => {
      const current = (await tx.get(ref)).data();
      if (!current) throw memberNotFound();
      requireOwnerFor(access, current.role === "owner" || role === "owner");
      if (current.role === "owner" && role !== "owner") await this.#requireAnotherOwner(tx, access.tenantId);
      const lapsed = await keysBeyondRole(tx, this.#refs, access.tenantId, userPrincipalId(uid), role);
      const next: MemberDoc = { ...current, role, updatedAt: Timestamp.now() };
      tx.set(ref, next);
      this.#audit.record(tx, access.tenantId, context, {
        action: "member.role_changed",
        target: `member:${uid}`,
        before: current,
        after: next,
      });
      revokeInTransaction(tx, this.#refs, this.#audit, context, access.tenantId, lapsed);
      return { changed: next, revokedKeys: lapsed.keys.map((k) => k.id) };
    });
    // After the commit, so that a read racing the transaction cannot re-cache the old role.
    this.#cache.forgetRole(access.tenantId, uid);
    for (const keyId of revokedKeys) this.#cache.forgetApiKey(access.tenantId, keyId);
    return changed;
  }

  async remove(access: TenantAccess, uid: string, context: AuditContext): Promise<void> {
    const ref = this.#refs.member(access.tenantId, uid);
    const revokedKeys = await this.#refs.db.runTransaction(async (tx) => {
      const current = (await tx.get(ref)).data();
      if (!current) throw memberNotFound();
      requireOwnerFor(access, current.role === "owner");
      if (current.role === "owner") await this.#requireAnotherOwner(tx, access.tenantId);
      const lapsed = await keysBeyondRole(tx, this.#refs, access.tenantId, userPrincipalId(uid), undefined);
      tx.delete(ref);
      this.#audit.record(tx, access.tenantId, context, {
        action: "member.removed",
        target: `member:${uid}`,
        before: current,
        after: null,
      });
      revokeInTransaction(tx, this.#refs, this.#audit, context, access.tenantId, lapsed);
      return lapsed.keys.map((k) => k.id);
    });
    this.#cache.forgetRole(access.tenantId, uid);
    for (const keyId of revokedKeys) this.#cache.forgetApiKey(access.tenantId, keyId);
  }

  async #requireAnotherOwner(tx: Transaction, tenantId: string): Promise<void> {
    const owners = await tx.get(this.#refs.members(tenantId).where("role", "==", "owner").limit(2));
    if (owners.size < 2)
      throw new ConflictError("A tenant must keep at least one owner: make someone else owner first.");
  }
}

export function requireOwnerFor(access: TenantAccess, ownerChange: boolean): void {
  if (ownerChange && access.role !== "owner")
    throw new ForbiddenError("Only an owner can grant or revoke the owner role.");
}

export function alreadyMember(): ConflictError {
  return new ConflictError("That user is already a member of this tenant.");
}

function memberNotFound(): NotFoundError {
  return new NotFoundError("Member not found.");
}
