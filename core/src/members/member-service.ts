import { Timestamp, type Transaction } from "firebase-admin/firestore";
import type { AccessCache } from "../access/access-cache.ts";
import type { TenantAccess } from "../access/access-service.ts";
import { principalId } from "../access/principal.ts";
import type { Role } from "../access/roles.ts";
import { ConflictError, ForbiddenError, NotFoundError } from "../errors/domain-error.ts";
import { isAlreadyExists } from "../firestore/errors.ts";
import { type Page, type PageRequest, paginate } from "../firestore/pagination.ts";
import type { Refs } from "../firestore/refs.ts";
import type { MemberDoc } from "./schema.ts";
import type { UserDirectory } from "./user-directory.ts";

export type MemberTarget = { uid: string } | { email: string };

/**
 * Membership rules: only owners grant, change or revoke the owner role, and a tenant always keeps at
 * least one owner. Admins manage admins and viewers.
 */
export class MemberService {
  readonly #refs: Refs;
  readonly #users: UserDirectory;
  readonly #cache: AccessCache;

  constructor(refs: Refs, users: UserDirectory, cache: AccessCache) {
    this.#refs = refs;
    this.#users = users;
    this.#cache = cache;
  }

  list(tenantId: string, page: PageRequest): Promise<Page<{ id: string; path: string; data: MemberDoc }>> {
    return paginate(this.#refs.members(tenantId), page);
  }

  async get(tenantId: string, uid: string): Promise<MemberDoc> {
    const member = (await this.#refs.member(tenantId, uid).get()).data();
    if (!member) throw memberNotFound();
    return member;
  }

  async add(access: TenantAccess, target: MemberTarget, role: Role): Promise<MemberDoc> {
    requireOwnerFor(access, role === "owner");
    const user = "uid" in target ? { uid: target.uid, email: null } : await this.#users.findByEmail(target.email);
    if (!user) {
      throw new NotFoundError("No WhatsDeX account uses that email. Ask them to sign up first.", {
        details: { email: "email" in target ? target.email : undefined },
      });
    }
    const now = Timestamp.now();
    const member: MemberDoc = {
      uid: user.uid,
      role,
      email: user.email,
      addedBy: principalId(access.principal),
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.#refs.member(access.tenantId, user.uid).create(member);
    } catch (error) {
      if (isAlreadyExists(error)) throw new ConflictError("That user is already a member of this tenant.");
      throw error;
    }
    return member;
  }

  async changeRole(access: TenantAccess, uid: string, role: Role): Promise<MemberDoc> {
    const ref = this.#refs.member(access.tenantId, uid);
    const changed = await this.#refs.db.runTransaction(async (tx) => {
      const current = (await tx.get(ref)).data();
      if (!current) throw memberNotFound();
      requireOwnerFor(access, current.role === "owner" || role === "owner");
      if (current.role === "owner" && role !== "owner") await this.#requireAnotherOwner(tx, access.tenantId);
      const next: MemberDoc = { ...current, role, updatedAt: Timestamp.now() };
      tx.set(ref, next);
      return next;
    });
    // After the commit, so that a read racing the transaction cannot re-cache the old role.
    this.#cache.forgetRole(access.tenantId, uid);
    return changed;
  }

  async remove(access: TenantAccess, uid: string): Promise<void> {
    const ref = this.#refs.member(access.tenantId, uid);
    await this.#refs.db.runTransaction(async (tx) => {
      const current = (await tx.get(ref)).data();
      if (!current) throw memberNotFound();
      requireOwnerFor(access, current.role === "owner");
      if (current.role === "owner") await this.#requireAnotherOwner(tx, access.tenantId);
      tx.delete(ref);
    });
    this.#cache.forgetRole(access.tenantId, uid);
  }

  async #requireAnotherOwner(tx: Transaction, tenantId: string): Promise<void> {
    const owners = await tx.get(this.#refs.members(tenantId).where("role", "==", "owner").limit(2));
    if (owners.size < 2)
      throw new ConflictError("A tenant must keep at least one owner: make someone else owner first.");
  }
}

function requireOwnerFor(access: TenantAccess, ownerChange: boolean): void {
  if (ownerChange && access.role !== "owner")
    throw new ForbiddenError("Only an owner can grant or revoke the owner role.");
}

function memberNotFound(): NotFoundError {
  return new NotFoundError("Member not found.");
}
