import { z } from "zod";
import { contactTagSchema, personIdSchema } from "../contacts/schema.ts";
import { resourceIdSchema } from "../firestore/ids.ts";
import { timestampSchema } from "../firestore/timestamps.ts";
import { templateBodySchema, templateFallbacksSchema, templateMediaSchema } from "../templates/schema.ts";
import { builtInProfileNames, pacingOverridesSchema } from "./pacing/profile.ts";

/** draft → scheduled → running ⇄ paused → completed, or cancelled from any but completed. */
export const campaignStatuses = ["draft", "scheduled", "running", "paused", "completed", "cancelled"] as const;
export const campaignStatusSchema = z.enum(campaignStatuses);
export type CampaignStatus = z.output<typeof campaignStatusSchema>;

/** An IANA time zone the runtime knows (`Asia/Jakarta`): quiet hours and the schedule are read in it. */
export const timezoneSchema = z
  .string()
  .min(1)
  .max(64)
  .refine((zone) => {
    try {
      new Intl.DateTimeFormat("en", { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  }, "must be an IANA time zone, e.g. Asia/Jakarta");

/** Who a campaign addresses: contacts with any (or all) of some tags, or a list of people. */
export const audienceSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("tags"),
    tags: z.array(contactTagSchema).min(1).max(10),
    match: z.enum(["any", "all"]).default("any"),
  }),
  z.strictObject({
    kind: z.literal("list"),
    personIds: z.array(personIdSchema).min(1).max(1_000),
  }),
]);
export type Audience = z.output<typeof audienceSchema>;

/** Why a recipient gets nothing: opted out, not a contact, listed twice, or messaged by a campaign in the last 24 h. */
export const skipReasonSchema = z.enum(["opted_out", "invalid", "duplicate", "recent"]);
export type SkipReason = z.output<typeof skipReasonSchema>;

export const recipientStatusSchema = z.enum(["pending", "sending", "sent", "failed", "skipped"]);
export type RecipientStatus = z.output<typeof recipientStatusSchema>;

/** How many recipients are in each state: the sum of the campaign's counter shards. */
export const campaignCountsSchema = z.object({
  total: z.number().int(),
  pending: z.number().int(),
  sending: z.number().int(),
  sent: z.number().int(),
  failed: z.number().int(),
  skipped: z.number().int(),
});
export type CampaignCounts = z.output<typeof campaignCountsSchema>;
export const noCounts: CampaignCounts = { total: 0, pending: 0, sending: 0, sent: 0, failed: 0, skipped: 0 };

/** `tenants/{t}/campaigns/{c}` */
export const campaignDocSchema = z.object({
  name: z.string().trim().min(1).max(100),
  /** The bots that send it: one, or a pool the recipients are spread over. */
  botIds: z.array(resourceIdSchema).min(1).max(20),
  templateId: resourceIdSchema,
  /**
   * The template as it was when the campaign was scheduled: what every recipient gets, whatever
   * edits follow (null until then).
   */
  message: z
    .object({ body: templateBodySchema, fallbacks: templateFallbacksSchema, media: templateMediaSchema.nullable() })
    .nullable()
    .default(null),
  audience: audienceSchema,
  /** When sending may begin (null: as soon as it is scheduled). */
  startAt: timestampSchema.nullable(),
  timezone: timezoneSchema,
  /** The pacing profile (data, ADR 24) and the tenant's overrides of it, each no looser than the profile's. */
  pacing: z.object({ profile: z.enum(builtInProfileNames), overrides: pacingOverridesSchema }),
  status: campaignStatusSchema,
  /** Why it is paused, cancelled or completed as it is (a signal from WhatsApp, the plan, a person). */
  statusReason: z.string().max(500).nullable(),
  /** Recipients written from the audience: `done` once every one is; scheduling again resumes. */
  planning: z.object({
    state: z.enum(["not_started", "in_progress", "done"]),
    /** The last contact written, so an interrupted planning resumes after it. */
    cursor: z.string().nullable(),
    recipients: z.number().int().min(0),
    /** Of them, the people it will send to (not skipped): what the plan's recipients per campaign limits. */
    addressed: z.number().int().min(0).default(0),
  }),
  createdBy: z.string().min(1),
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
  startedAt: timestampSchema.nullable(),
  endedAt: timestampSchema.nullable(),
});
export type CampaignDoc = z.output<typeof campaignDocSchema>;

/** `tenants/{t}/campaigns/{c}/recipients/{personId}`: one person's message of the campaign, exactly once. */
export const recipientDocSchema = z.object({
  lid: z.string().nullable(),
  pn: z.string().nullable(),
  name: z.string().nullable(),
  status: recipientStatusSchema,
  skipReason: skipReasonSchema.nullable(),
  /** The bot chosen to send it and its outbox item (the item's id is derived from campaign + person). */
  botId: z.string().nullable(),
  outboxId: z.string().nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  /**
   * Sends tried that certainly never left (the bot stopped or disconnected before it went out):
   * each new try gets its own outbox item, so none is ever sent twice.
   */
  attempts: z.number().int().min(0).default(0),
  /** Ordering key for sending: a stable hash, so a pool's bots interleave without hot spots. */
  order: z.string(),
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
});
export type RecipientDoc = z.output<typeof recipientDocSchema>;

/**
 * `tenants/{t}/campaigns/{c}/counters/{shard}`: recipients per state, spread over shards so that a
 * busy campaign's sends do not all write one document (Firestore sustains ~1 write/s per document).
 */
export const counterShardSchema = campaignCountsSchema.partial();
export const COUNTER_SHARDS = 10;

/**
 * `tenants/{t}/campaignReach/{personId}`: the last campaign message to one person, across the
 * tenant's campaigns (written in the transaction that queues it), so nobody gets two within 24 h.
 */
export const campaignReachSchema = z.object({
  campaignId: z.string().min(1),
  botId: z.string().min(1),
  at: timestampSchema,
});
export type CampaignReach = z.output<typeof campaignReachSchema>;
/** One campaign message per person per this long, whichever campaigns address them. */
export const CAMPAIGN_REACH_WINDOW_MS = 24 * 60 * 60_000;
