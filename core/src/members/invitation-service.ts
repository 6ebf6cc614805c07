import type { CollectionReference, DocumentReference } from "firebase-admin/firestore";
import { Timestamp } from "firebase-admin/firestore";
import type { TenantAccess } from "../access/access-service.ts";
import { type Principal, principalId } from "../access/principal.ts";
import { type Role, roleAllows } from "../access/roles.ts";
import { type AuditContext, AuditLog } from "../audit/audit-log.ts";
import { ConflictError, ForbiddenError, NotFoundError, UnauthenticatedError } from "../errors/domain-error.ts";
import { zodConverter } from "../firestore/converter.ts";
import { type Page, type PageRequest, paginate } from "../firestore/pagination.ts";
import { tenantPath } from "../firestore/paths.ts";
import type { Refs } from "../firestore/refs.ts";
import { type InvitationDoc, invitationDocSchema } from "./invitation-schema.ts";
import { alreadyMember, requireOwnerFor } from "./member-service.ts";
import type { MemberDoc } from "./schema.ts";
import type { UserDirectory } from "./user-directory.ts";

/** How long an invitation can be accepted. */
export const INVITATION_TTL_MS = 7 * 86_400_000;

const converter = zodConverter(invitationDocSchema);

export type InvitationState = InvitationDoc["status"] | "expired";

/** What the API shows: `expired` is a pending invitation past its `expiresAt`. */
export function invitationState(invitation: InvitationDoc, now = Date.now()): InvitationState {
  return invitation.status === "pending" && invitation.expiresAt.toMillis() <= now ? "expired" : invitation.status;
}

/**
 * Adding someone by email is an invitation: an email address typed by an admin proves nothing about
 * which account owns it (anyone can sign up claiming any address), so nothing is granted until the
 * invitee signs in with that address verified and accepts (ADR 15).
 */
export class InvitationService {
  readonly #refs: Refs;
  readonly #users: UserDirectory;
  readonly #audit: AuditLog;

  constructor(refs: Refs, users: UserDirectory, audit: AuditLog = new AuditLog(refs.db)) {
    this.#refs = refs;
    this.#users = users;
    this.#audit = audit;
  }

