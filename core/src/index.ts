export { AccessCache } from "./access/access-cache.ts";
export { AccessService, type TenantAccess, tenantNotFound } from "./access/access-service.ts";
export { type Principal, principalId } from "./access/principal.ts";
export {
  type ApiKeyScope,
  apiKeyScopeSchema,
  apiKeyScopes,
  type Permission,
  type Role,
  roleAllows,
  roleSchema,
  roles,
  scopesAllow,
} from "./access/roles.ts";
export { ApiKeyService } from "./api-keys/api-key-service.ts";
export { roleMayGrant } from "./api-keys/grants.ts";
export { type ApiKeyDoc, apiKeyDocSchema } from "./api-keys/schema.ts";
export {
  AUDIT_RETENTION_DAYS,
  type AuditContext,
  type AuditFilter,
  AuditLog,
  type AuditRecord,
  actorOf,
  auditContextOf,
  systemAuditContext,
} from "./audit/audit-log.ts";
export {
  type AuditAction,
  type AuditActor,
  type AuditEntryDoc,
  auditActionSchema,
  auditActions,
  auditEntryDocSchema,
  auditTargetSchema,
} from "./audit/schema.ts";
export {
  BillingService,
  type BillingServiceOptions,
  type BillingSummary,
  type UsageLine,
} from "./billing/billing-service.ts";
export { type BillingSnapshot, billingSnapshot } from "./billing/billing-snapshot.ts";
export { botsOverLimit } from "./billing/plan-effects.ts";
export {
  type BillingInterval,
  billingIntervalSchema,
  billingIntervals,
  isPaidPlan,
  noBilling,
  type PaidPlanId,
  paidPlanIdSchema,
  planOfLookupKey,
  priceLookupKey,
  STRIPE_EVENT_RETENTION_MS,
  type StripeEventDoc,
  type SubscriptionStatus,
  stripeEventDocSchema,
  subscriptionStatuses,
  subscriptionStatusSchema,
  type TenantBilling,
  tenantBillingSchema,
} from "./billing/schema.ts";
export {
  createStripeClient,
  STRIPE_API_VERSION,
  type StripeClient,
  type StripeClientOptions,
} from "./billing/stripe-client.ts";
export { handledStripeEvents, StripeWebhookHandler, type StripeWebhookResponse } from "./billing/stripe-webhook.ts";
export { effectivePlan, outboundRestricted } from "./billing/subscription-state.ts";
export {
  type BillingEventSink,
  SubscriptionSync,
  type SyncOutcome,
  stripeAuditContext,
} from "./billing/subscription-sync.ts";
export {
  type BotPatch,
  BotService,
  type ConnectInput,
  type CreateBotInput,
  type QueuedCommand,
} from "./bots/bot-service.ts";
export { deleteBotData } from "./bots/delete-bot-data.ts";
export {
  type LinkingDoc,
  linkingCodeSchema,
  linkingCodesSchema,
  linkingDocSchema,
  linkingPath,
} from "./bots/linking.ts";
export {
  type BotDoc,
  type BotLimits,
  type BotSettings,
  type BotSettingsPatch,
  botDocSchema,
  botLimitsSchema,
  botNameSchema,
  botSettingsPatchSchema,
  botSettingsSchema,
  botStateSchema,
  connectMethodSchema,
  defaultBotLimits,
  defaultBotSettings,
  defaultMessageStore,
  desiredStateSchema,
  type MessageStoreSettings,
  phoneDigitsSchema,
  transportSchema,
} from "./bots/schema.ts";
export { planShard, readCounts } from "./campaigns/campaign-counts.ts";
export { campaignStatusEvent } from "./campaigns/campaign-events.ts";
export {
  type CampaignInput,
  type CampaignPatch,
  CampaignService,
  type CampaignServiceOptions,
  type CampaignView,
  MAX_CAMPAIGN_DAYS,
} from "./campaigns/campaign-service.ts";
export {
  type ActiveCampaign,
  CampaignDelivery,
  type CampaignDeliveryOptions,
  type CampaignSend,
  deliveryItemId,
  type NextStep,
  type Settled,
  UnsendableCampaignError,
  type WroteToBot,
} from "./campaigns/delivery/campaign-delivery.ts";
export {
  campaignContent,
  campaignMessageProblem,
  captionedMediaKinds,
  MAX_CAPTION_LENGTH,
} from "./campaigns/delivery/campaign-message.ts";
export { CampaignRuns, type CampaignRunsOptions } from "./campaigns/delivery/campaign-runs.ts";
export * from "./campaigns/pacing/index.ts";
export { countRecipients, PLANNING_PAGE, planRecipients, recipientOrder } from "./campaigns/recipient-planner.ts";
export {
  type Audience,
  audienceSchema,
  CAMPAIGN_REACH_WINDOW_MS,
  type CampaignCounts,
  type CampaignDoc,
  type CampaignReach,
  type CampaignStatus,
  campaignCountsSchema,
  campaignDocSchema,
  campaignReachSchema,
  campaignStatuses,
  campaignStatusSchema,
  type RecipientDoc,
  type RecipientStatus,
  recipientDocSchema,
  recipientStatusSchema,
  type SkipReason,
  skipReasonSchema,
  timezoneSchema,
} from "./campaigns/schema.ts";
export {
  AccountClosing,
  type AccountClosingOptions,
  LOGOUT_WAIT_MS,
  tenantDeletionRef,
  tenantDeletionsCollection,
} from "./closing/account-closing.ts";
export {
  type CancelSubscription,
  ClosingRunner,
  type ClosingRunnerOptions,
  type StepOutcome,
} from "./closing/closing-runner.ts";
export {
  type ClosingPhase,
  closingPhaseSchema,
  closingPhases,
  type TenantDeletionDoc,
  tenantDeletionDocSchema,
} from "./closing/schema.ts";
export { type DeployedRules, deployedBy, failClosedWhenDeployed, platformVariables } from "./config/deployment.ts";
export { baseEnvSchema, type Env, loadEnvOrExit, logLevels, parseEnv, projectIdFrom } from "./config/env.ts";
export { ContactExport } from "./contacts/contact-export.ts";
export { ContactImporter, MAX_IMPORT_ROWS, STALE_IMPORT_MS } from "./contacts/contact-import.ts";
export { type ContactRefs, contactRefs } from "./contacts/contact-refs.ts";
export {
  type ContactEntry,
  type ContactInput,
  type ContactListRequest,
  type ContactPatch,
  ContactService,
  type ContactServiceOptions,
} from "./contacts/contact-service.ts";
export { lidDigits, lidOfJid, phoneDigits, phoneOfJid } from "./contacts/identity.ts";
export {
  type ContactImportDoc,
  type ContactImportOptions,
  contactImportDocSchema,
  contactImportOptionsSchema,
  type ImportChangeDoc,
  MAX_REPORTED_REJECTIONS,
} from "./contacts/import-schema.ts";
export {
  keywordForm,
  type OptOutChange,
  type OptOutPerson,
  optOutIntent,
  recordOptIn,
  recordOptOut,
} from "./contacts/opt-out.ts";
export {
  type ContactDoc,
  contactDocSchema,
  contactFieldsSchema,
  contactTagSchema,
  type OptOut,
  optOutSchema,
  type PersonId,
  personIdSchema,
} from "./contacts/schema.ts";
export { createKeyring, type Keyring, KeyringError, keyringSpecSchema } from "./crypto/keyring.ts";
export {
  ConfigError,
  ConflictError,
  DomainError,
  type ErrorCode,
  errorCodes,
  type FieldIssue,
  ForbiddenError,
  isDomainError,
  NotFoundError,
  PayloadTooLargeError,
  PaymentRequiredError,
  PlanLimitError,
  RateLimitedError,
  TenantClosingError,
  TenantSuspendedError,
  UnauthenticatedError,
  UnavailableError,
  ValidationError,
} from "./errors/domain-error.ts";
export { fieldIssues, formatPath, parseOrThrow } from "./errors/zod-issues.ts";
export {
  billingSnapshotSchema,
  botQrEventSchema,
  botStatusEventSchema,
  type EventContent,
  type EventData,
  type EventDoc,
  type EventSink,
  type EventType,
  eventContentSchema,
  eventDataSchemas,
  eventDocSchema,
  eventTypeSchema,
  eventTypes,
  explicitOnlyEventTypes,
  groupParticipantsEventSchema,
  type MessageStatus,
  messageReceivedSchema,
  messageSentSchema,
  messageStatusEventSchema,
  messageStatusSchema,
  type NewEvent,
  type PersonRef,
  personRefSchema,
  type WebhookBody,
  webhookBodySchema,
  webhookTestEventSchema,
} from "./events/schema.ts";
export { createFirebase, type Firebase } from "./firebase/app.ts";
export { zodConverter } from "./firestore/converter.ts";
export { isAlreadyExists } from "./firestore/errors.ts";
export { derivedId, type ResourceId, resourceIdSchema } from "./firestore/ids.ts";
export { type Page, type PageRequest, pageLimitSchema, paginate, paginateBy } from "./firestore/pagination.ts";
export {
  aiMemoryPath,
  apiKeyPath,
  authStateCollectionPath,
  banPath,
  bansCollectionPath,
  botDocumentPattern,
  botPath,
  campaignPath,
  campaignReachPath,
  campaignRecipientPath,
  chatMessagePath,
  chatPath,
  chatsCollectionPath,
  collections,
  contactImportPath,
  contactPath,
  contactsCollectionPath,
  deadLetterPath,
  deadLettersCollectionPath,
  eventPath,
  eventsCollectionPath,
  governorPath,
  groupSettingsPath,
  leasePath,
  memberPath,
  outboxCollectionPath,
  outboxItemPath,
  stripeEventPath,
  templatePath,
  tenantContactPath,
  tenantContactsCollectionPath,
  tenantDeletionPath,
  tenantPath,
  usagePath,
  userPath,
  webhookDeliveriesCollectionPath,
  webhookDeliveryPath,
  webhookPath,
  webhookSecretPath,
  webhooksCollectionPath,
} from "./firestore/paths.ts";
export { createRefs, type Refs } from "./firestore/refs.ts";
export { timestampSchema, toIso, toIsoOrNull } from "./firestore/timestamps.ts";
export { type FirestoreProbe, firestoreProbe } from "./health/firestore-probe.ts";
export {
  type AcquireResult,
  type BotRef,
  type HeldLease,
  type LeaseDoc,
  LeaseLostError,
  LeaseStore,
  type LeaseStoreOptions,
  leaseDocSchema,
  leaseFence,
  type WriteFence,
} from "./leases/lease-store.ts";
export { COMMAND_HANDLED, type CommandHandledFields, commandHandledFieldsSchema } from "./logging/command-handled.ts";
export { type CreateLoggerOptions, createLogger, type Logger } from "./logging/logger.ts";
export { maskPhoneNumbers, REDACTED } from "./logging/redaction.ts";
export { createMediaBucket, mediaBucketName, mediaEnvShape } from "./media/media-bucket.ts";
export {
  type CheckedMedia,
  checkMedia,
  isAnimatedWebp,
  mediaTooLarge,
  SNIFF_BYTES,
  sniffMimetype,
} from "./media/media-check.ts";
export {
  formatBytes,
  kindOfMimetype,
  MAX_MEDIA_BYTES,
  type MediaKind,
  type MediaLimit,
  mediaKindSchema,
  mediaKinds,
  mediaLimits,
  STATIC_STICKER_MAX_BYTES,
} from "./media/media-kinds.ts";
export {
  type Media,
  MediaStore,
  mediaPrefixes,
  mediaRetention,
  type StoredMedia,
  type TenantObject,
  type UploadInfo,
} from "./media/media-store.ts";
export { type FetchedMedia, fetchMediaFromUrl, type UrlMediaOptions } from "./media/url-media.ts";
export { type InvitationDoc, invitationDocSchema, invitationStatusSchema } from "./members/invitation-schema.ts";
export {
  INVITATION_TTL_MS,
  InvitationService,
  type InvitationState,
  invitationState,
} from "./members/invitation-service.ts";
export { MemberService } from "./members/member-service.ts";
export { type MemberDoc, memberDocSchema } from "./members/schema.ts";
export type { DirectoryUser, UserDirectory } from "./members/user-directory.ts";
export { MessageStore, type MessageToStore } from "./messages/message-store.ts";
export {
  chatJidOf,
  chatKeyOf,
  type StoredChatDoc,
  type StoredMessageDoc,
  storedChatDocSchema,
  storedMessageDocSchema,
} from "./messages/schema.ts";
export { type AddressPolicy, refusedAddress, refusedHostName } from "./net/address-policy.ts";
export {
  type OutboundErrorCode,
  OutboundHttp,
  type OutboundHttpOptions,
  type OutboundRequest,
  OutboundRequestError,
  type OutboundResponse,
  outboundErrorCodes,
  parseTarget,
  type ResolveHost,
} from "./net/ssrf-guard.ts";
export { messageStatusOf, type Receipt, withReceipt } from "./outbox/message-status.ts";
export { type ClaimResult, OutboxService, type OutboxServiceOptions, type Outcome } from "./outbox/outbox-service.ts";
export { OutboxWriter, type QueueSendResult } from "./outbox/outbox-writer.ts";
export {
  type MediaMessageContent,
  type MediaSource,
  type MessageContent,
  messageContentSchema,
  mimetypeFits,
  type OutboxContent,
  type OutboxItem,
  type OutboxItemBase,
  outboxContentOf,
  outboxContentSchema,
  outboxItemSchema,
  outboxStatusSchema,
  pendingOutboxItem,
  pendingSendItem,
  recipientSchema,
  type SendItem,
  whatsappMessageIdSchema,
} from "./outbox/schema.ts";
export {
  type FetchMedia,
  mediaStoreSource,
  type SendMediaSource,
  type StagedMedia,
  sendMediaId,
  stageSendMedia,
} from "./outbox/send-media.ts";
export {
  type AiModel,
  aiModels,
  MAX_FREE_TENANTS_PER_USER,
  type Plan,
  PlanCatalog,
  type PlanId,
  planIdSchema,
  planIds,
} from "./plans/plan-catalog.ts";
export { inSpan } from "./telemetry/spans.ts";
export { defaultTraceExporter, startTracing, type TraceExporterKind, type Tracing } from "./telemetry/tracing.ts";
export { type CheckedTemplate, checkTemplate } from "./templates/check-template.ts";
export {
  type CompiledTemplate,
  compileTemplate,
  type RenderContact,
  type Rendered,
  renderTemplate,
} from "./templates/render.ts";
export {
  MAX_RENDERED_LENGTH,
  MAX_TEMPLATE_SOURCE_LENGTH,
  type TemplateDoc,
  type TemplateMedia,
  type TemplateWarning,
  templateBodySchema,
  templateDocSchema,
  templateFallbacksSchema,
  templateLanguageSchema,
  templateMediaSchema,
  templateNameSchema,
  templateWarningSchema,
} from "./templates/schema.ts";
export { seededPick, spinSeed } from "./templates/spintax.ts";
export { builtInVariables, TemplateSyntaxError } from "./templates/syntax.ts";
export {
  MAX_TEMPLATES_PER_TENANT,
  type Preview,
  type PreviewTarget,
  type SavedTemplate,
  type TemplateInput,
  type TemplatePatch,
  TemplateService,
  templateNotFound,
} from "./templates/template-service.ts";
export {
  TENANT_EXPORT_FORMAT,
  type TenantExportDocument,
  tenantExportSchema,
} from "./tenants/export-schema.ts";
export { type TenantDoc, tenantDocSchema, tenantNameSchema, tenantStatusSchema } from "./tenants/schema.ts";
export { TenantExport } from "./tenants/tenant-export.ts";
export { TenantService, type TenantWithRole } from "./tenants/tenant-service.ts";
export { type UsageDoc, usageDocSchema } from "./usage/schema.ts";
export { UsageService, usageDay } from "./usage/usage-service.ts";
export { packageVersion } from "./version.ts";
export {
  type DelivererOptions,
  type DeliverOutcome,
  DISABLE_AFTER_FAILING_MS,
  MAX_LOGGED_ATTEMPTS,
  WebhookDeliverer,
} from "./webhooks/deliverer.ts";
export {
  type DeliveryStatus,
  MAX_REPLAY_DELIVERIES,
  MAX_REPLAY_RANGE_MS,
  type RangeReplayResult,
  type ReplayRange,
  WebhookDeliveryService,
} from "./webhooks/delivery-service.ts";
export {
  EndpointDirectory,
  type EndpointDirectoryOptions,
  type Subscriber,
  subscribes,
} from "./webhooks/endpoint-directory.ts";
export {
  type CreateWebhookInput,
  MAX_WEBHOOKS_PER_TENANT,
  PREVIOUS_SECRET_VALIDITY_MS,
  WebhookEndpointService,
  type WebhookEndpointServiceOptions,
  type WebhookPatch,
  type WebhookSecrets,
  webhookNotFound,
} from "./webhooks/endpoint-service.ts";
export { checkWebhookUrl, MAX_WEBHOOK_URL_LENGTH } from "./webhooks/endpoint-url.ts";
export {
  deliverJobOptions,
  EVENT_RETENTION_MS,
  EventPublisher,
  type EventPublisherOptions,
  eventIdOf,
  MAX_EVENT_BODY_BYTES,
  scheduledJobId,
} from "./webhooks/event-publisher.ts";
export { deliverySchedule, MAX_RETRY_AFTER_MS, retryAfterMs, withJitter } from "./webhooks/retry-schedule.ts";
export {
  type DeliveryAttempt,
  deliveryAttemptSchema,
  deliveryStatusSchema,
  type WebhookDeliveryDoc,
  type WebhookEndpointDoc,
  type WebhookSecretDoc,
  webhookDeliveryDocSchema,
  webhookEndpointDocSchema,
  webhookEventFilterSchema,
  webhookSecretDocSchema,
} from "./webhooks/schema.ts";
export {
  newWebhookSecret,
  type SignedHeaders,
  secretKey,
  signature,
  signedHeaders,
} from "./webhooks/standard-webhooks.ts";
export { type WebhookRefs, webhookRefs } from "./webhooks/webhook-refs.ts";
