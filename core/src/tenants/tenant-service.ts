import { Timestamp } from "firebase-admin/firestore";
import { tenantNotFound } from "../access/access-service.ts";
import type { Principal } from "../access/principal.ts";
import type { Role } from "../access/roles.ts";
import { UnauthenticatedError } from "../errors/domain-error.ts";
import { type Page, type PageRequest, paginate } from "../firestore/pagination.ts";
import type { Refs } from "../firestore/refs.ts";
import { PlanCatalog } from "../plans/catalog.ts";
import type { TenantDoc } from "./schema.ts";

export interface TenantWithRole {
  id: string;
  tenant: TenantDoc;
  role: Role;
}

export class TenantService {
  readonly #refs: Refs;

  constructor(refs: Refs) {
    this.#refs = refs;
  }

  /** Creates the tenant and makes the caller its owner, in one atomic write. */
  async create(principal: Principal, input: { name: string }): Promise<{ id: string; tenant: TenantDoc }> {
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
    };
    const batch = this.#refs.db.batch();
    batch.create(ref, tenant);
    batch.create(this.#refs.member(ref.id, principal.uid), {
      uid: principal.uid,
      role: "owner",
      email: principal.email,
      addedBy: principal.uid,
      createdAt: now,
      updatedAt: now,
    });
    await batch.commit();
    return { id: ref.id, tenant };
  }

  async get(tenantId: string): Promise<TenantDoc> {
    const tenant = (await this.#refs.tenant(tenantId).get()).data();
    if (!tenant) throw tenantNotFound();
    return tenant;
  }

  async update(tenantId: string, patch: { name?: string | undefined }): Promise<TenantDoc> {
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
