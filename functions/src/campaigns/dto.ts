import {
  audienceSchema,
  builtInProfileNames,
  type CampaignView,
  campaignCountsSchema,
  campaignStatusSchema,
  pacingOverridesSchema,
  type RecipientDoc,
  recipientStatusSchema,
  resourceIdSchema,
  skipReasonSchema,
  timezoneSchema,
  toIso,
  toIsoOrNull,
} from "@whatsdex/core";
import { z } from "zod";
import { isoDateTime } from "../http/schemas.ts";

const pacingSchema = z
  .strictObject({
    profile: z
      .enum(builtInProfileNames)
      .default("standard")
      .meta({ description: "`standard` (6/min, 150/h, 1,000/day, warm-up), `cautious` or `new_number` (ADR 24)." }),
    overrides: pacingOverridesSchema
      .optional()
      .meta({ description: "Fields of the profile to tighten; anything looser than the profile is refused." }),
  })
  .meta({ id: "CampaignPacing" });

const campaignFields = {
  name: z.string().trim().min(1).max(100),
  botIds: z
    .array(resourceIdSchema)
    .min(1)
    .max(20)
    .meta({ description: "The bot that sends it, or a pool the recipients are spread over." }),
  templateId: resourceIdSchema,
  audience: audienceSchema.meta({
    description: "Contacts with `any` (or `all`) of up to 10 tags, or a list of up to 1,000 person ids.",
  }),
  startAt: z.iso
    .datetime({ offset: true })
    .nullable()
    .optional()
    .meta({ description: "When sending may begin; absent or null: as soon as it is scheduled." }),
  timezone: timezoneSchema.meta({ description: "IANA zone for quiet hours and the schedule, e.g. Asia/Jakarta." }),
  pacing: pacingSchema.optional(),
};

export const createCampaignBody = z.strictObject(campaignFields);
export const updateCampaignBody = z
  .strictObject(campaignFields)
  .partial()
  .refine((patch) => Object.keys(patch).length > 0, "send at least one field to change");

export const campaignSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    botIds: z.array(z.string()),
    templateId: z.string(),
    audience: audienceSchema,
    startAt: isoDateTime.nullable(),
    timezone: z.string(),
    pacing: z.object({ profile: z.string(), overrides: z.record(z.string(), z.unknown()) }),
    status: campaignStatusSchema,
    statusReason: z.string().nullable().meta({ description: "Why it is paused, cancelled or completed as it is." }),
    message: z
      .object({
        body: z.string(),
        media: z.object({ kind: z.string(), mimetype: z.string(), fileName: z.string().nullable() }).nullable(),
      })
      .nullable()
      .meta({
        description:
          "What every recipient gets: the template's text and media as they were when the campaign was scheduled (null for a draft).",
      }),
    counts: campaignCountsSchema,
    createdAt: isoDateTime,
    updatedAt: isoDateTime,
    startedAt: isoDateTime.nullable(),
    endedAt: isoDateTime.nullable(),
  })
  .meta({ id: "Campaign" });

export function toCampaign({ id, campaign, counts }: CampaignView): z.output<typeof campaignSchema> {
  return {
    id,
    name: campaign.name,
    botIds: campaign.botIds,
    templateId: campaign.templateId,
    audience: campaign.audience,
    startAt: toIsoOrNull(campaign.startAt),
    timezone: campaign.timezone,
    pacing: campaign.pacing,
    status: campaign.status,
    statusReason: campaign.statusReason,
    message: campaign.message && {
      body: campaign.message.body,
      media: campaign.message.media && {
        kind: campaign.message.media.kind,
        mimetype: campaign.message.media.mimetype,
        fileName: campaign.message.media.fileName,
      },
    },
    counts,
    createdAt: toIso(campaign.createdAt),
    updatedAt: toIso(campaign.updatedAt),
    startedAt: toIsoOrNull(campaign.startedAt),
    endedAt: toIsoOrNull(campaign.endedAt),
  };
}

export const recipientSchema = z
  .object({
    personId: z.string(),
    lid: z.string().nullable(),
    pn: z.string().nullable(),
    name: z.string().nullable(),
    status: recipientStatusSchema,
    skipReason: skipReasonSchema.nullable(),
    botId: z.string().nullable(),
    messageId: z
      .string()
      .nullable()
      .meta({ description: "The outbox item: `GET …/bots/{botId}/messages/{messageId}`." }),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    updatedAt: isoDateTime,
  })
  .meta({ id: "CampaignRecipient" });

export function toRecipient(personId: string, recipient: RecipientDoc): z.output<typeof recipientSchema> {
  return {
    personId,
    lid: recipient.lid,
    pn: recipient.pn,
    name: recipient.name,
    status: recipient.status,
    skipReason: recipient.skipReason,
    botId: recipient.botId,
    messageId: recipient.outboxId,
    error: recipient.error,
    updatedAt: toIso(recipient.updatedAt),
  };
}
