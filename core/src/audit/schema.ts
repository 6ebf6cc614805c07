import { z } from "zod";
import { timestampSchema } from "../firestore/timestamps.ts";

/**
 * Every change the audit log records, in one table. Later capabilities (webhooks, billing,
 * campaigns) add their actions here, so the API's `action` filter and the stored entries agree.
 */
export const auditActions = [
  "tenant.created",
  "tenant.updated",
  "member.added",
  "member.role_changed",
  "member.removed",
  "invitation.created",
  "invitation.accepted",
  "invitation.revoked",
  "apiKey.created",
  "apiKey.revoked",
  "bot.created",
  "bot.updated",
  "bot.deleted",
  "bot.connect",
  "bot.disconnect",
  "bot.logout",
  "bot.settings_changed",
  "person.banned",
  "person.unbanned",
  "webhook.created",
  "webhook.updated",
  "webhook.deleted",
  "webhook.secret_rotated",
  /** Who saw a signing secret again after its creation (not a change, but the secret signs as us). */
  "webhook.secret_revealed",
  /** Stripe's view of the subscription changed the tenant's plan or billing status (actor `system:stripe`). */
  "billing.subscription_changed",
  /** The tenant's Stripe customer was created (the first checkout). */
  "billing.customer_created",
  /** Outbound sending stopped after the grace period for a failed payment, or resumed once paid. */
  "billing.restricted",
  "billing.restored",
  /** The owner closed the account: every bot told to log out, the tenant's data about to be deleted (ADR 23). */
  "tenant.closing_requested",
  /** The platform stopped a bot because the tenant's plan allows fewer (a downgrade). */
  "bot.stopped_by_plan",
  "campaign.created",
  "campaign.updated",
  "campaign.deleted",
  /** Its recipients were written and it was scheduled (or started at once). */
  "campaign.scheduled",
  /** A scheduled campaign's start time came and its bots began sending. */
  "campaign.started",
  /** Paused by a person, by WhatsApp's signal on one of its bots, or by the plan (the entry's `after` says why). */
  "campaign.paused",
  "campaign.resumed",
  "campaign.cancelled",
  /** Every recipient was sent to, failed or skipped. */
  "campaign.completed",
  /** A campaign message template was created, changed or deleted. */
  "template.created",
  "template.updated",
  "template.deleted",
  /** A tenant contact was created, changed (name, tags, fields, identity), deleted, opted out or back in. */
  "contact.created",
  "contact.updated",
  "contact.deleted",
  "contact.opted_out",
  "contact.opted_in",
  /** A CSV import of contacts finished (its counts), or was undone. */
  "contacts.imported",
  "contacts.import_undone",
] as const;
export const auditActionSchema = z.enum(auditActions);
export type AuditAction = z.output<typeof auditActionSchema>;

/**
 * Who made the change: a signed-in user (uid), an API key (key id), or one of a bot's WhatsApp
 * owners (person id, `lid:…`/`pn:…`, never a raw phone number), or the platform itself (`system`:
 * triggers and jobs). A key revoked because its creator lost a role is attributed to whoever changed
 * the role.
 */
export const auditActorSchema = z.object({
  kind: z.enum(["user", "apiKey", "whatsapp", "system"]),
  id: z.string().min(1),
});
export type AuditActor = z.output<typeof auditActorSchema>;

/** `type:id`, e.g. `member:<uid>`, `apiKey:<keyId>`, `bot:<botId>`, `person:lid:123`, `webhook:<id>`, `template:<id>`. */
export const auditTargetSchema = z
  .string()
  .regex(
    /^(tenant|member|invitation|apiKey|bot|person|webhook|template|campaign|contact|import):[\w:.-]{1,200}$/,
    "must be <type>:<id>",
  );

/** Only the fields that changed, as JSON (timestamps as ISO strings); secrets never appear. */
export const auditFieldsSchema = z.record(z.string(), z.json()).nullable();

/** `tenants/{tenantId}/audit/{entryId}`: one per change, written in the change's own transaction. */
export const auditEntryDocSchema = z.object({
  action: auditActionSchema,
  actor: auditActorSchema,
  target: auditTargetSchema,
  /** The bot a change was made in, when the target lives under one (a ban). */
  botId: z.string().nullable(),
  before: auditFieldsSchema,
  after: auditFieldsSchema,
  /** The API request (`X-Request-Id`) that made the change; null for changes made from WhatsApp. */
  requestId: z.string().nullable(),
  createdAt: timestampSchema,
  /** Firestore's TTL policy on this field deletes the entry after the retention period (docs/deploy.md). */
  expiresAt: timestampSchema,
});
export type AuditEntryDoc = z.output<typeof auditEntryDocSchema>;
