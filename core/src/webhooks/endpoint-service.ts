import type { Firestore } from "firebase-admin/firestore";
import { Timestamp } from "firebase-admin/firestore";
import type { z } from "zod";
import { type TenantAccess, tenantNotFound } from "../access/access-service.ts";
import { principalId } from "../access/principal.ts";
import { type AuditContext, AuditLog } from "../audit/audit-log.ts";
import { NotFoundError, PlanLimitError } from "../errors/domain-error.ts";
import { type Page, type PageRequest, paginate } from "../firestore/pagination.ts";
import { tenantPath } from "../firestore/paths.ts";
import { checkWebhookUrl } from "./endpoint-url.ts";
import type { WebhookEndpointDoc, WebhookSecretDoc, webhookEventFilterSchema } from "./schema.ts";
import { newWebhookSecret } from "./standard-webhooks.ts";
import { type WebhookRefs, webhookRefs } from "./webhook-refs.ts";

/** Enough for a tenant's systems (a CRM, a helpdesk, a logger); each endpoint costs a job per event. */
export const MAX_WEBHOOKS_PER_TENANT = 10;

/** How long the secret a rotation replaced keeps signing, so receivers can switch without dropping a request. */
export const PREVIOUS_SECRET_VALIDITY_MS = 24 * 3_600_000;

type EventFilter = z.output<typeof webhookEventFilterSchema>;

export interface CreateWebhookInput {
  url: string;
  events: EventFilter;
  description?: string | null | undefined;
}

export interface WebhookPatch {
  url?: string | undefined;
  events?: EventFilter | undefined;
  description?: string | null | undefined;
  enabled?: boolean | undefined;
}

export interface WebhookSecrets {
  /** Signs every request. */
  secret: string;
  rotatedAt: Timestamp;
  /** Until when the secret before the last rotation signs too (a second `v1,` signature); null if none does. */
  previousExpiresAt: Timestamp | null;
}

export interface WebhookEndpointServiceOptions {
  /** Local development only: http URLs and internal addresses are accepted. */
  allowPrivateTargets: boolean;
  maxEndpoints?: number;
  audit?: AuditLog;
}

const target = (webhookId: string) => `webhook:${webhookId}`;

/**
 * A tenant's webhook endpoints and their signing secrets. The endpoint document is what the
 * dashboard reads; the secrets live apart (`…/secret/current`), server-only, written in the same
 * transaction as the endpoint and its audit entry.
 */
export class WebhookEndpointService {
  readonly #refs: WebhookRefs;
  readonly #db: Firestore;
  readonly #audit: AuditLog;
  readonly #allowPrivateTargets: boolean;
  readonly #maxEndpoints: number;

  constructor(db: Firestore, options: WebhookEndpointServiceOptions) {
    this.#db = db;
    this.#refs = webhookRefs(db);
    this.#audit = options.audit ?? new AuditLog(db);
    this.#allowPrivateTargets = options.allowPrivateTargets;
    this.#maxEndpoints = options.maxEndpoints ?? MAX_WEBHOOKS_PER_TENANT;
  }

