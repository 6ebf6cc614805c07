import {
  AccessCache,
  AccessService,
  AccountClosing,
  ApiKeyService,
  AuditLog,
  BillingService,
  BotService,
  CampaignService,
  ContactExport,
  ContactImporter,
  ContactService,
  createRefs,
  EventPublisher,
  type FetchMedia,
  InvitationService,
  type Logger,
  type MediaStore,
  MemberService,
  MessageStore,
  mediaStoreSource,
  type StripeClient,
  TemplateService,
  TenantExport,
  TenantService,
  WebhookDeliveryService,
  WebhookEndpointService,
  webhookRefs,
} from "@whatsdex/core";
import { DeadLetterStore, type JobQueue, type webhookJobs } from "@whatsdex/core/jobs";
import type { Auth } from "firebase-admin/auth";
import type { Firestore } from "firebase-admin/firestore";
import { cachedTokenVerifier, firebaseTokenVerifier } from "./auth/token-verifier.ts";
import { firebaseUserDirectory } from "./auth/user-directory.ts";
import type { ApiServices } from "./http/services.ts";

export interface ServiceOptions {
  firestore: Firestore;
  auth: Auth;
  logger: Logger;
  apiKeyPepper: string;
  allowSimulator: boolean;
  /** How long an instance may reuse a role or API key it read (0 = read every time). */
  accessCacheTtlMs: number;
  /** Local development only: webhook URLs may be http or internal addresses. */
  allowPrivateWebhookTargets: boolean;
  /** The session-runner's `webhooks` queue, where tests and replays are queued. */
  webhookQueue: JobQueue<typeof webhookJobs>;
  /** Media in Cloud Storage: uploads, the sends' copies, received media. */
  media: MediaStore;
  /** Fetches a send's media from an https URL (through the SSRF guard); without it such sends are 503. */
  fetchMedia?: FetchMedia;
  /** Stripe, for checkout and the portal; without it those answer 503 (the summary still works). */
  stripe?: StripeClient | null;
  /** Where Checkout and the portal send customers back. */
  billingReturnUrl?: string;
  /** The deployable's one event publisher (its endpoint cache shared); made on `webhookQueue` if absent. */
  events?: EventPublisher;
}

/** The services the API routes call, wired to one Firestore and one Auth. */
export function createApiServices(options: ServiceOptions): ApiServices {
  const refs = createRefs(options.firestore);
  const cache = new AccessCache({ ttlMs: options.accessCacheTtlMs });
  const audit = new AuditLog(options.firestore);
  const users = firebaseUserDirectory(options.auth);
  const events =
    options.events ??
    new EventPublisher({ refs: webhookRefs(options.firestore), queue: options.webhookQueue, logger: options.logger });
  return {
    tokens: cachedTokenVerifier(firebaseTokenVerifier(options.auth), { ttlMs: options.accessCacheTtlMs }),
    access: new AccessService(refs, cache),
    tenants: new TenantService(refs, audit),
    members: new MemberService(refs, users, cache, audit),
    invitations: new InvitationService(refs, users, audit),
    audit,
    bots: new BotService(refs, {
      allowSimulator: options.allowSimulator,
      audit,
      media: mediaStoreSource(options.media, options.fetchMedia),
    }),
    apiKeys: new ApiKeyService(refs, {
      pepper: options.apiKeyPepper,
      cache,
      audit,
      onBackgroundError: (error) => options.logger.warn({ err: error }, "could not record an API key's last use"),
    }),
    deadLetters: new DeadLetterStore(options.firestore),
    messageStore: new MessageStore(options.firestore),
    media: options.media,
    webhooks: new WebhookEndpointService(options.firestore, {
      allowPrivateTargets: options.allowPrivateWebhookTargets,
      audit,
    }),
    webhookDeliveries: new WebhookDeliveryService(webhookRefs(options.firestore), options.webhookQueue, events),
    campaigns: new CampaignService(refs, { audit, events, logger: options.logger }),
    contacts: new ContactService(options.firestore, { audit }),
    contactImports: new ContactImporter(options.firestore, { audit }),
    contactExport: new ContactExport(options.firestore),
    billing: new BillingService({
      refs,
      stripe: options.stripe ?? null,
      returnUrl: options.billingReturnUrl ?? "http://127.0.0.1:5000/billing",
      audit,
    }),
    closing: new AccountClosing(refs, { audit }),
    tenantExport: new TenantExport(refs, options.media),
    templates: new TemplateService(options.firestore, { media: options.media, audit }),
  };
}
