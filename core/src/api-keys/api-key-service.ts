import { FieldValue, Timestamp } from "firebase-admin/firestore";
import type { AccessCache } from "../access/access-cache.ts";
import type { TenantAccess } from "../access/access-service.ts";
import { tenantNotFound } from "../access/access-service.ts";
import { type Principal, principalId } from "../access/principal.ts";
import type { ApiKeyScope } from "../access/roles.ts";
import { type AuditContext, AuditLog } from "../audit/audit-log.ts";
import { ForbiddenError, NotFoundError, PlanLimitError, UnauthenticatedError } from "../errors/domain-error.ts";
import { type Page, type PageRequest, paginate } from "../firestore/pagination.ts";
import type { Refs } from "../firestore/refs.ts";
import { PlanCatalog } from "../plans/plan-catalog.ts";
import { roleMayGrant } from "./grants.ts";
import type { ApiKeyDoc } from "./schema.ts";
import { hashesEqual, hashSecret, mintKey, parseKey } from "./secret.ts";

/** `lastUsedAt` is refreshed at most this often, so busy keys do not cost a write per request. */
const LAST_USED_RESOLUTION_MS = 60_000;

export interface ApiKeyServiceOptions {
  pepper: string;
  cache: AccessCache;
  /** Where a failed `lastUsedAt` refresh is reported; it never fails the request. */
  onBackgroundError: (error: unknown) => void;
  /** Where creations and revocations are recorded (defaults to the tenant's audit log in `refs.db`). */
  audit?: AuditLog;
}

export class ApiKeyService {
  readonly #refs: Refs;
  readonly #options: ApiKeyServiceOptions;
  readonly #audit: AuditLog;

  constructor(refs: Refs, options: ApiKeyServiceOptions) {
    this.#refs = refs;
    this.#options = options;
    this.#audit = options.audit ?? new AuditLog(refs.db);
  }

  list(tenantId: string, page: PageRequest): Promise<Page<{ id: string; path: string; data: ApiKeyDoc }>> {
    return paginate(this.#refs.apiKeys(tenantId), page);
  }

  /**
   * Creates a key within the plan's limit and the creator's own rights (a key never carries more
   * than its creator's role allows); the returned `key` is the only time it is ever shown.
   */
  async create(
    access: TenantAccess,
    input: { name: string; scopes: readonly ApiKeyScope[] },
    context: AuditContext,
  ): Promise<{ id: string; key: string; apiKey: ApiKeyDoc }> {
    if (!roleMayGrant(access.role, input.scopes)) {
      throw new ForbiddenError("Your role cannot grant these scopes.", { details: { scopes: input.scopes } });
    }
    const minted = mintKey(this.#options.pepper);
    const now = Timestamp.now();
    const apiKey: ApiKeyDoc = {
      name: input.name,
      prefix: minted.displayPrefix,
      hash: minted.hash,
      scopes: [...new Set(input.scopes)],
      createdBy: principalId(access.principal),
      createdAt: now,
      lastUsedAt: null,
      revokedAt: null,
    };
    const tenantRef = this.#refs.tenant(access.tenantId);
    await this.#refs.db.runTransaction(async (tx) => {
      const tenant = (await tx.get(tenantRef)).data();
      if (!tenant) throw tenantNotFound();
      const plan = PlanCatalog.get(tenant.plan);
      if (tenant.apiKeyCount >= plan.maxApiKeys) {
        throw new PlanLimitError(`The ${plan.name} plan allows ${plan.maxApiKeys} active API keys; revoke one first.`, {
          details: { plan: plan.id, limit: plan.maxApiKeys },
        });
      }
      tx.create(this.#refs.apiKey(access.tenantId, minted.keyId), apiKey);
      tx.update(tenantRef, { apiKeyCount: FieldValue.increment(1) });
      this.#audit.record(tx, access.tenantId, context, {
        action: "apiKey.created",
        target: `apiKey:${minted.keyId}`,
        before: null,
        after: apiKey,
      });
    });
    return { id: minted.keyId, key: minted.key, apiKey };
  }

  /** Revokes a key for good. Revoking a revoked key changes nothing and succeeds. */
  async revoke(access: TenantAccess, keyId: string, context: AuditContext): Promise<void> {
    const { tenantId } = access;
    const ref = this.#refs.apiKey(tenantId, keyId);
    const tenantRef = this.#refs.tenant(tenantId);
    await this.#refs.db.runTransaction(async (tx) => {
      const key = (await tx.get(ref)).data();
      if (!key) throw new NotFoundError("API key not found.");
      if (key.revokedAt) return;
      const revokedAt = Timestamp.now();
      tx.update(ref, { revokedAt });
      tx.update(tenantRef, { apiKeyCount: FieldValue.increment(-1) });
      this.#audit.record(tx, tenantId, context, {
        action: "apiKey.revoked",
        target: `apiKey:${keyId}`,
        before: { revokedAt: null },
        after: { revokedAt },
      });
    });
    this.#options.cache.forgetApiKey(tenantId, keyId);
  }

  /** The principal for a presented key, or Unauthenticated for anything but a live key of this tenant. */
  async authenticate(tenantId: string, presented: string): Promise<Principal> {
    const invalid = () => new UnauthenticatedError("The API key is not valid for this tenant.");
    const parsed = parseKey(presented);
    if (!parsed) throw invalid();
    const { cache } = this.#options;
    const ref = this.#refs.apiKey(tenantId, parsed.keyId);
    let key = cache.apiKey(tenantId, parsed.keyId);
    if (!key) {
      // A key id seen missing within the TTL is not read again: retried garbage costs no reads.
      if (cache.apiKeyMissing(tenantId, parsed.keyId)) throw invalid();
      key = (await ref.get()).data();
      if (key) cache.rememberApiKey(tenantId, parsed.keyId, key);
      else cache.rememberMissingApiKey(tenantId, parsed.keyId);
    }
    if (!key || key.revokedAt || !hashesEqual(key.hash, hashSecret(this.#options.pepper, parsed.secret))) {
      throw invalid();
    }
    const now = Date.now();
    if (!key.lastUsedAt || now - key.lastUsedAt.toMillis() > LAST_USED_RESOLUTION_MS) {
      const lastUsedAt = Timestamp.fromMillis(now);
      ref.update({ lastUsedAt }).catch(this.#options.onBackgroundError);
      cache.refreshApiKey(tenantId, parsed.keyId, { ...key, lastUsedAt });
    }
    return { kind: "apiKey", tenantId, keyId: parsed.keyId, scopes: key.scopes };
  }
}