  list(tenantId: string, page: PageRequest): Promise<Page<{ id: string; path: string; data: WebhookEndpointDoc }>> {
    return paginate(this.#refs.endpoints(tenantId), page);
  }

  async get(tenantId: string, webhookId: string): Promise<WebhookEndpointDoc> {
    const endpoint = (await this.#refs.endpoint(tenantId, webhookId).get()).data();
    if (!endpoint) throw webhookNotFound();
    return endpoint;
  }

  /**
   * Registers an endpoint within the per-tenant limit; the returned secret is the only time it is
   * shown unasked. The count is a query read in the transaction, so a concurrent creation at the
   * limit makes one of the two retry and see the other.
   */
  async create(
    access: TenantAccess,
    input: CreateWebhookInput,
    context: AuditContext,
  ): Promise<{ id: string; endpoint: WebhookEndpointDoc; secret: string }> {
    const { tenantId } = access;
    const url = checkWebhookUrl(input.url, { allowPrivateTargets: this.#allowPrivateTargets });
    const ref = this.#refs.endpoints(tenantId).doc();
    const secret = newWebhookSecret();
    const now = Timestamp.now();
    const endpoint: WebhookEndpointDoc = {
      url,
      events: input.events,
      description: input.description ?? null,
      enabled: true,
      disabledReason: null,
      failingSince: null,
      createdBy: principalId(access.principal),
      createdAt: now,
      updatedAt: now,
    };
    const secrets: WebhookSecretDoc = { current: secret, previous: null, previousExpiresAt: null, rotatedAt: now };
    const tenantRef = this.#db.doc(tenantPath(tenantId));
    await this.#db.runTransaction(async (tx) => {
      const [tenant, count] = await Promise.all([tx.get(tenantRef), tx.get(this.#refs.endpoints(tenantId).count())]);
      if (!tenant.exists) throw tenantNotFound();
      if (count.data().count >= this.#maxEndpoints) {
        throw new PlanLimitError(
          `A tenant may have at most ${this.#maxEndpoints} webhook endpoints; delete one first (an endpoint can subscribe to several event types).`,
          { details: { limit: this.#maxEndpoints } },
        );
      }
      tx.create(ref, endpoint);
      tx.create(this.#refs.secret(tenantId, ref.id), secrets);
      this.#audit.record(tx, tenantId, context, {
        action: "webhook.created",
        target: target(ref.id),
        before: null,
        after: endpoint,
      });
    });
    return { id: ref.id, endpoint, secret };
  }

  /** Changes what was given; turning an endpoint back on forgets why it was off and its failing streak. */
  async update(
    tenantId: string,
    webhookId: string,
    patch: WebhookPatch,
    context: AuditContext,
  ): Promise<WebhookEndpointDoc> {
    const url =
      patch.url === undefined
        ? undefined
        : checkWebhookUrl(patch.url, { allowPrivateTargets: this.#allowPrivateTargets });
    const ref = this.#refs.endpoint(tenantId, webhookId);
    return this.#db.runTransaction(async (tx) => {
      const before = (await tx.get(ref)).data();
      if (!before) throw webhookNotFound();
      const after: WebhookEndpointDoc = { ...before, updatedAt: Timestamp.now() };
      if (url !== undefined && url !== before.url) {
        after.url = url;
        // A new address starts a new record: the old one's failures say nothing about it.
        after.failingSince = null;
      }
      if (patch.events !== undefined) after.events = patch.events;
      if (patch.description !== undefined) after.description = patch.description;
      if (patch.enabled !== undefined) {
        after.enabled = patch.enabled;
        if (patch.enabled && !before.enabled) {
          after.disabledReason = null;
          after.failingSince = null;
        }
      }
      tx.set(ref, after);
      this.#audit.record(tx, tenantId, context, {
        action: "webhook.updated",
        target: target(webhookId),
        before,
        after,
      });
      return after;
    });
  }

  /**
   * Deletes the endpoint and its secrets in one transaction (nothing can sign as it afterwards),
   * then its delivery log. A crash between the two leaves deliveries that their TTL removes; asking
   * again removes them at once, and still answers 404.
   */
  async delete(tenantId: string, webhookId: string, context: AuditContext): Promise<void> {
    const ref = this.#refs.endpoint(tenantId, webhookId);
    const found = await this.#db.runTransaction(async (tx) => {
      const before = (await tx.get(ref)).data();
      if (!before) return false;
      tx.delete(ref);
      tx.delete(this.#refs.secret(tenantId, webhookId));
      this.#audit.record(tx, tenantId, context, {
        action: "webhook.deleted",
        target: target(webhookId),
        before,
        after: null,
      });
      return true;
    });
    await this.#db.recursiveDelete(this.#db.doc(ref.path));
    if (!found) throw webhookNotFound();
  }

  /**
   * A new current secret; the one it replaces keeps signing for 24 h (a second signature on every
   * request), so receivers can switch at leisure. Rotating again within the 24 h drops the oldest.
   */
  async rotateSecret(tenantId: string, webhookId: string, context: AuditContext): Promise<WebhookSecrets> {
    const secretRef = this.#refs.secret(tenantId, webhookId);
    const secret = newWebhookSecret();
    return this.#db.runTransaction(async (tx) => {
      const [endpoint, old] = await Promise.all([tx.get(this.#refs.endpoint(tenantId, webhookId)), tx.get(secretRef)]);
      const current = old.data();
      if (!endpoint.exists || !current) throw webhookNotFound();
      const now = Timestamp.now();
      const rotated: WebhookSecretDoc = {
        current: secret,
        previous: current.current,
        previousExpiresAt: Timestamp.fromMillis(now.toMillis() + PREVIOUS_SECRET_VALIDITY_MS),
        rotatedAt: now,
      };
      tx.set(secretRef, rotated);
      // The secrets themselves never reach the audit log: only when, and until when the old one signs.
      this.#audit.record(tx, tenantId, context, {
        action: "webhook.secret_rotated",
        target: target(webhookId),
        before: { rotatedAt: current.rotatedAt, previousExpiresAt: current.previousExpiresAt },
        after: { rotatedAt: rotated.rotatedAt, previousExpiresAt: rotated.previousExpiresAt },
      });
      return { secret, rotatedAt: rotated.rotatedAt, previousExpiresAt: rotated.previousExpiresAt };
    });
  }

  /** The current secret again, for a signed-in owner or admin; who asked is audited. */
  async revealSecret(tenantId: string, webhookId: string, context: AuditContext): Promise<WebhookSecrets> {
    const secretRef = this.#refs.secret(tenantId, webhookId);
    return this.#db.runTransaction(async (tx) => {
      const secrets = (await tx.get(secretRef)).data();
      if (!secrets) throw webhookNotFound();
      this.#audit.record(tx, tenantId, context, {
        action: "webhook.secret_revealed",
        target: target(webhookId),
      });
      const previousSigns = secrets.previousExpiresAt !== null && secrets.previousExpiresAt.toMillis() > Date.now();
      return {
        secret: secrets.current,
        rotatedAt: secrets.rotatedAt,
        previousExpiresAt: previousSigns ? secrets.previousExpiresAt : null,
      };
    });
  }
}

export function webhookNotFound(): NotFoundError {
  return new NotFoundError("Webhook endpoint not found.");
}
