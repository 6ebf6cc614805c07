import { Timestamp } from "firebase-admin/firestore";
import { type TenantAccess, tenantNotFound } from "../access/access-service.ts";
import type { Principal } from "../access/principal.ts";
import type { Role } from "../access/roles.ts";
import { type AuditContext, AuditLog } from "../audit/audit-log.ts";
import { noBilling } from "../billing/schema.ts";
import { PlanLimitError, UnauthenticatedError } from "../errors/domain-error.ts";
import { type Page, type PageRequest, paginate } from "../firestore/pagination.ts";
import { userPath } from "../firestore/paths.ts";
import type { Refs } from "../firestore/refs.ts";
import { MAX_FREE_TENANTS_PER_USER, PlanCatalog } from "../plans/plan-catalog.ts";
import type { TenantDoc } from "./schema.ts";

export interface TenantWithRole {
  id: string;
  tenant: TenantDoc;
  role: Role;
}

export class TenantService {
  readonly #refs: Refs;
  readonly #audit: AuditLog;

  constructor(refs: Refs, audit: AuditLog = new AuditLog(refs.db)) {
    this.#refs = refs;
    this.#audit = audit;
  }

  /**
   * Creates the tenant and makes the caller its owner, in one transaction that also checks how many
   * free tenants the caller created (at most MAX_FREE_TENANTS_PER_USER). Each creation writes the
   * caller's `users/{uid}` document, so two concurrent creations by one user conflict and the retried
   * one sees the other's tenant.
   */
  async create(
    principal: Principal,
    input: { name: string },
    requestId: string | null = null,
  ): Promise<{ id: string; tenant: TenantDoc }> {
    if (principal.kind !== "user") throw new UnauthenticatedError("Tenants are created by signed-in users.");
    const now = Timestamp.now();
    const ref = this.#refs.tenants().doc();
    const tenant: TenantDoc = {
      name: input.name,
      plan: PlanCatalog.defaultPlan,
      status: "active",
      botCount: 0,
      apiKeyCount: 0,
      createdBy: principal.uid,
      createdAt: now,
      updatedAt: now,
      stripeCustomerId: null,
      stripeSubscriptionId: null,
      billing: noBilling,
    };
    const creator = this.#refs.db.doc(userPath(principal.uid));
    const theirFreeTenants = this.#refs
      .tenants()
      .where("createdBy", "==", principal.uid)
      .where("plan", "==", "free")
      .limit(MAX_FREE_TENANTS_PER_USER);
    await this.#refs.db.runTransaction(
      async (tx) => {
        await tx.get(creator);
        if (tenant.plan === "free" && (await tx.get(theirFreeTenants)).size >= MAX_FREE_TENANTS_PER_USER) {
          throw new PlanLimitError(
            `You already have ${MAX_FREE_TENANTS_PER_USER} tenants on the Free plan; upgrade one to a paid plan before creating another.`,
            { details: { plan: "free", limit: MAX_FREE_TENANTS_PER_USER } },
          );
        }
        tx.set(creator, { lastTenantCreatedAt: now }, { merge: true });
        tx.create(ref, tenant);
        tx.create(this.#refs.member(ref.id, principal.uid), {
          uid: principal.uid,
          role: "owner",
          email: principal.email,
          addedBy: principal.uid,
          createdAt: now,
          updatedAt: now,
        });
        this.#audit.record(
          tx,
          ref.id,
          { actor: { kind: "user", id: principal.uid }, requestId },
          { action: "tenant.created", target: `tenant:${ref.id}`, before: null, after: tenant },
        );
      },
      { maxAttempts: 50 },
    );
    return { id: ref.id, tenant };
  }

  async get(tenantId: string): Promise<TenantDoc> {
    const tenant = (await this.#refs.tenant(tenantId).get()).data();
    if (!tenant) throw tenantNotFound();
    return tenant;
  }

  async update(access: TenantAccess, patch: { name?: string | undefined }, context: AuditContext): Promise<TenantDoc> {
    const { tenantId } = access;
    const ref = this.#refs.tenant(tenantId);
    return this.#refs.db.runTransaction(async (tx) => {
      const current = (await tx.get(ref)).data();
      if (!current) throw tenantNotFound();
      const next: TenantDoc = {
        ...current,
        ...(patch.name === undefined ? {} : { name: patch.name }),
        updatedAt: Timestamp.now(),
      };
      tx.set(ref, next);
      this.#audit.record(tx, tenantId, context, {
        action: "tenant.updated",
        target: `tenant:${tenantId}`,
        before: current,
        after: next,
      });
      return next;
    });
  }

  /** The tenants `uid` belongs to, with their role in each, newest membership first. */
  async listForUser(uid: string, page: PageRequest): Promise<Page<TenantWithRole>> {
    const memberships = await paginate(this.#refs.memberships(uid), page, { collectionGroup: true });
    const tenantIds = memberships.items.map((m) => m.path.split("/")[1] ?? "");
    const snapshots = await Promise.all(tenantIds.map((t) => this.#refs.tenant(t).get()));
    const items: TenantWithRole[] = [];
    snapshots.forEach((snapshot, index) => {
      const tenant = snapshot.data();
      const membership = memberships.items[index];
      if (tenant && membership) items.push({ id: snapshot.id, tenant, role: membership.data.role });
    });
    return { items, nextCursor: memberships.nextCursor };
  }
}