  #collection(tenantId: string): CollectionReference<InvitationDoc> {
    return this.#refs.db.collection(`${tenantPath(tenantId)}/invitations`).withConverter(converter);
  }

  #ref(tenantId: string, invitationId: string): DocumentReference<InvitationDoc> {
    return this.#collection(tenantId).doc(invitationId);
  }

  async invite(
    access: TenantAccess,
    input: { email: string; role: Role },
    context: AuditContext,
  ): Promise<{ id: string; invitation: InvitationDoc }> {
    requireOwnerFor(access, input.role === "owner");
    const email = input.email.trim().toLowerCase();
    const ref = this.#collection(access.tenantId).doc();
    const now = Timestamp.now();
    const invitation: InvitationDoc = {
      invitationId: ref.id,
      email,
      role: input.role,
      invitedBy: principalId(access.principal),
      status: "pending",
      acceptedBy: null,
      createdAt: now,
      updatedAt: now,
      expiresAt: Timestamp.fromMillis(now.toMillis() + INVITATION_TTL_MS),
    };
    await this.#refs.db.runTransaction(async (tx) => {
      const [pending, members] = await Promise.all([
        tx.get(this.#collection(access.tenantId).where("email", "==", email)),
        tx.get(this.#refs.members(access.tenantId).where("email", "==", email).limit(1)),
      ]);
      if (!members.empty) throw alreadyMember();
      if (pending.docs.some((doc) => invitationState(doc.data(), now.toMillis()) === "pending")) {
        throw new ConflictError("That email has a pending invitation already; revoke it to send another.");
      }
      tx.create(ref, invitation);
      this.#audit.record(tx, access.tenantId, context, {
        action: "invitation.created",
        target: `invitation:${ref.id}`,
        before: null,
        after: invitation,
      });
    });
    return { id: ref.id, invitation };
  }

  list(tenantId: string, page: PageRequest): Promise<Page<{ id: string; path: string; data: InvitationDoc }>> {
    return paginate(this.#collection(tenantId), page);
  }

  /** Revokes a pending invitation; an owner's invitation only an owner may revoke. */
  async revoke(access: TenantAccess, invitationId: string, context: AuditContext): Promise<InvitationDoc> {
    const ref = this.#ref(access.tenantId, invitationId);
    return this.#refs.db.runTransaction(async (tx) => {
      const current = (await tx.get(ref)).data();
      if (!current) throw invitationNotFound();
      requireOwnerFor(access, current.role === "owner");
      if (current.status !== "pending") {
        throw new ConflictError(`The invitation is ${current.status} already.`, {
          details: { status: current.status },
        });
      }
      const next: InvitationDoc = { ...current, status: "revoked", updatedAt: Timestamp.now() };
      tx.set(ref, next);
      this.#audit.record(tx, access.tenantId, context, {
        action: "invitation.revoked",
        target: `invitation:${invitationId}`,
        before: current,
        after: next,
      });
      return next;
    });
  }

  /**
   * The invitee accepts, signed in. The account must have verified the invited address (checked
   * against Firebase Auth's record now, not only the token), and whoever invited them must still
   * be able to grant the role; then membership and the accepted invitation commit together.
   */
  async accept(
    principal: Principal,
    invitationId: string,
    requestId: string | null,
  ): Promise<{ tenantId: string; member: MemberDoc; invitation: InvitationDoc }> {
    if (principal.kind !== "user") throw new UnauthenticatedError("Invitations are accepted by signed-in users.");
    // Invitation ids are Firestore auto-ids, unique across tenants; the link names only the id.
    const found = await this.#refs.db
      .collectionGroup("invitations")
      .where("invitationId", "==", invitationId)
      .withConverter(converter)
      .limit(2)
      .get();
    const tenantId = found.size === 1 ? found.docs[0]?.ref.parent.parent?.id : undefined;
    if (!tenantId) throw invitationNotFound();
    const account = await this.#users.get(principal.uid);
    const email = account?.email?.toLowerCase() ?? null;
    if (!account || !email || !account.emailVerified) {
      throw new ForbiddenError("Verify your email address first, then accept the invitation.", {
        details: { reason: "email_not_verified" },
      });
    }
    if (principal.email?.toLowerCase() !== email) {
      throw new UnauthenticatedError("Your account's email changed since you signed in; sign in again.");
    }
    const ref = this.#ref(tenantId, invitationId);
    const memberRef = this.#refs.member(tenantId, principal.uid);
    const context: AuditContext = { actor: { kind: "user", id: principal.uid }, requestId };
    return this.#refs.db.runTransaction(async (tx) => {
      const current = (await tx.get(ref)).data();
      if (!current) throw invitationNotFound();
      if (current.email !== email) {
        throw new ForbiddenError("This invitation is for another email address: sign in with the one it was sent to.", {
          details: { reason: "email_mismatch" },
        });
      }
      const state = invitationState(current);
      if (state !== "pending") {
        throw new ConflictError(`The invitation is ${state}; ask for a new one.`, { details: { status: state } });
      }
      const [existing, inviter] = await Promise.all([
        tx.get(memberRef),
        current.invitedBy.startsWith("user:")
          ? tx.get(this.#refs.member(tenantId, current.invitedBy.slice("user:".length)))
          : undefined,
      ]);
      if (existing.exists) throw alreadyMember();
      const inviterRole = inviter?.data()?.role;
      if (!mayStillGrant(inviterRole, current.role)) {
        throw new ConflictError("Whoever sent this invitation can no longer grant its role; ask for a new one.", {
          details: { status: "lapsed" },
        });
      }
      const now = Timestamp.now();
      const member: MemberDoc = {
        uid: principal.uid,
        role: current.role,
        email,
        addedBy: current.invitedBy,
        createdAt: now,
        updatedAt: now,
      };
      const accepted: InvitationDoc = { ...current, status: "accepted", acceptedBy: principal.uid, updatedAt: now };
      tx.create(memberRef, member);
      tx.set(ref, accepted);
      this.#audit.record(tx, tenantId, context, {
        action: "invitation.accepted",
        target: `invitation:${invitationId}`,
        before: current,
        after: accepted,
      });
      this.#audit.record(tx, tenantId, context, {
        action: "member.added",
        target: `member:${principal.uid}`,
        before: null,
        after: member,
      });
      return { tenantId, member, invitation: accepted };
    });
  }
}

function mayStillGrant(inviterRole: Role | undefined, role: Role): boolean {
  if (!inviterRole || !roleAllows(inviterRole, "members:write")) return false;
  return role !== "owner" || inviterRole === "owner";
}

function invitationNotFound(): NotFoundError {
  return new NotFoundError("Invitation not found.");
}
