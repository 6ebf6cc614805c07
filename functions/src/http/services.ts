import type {
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
  InvitationService,
  MediaStore,
  MemberService,
  MessageStore,
  TemplateService,
  TenantExport,
  TenantService,
  WebhookDeliveryService,
  WebhookEndpointService,
} from "@whatsdex/core";
import type { DeadLetterStore } from "@whatsdex/core/jobs";
import type { TokenVerifier } from "../auth/token-verifier.ts";

/** What the routes call; built once in the composition root (runtime.ts) or by a test. */
export interface ApiServices {
  tokens: TokenVerifier;
  access: AccessService;
  tenants: TenantService;
  members: MemberService;
  invitations: InvitationService;
  audit: AuditLog;
  bots: BotService;
  apiKeys: ApiKeyService;
  deadLetters: DeadLetterStore;
  messageStore: MessageStore;
  media: MediaStore;
  webhooks: WebhookEndpointService;
  webhookDeliveries: WebhookDeliveryService;
  billing: BillingService;
  /** The tenant's contacts, shared by its bots; their CSV imports (with undo) and export. */
  contacts: ContactService;
  contactImports: ContactImporter;
  contactExport: ContactExport;
  campaigns: CampaignService;
  /** Closing an account (ADR 23): asking for it and how far it got; the deletion runs in a trigger. */
  closing: AccountClosing;
  tenantExport: TenantExport;
  /** Message templates for campaigns (rendering is core's renderTemplate). */
  templates: TemplateService;
}
