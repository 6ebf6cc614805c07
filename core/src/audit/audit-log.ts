import type { CollectionReference, Firestore, Query, Transaction } from "firebase-admin/firestore";
import { Timestamp } from "firebase-admin/firestore";
import type { TenantAccess } from "../access/access-service.ts";
import type { Principal } from "../access/principal.ts";
import { zodConverter } from "../firestore/converter.ts";
import { type Page, type PageRequest, paginate } from "../firestore/pagination.ts";
import { tenantPath } from "../firestore/paths.ts";
import { changedFields } from "./changes.ts";
import { type AuditAction, type AuditActor, type AuditEntryDoc, auditEntryDocSchema } from "./schema.ts";

/** How long an entry is kept before the TTL policy on `expiresAt` deletes it. */
export const AUDIT_RETENTION_DAYS = 400;

const converter = zodConverter(auditEntryDocSchema);

export function auditCollection(db: Firestore, tenantId: string): CollectionReference<AuditEntryDoc> {
  return db.collection(`${tenantPath(tenantId)}/audit`).withConverter(converter);
}

/** Who is changing something, and under which API request: what every audited service call takes. */
export interface AuditContext {
  actor: AuditActor;
  requestId: string | null;
}

/** Changes no person or key asked for (a trigger, a job, a caller that passes no context). */
export const systemAuditContext: AuditContext = { actor: { kind: "system", id: "whatsdex" }, requestId: null };

export function actorOf(principal: Principal): AuditActor {
  return principal.kind === "user" ? { kind: "user", id: principal.uid } : { kind: "apiKey", id: principal.keyId };
}

/** The audit context of an API call: its principal, and the request id when the route passes one. */
export function auditContextOf(access: Pick<TenantAccess, "principal">, requestId?: string | null): AuditContext {
  return { actor: actorOf(access.principal), requestId: requestId ?? null };
}

export interface AuditRecord {
  action: AuditAction;
  target: string;
  botId?: string | null;
  /** The document (or the fields) before and after; only what differs is kept, secrets never. */
  before?: object | null;
  after?: object | null;
}

export interface AuditFilter {
  action?: AuditAction | undefined;
  target?: string | undefined;
}

/**
 * The tenant's audit log (`tenants/{t}/audit`). `record` joins the caller's transaction, so an
 * entry exists exactly when its change committed; nothing is audited after the fact.
 */
export class AuditLog {
  readonly #db: Firestore;
  readonly #retentionMs: number;

  constructor(db: Firestore, { retentionDays = AUDIT_RETENTION_DAYS }: { retentionDays?: number } = {}) {
    this.#db = db;
    this.#retentionMs = retentionDays * 86_400_000;
  }

  record(tx: Transaction, tenantId: string, context: AuditContext, record: AuditRecord): AuditEntryDoc {
    const now = Timestamp.now();
    const { before, after } = changedFields(record.before, record.after);
    const entry: AuditEntryDoc = {
      action: record.action,
      actor: context.actor,
      target: record.target,
      botId: record.botId ?? null,
      before,
      after,
      requestId: context.requestId,
      createdAt: now,
      expiresAt: Timestamp.fromMillis(now.toMillis() + this.#retentionMs),
    };
    tx.create(auditCollection(this.#db, tenantId).doc(), entry);
    return entry;
  }

  /** Newest first; `action` and `target` narrow it (composite indexes in firestore.indexes.json). */
  list(
    tenantId: string,
    page: PageRequest,
    filter: AuditFilter = {},
  ): Promise<Page<{ id: string; path: string; data: AuditEntryDoc }>> {
    let query: Query<AuditEntryDoc> = auditCollection(this.#db, tenantId);
    if (filter.action) query = query.where("action", "==", filter.action);
    if (filter.target) query = query.where("target", "==", filter.target);
    return paginate(query, page);
  }
}
