import { LRUCache } from "lru-cache";
import type { ApiKeyDoc } from "../api-keys/schema.ts";
import type { TenantDoc } from "../tenants/schema.ts";
import type { Role } from "./roles.ts";

/**
 * Short-lived copies of what every authenticated request would otherwise read from Firestore: the
 * caller's role in a tenant, the API key's record and the tenant's status. Only positive answers
 * are kept, so a new member or key works at once; a removed member, a changed role or a revoked key
 * is dropped from this instance's cache at once, and other instances' copies expire within `ttlMs`
 * (a suspension, made outside the API, reaches every instance within it).
 * `ttlMs: 0` turns caching off.
 */
export class AccessCache {
  readonly #roles: LRUCache<string, Role> | undefined;
  readonly #keys: LRUCache<string, ApiKeyDoc> | undefined;
  readonly #tenantStatus: LRUCache<string, TenantDoc["status"]> | undefined;

  constructor({ ttlMs, max = 10_000 }: { ttlMs: number; max?: number }) {
    if (ttlMs <= 0) return;
    this.#roles = new LRUCache({ max, ttl: ttlMs });
    this.#keys = new LRUCache({ max, ttl: ttlMs });
    this.#tenantStatus = new LRUCache({ max, ttl: ttlMs });
  }

  tenantStatus(tenantId: string): TenantDoc["status"] | undefined {
    return this.#tenantStatus?.get(tenantId);
  }

  rememberTenantStatus(tenantId: string, status: TenantDoc["status"]): void {
    this.#tenantStatus?.set(tenantId, status);
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

  forgetApiKey(tenantId: string, keyId: string): void {
    this.#keys?.delete(`${tenantId}/${keyId}`);
  }
}
