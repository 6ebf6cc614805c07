import { LRUCache } from "lru-cache";
import type { ApiKeyDoc } from "../api-keys/schema.ts";
import type { TenantDoc } from "../tenants/schema.ts";
import type { Role } from "./roles.ts";

/** What every request in a tenant needs of its document: may anything be done in it, and its plan's budgets. */
export type TenantFacts = Pick<TenantDoc, "status" | "plan">;

/**
 * Short-lived copies of what every authenticated request would otherwise read from Firestore: the
 * caller's role in a tenant, the API key's record and the tenant's status and plan. Only positive answers
 * are kept (but for API key ids that do not exist, so garbage keys cannot drive reads), so a new
 * member or key works at once; a removed member, a changed role or a revoked key
 * is dropped from this instance's cache at once, and other instances' copies expire within `ttlMs`
 * (a suspension or plan change, made outside the API, reaches every instance within it).
 * `ttlMs: 0` turns caching off.
 */
export class AccessCache {
  readonly #roles: LRUCache<string, Role> | undefined;
  readonly #keys: LRUCache<string, ApiKeyDoc> | undefined;
  readonly #tenants: LRUCache<string, TenantFacts> | undefined;
  readonly #missingKeys: LRUCache<string, true> | undefined;

  /**
   * `missingMax` bounds the "no such key" answers kept (lru-cache allocates for `max` up front): a
   * flood of distinct garbage ids still costs one read each, which is the rate limiter's business;
   * what this stops is the same garbage key, retried, costing a read every time.
   */
  constructor({ ttlMs, max = 10_000, missingMax = 1_000 }: { ttlMs: number; max?: number; missingMax?: number }) {
    if (ttlMs <= 0) return;
    this.#roles = new LRUCache({ max, ttl: ttlMs });
    this.#keys = new LRUCache({ max, ttl: ttlMs });
    this.#tenants = new LRUCache({ max, ttl: ttlMs });
    this.#missingKeys = new LRUCache({ max: missingMax, ttl: ttlMs });
  }

  tenant(tenantId: string): TenantFacts | undefined {
    return this.#tenants?.get(tenantId);
  }

  rememberTenant(tenantId: string, facts: TenantFacts): void {
    this.#tenants?.set(tenantId, facts);
  }

  role(tenantId: string, uid: string): Role | undefined {
    return this.#roles?.get(`${tenantId}/${uid}`);
  }

  rememberRole(tenantId: string, uid: string, role: Role): void {
    this.#roles?.set(`${tenantId}/${uid}`, role);
  }

  forgetRole(tenantId: string, uid: string): void {
    this.#roles?.delete(`${tenantId}/${uid}`);
  }

  apiKey(tenantId: string, keyId: string): ApiKeyDoc | undefined {
    return this.#keys?.get(`${tenantId}/${keyId}`);
  }

  rememberApiKey(tenantId: string, keyId: string, key: ApiKeyDoc): void {
    this.#keys?.set(`${tenantId}/${keyId}`, key);
  }

  /** Updates a cached key without extending its life: a busy key must still be re-read within the TTL. */
  refreshApiKey(tenantId: string, keyId: string, key: ApiKeyDoc): void {
    const cacheKey = `${tenantId}/${keyId}`;
    if (this.#keys?.has(cacheKey)) this.#keys.set(cacheKey, key, { noUpdateTTL: true });
  }

  /** Whether `keyId` was looked up in `tenantId` within the TTL and did not exist. */
  apiKeyMissing(tenantId: string, keyId: string): boolean {
    return this.#missingKeys?.has(`${tenantId}/${keyId}`) ?? false;
  }

  /** Key ids are random (80 bits): one that is missing now is not about to be created. */
  rememberMissingApiKey(tenantId: string, keyId: string): void {
    this.#missingKeys?.set(`${tenantId}/${keyId}`, true);
  }

  forgetApiKey(tenantId: string, keyId: string): void {
    this.#keys?.delete(`${tenantId}/${keyId}`);
  }
}
