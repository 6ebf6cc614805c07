import {
  checkTemplate,
  mediaKindSchema,
  personIdSchema,
  resourceIdSchema,
  type TemplateDoc,
  type TemplateWarning,
  templateBodySchema,
  templateFallbacksSchema,
  templateLanguageSchema,
  templateNameSchema,
  templateWarningSchema,
  toIso,
} from "@whatsdex/core";
import { z } from "zod";
import { isoDateTime } from "../http/schemas.ts";

const syntax =
  "`{{name}}`, `{{first_name}}`, `{{phone}}` or any custom field (`{{city}}`), with a fallback as `{{name|there}}`; " +
  "spintax `{Hi|Hello|Hey}` (nested allowed), one alternative per recipient, the same on every retry; " +
  "`\\{`, `\\}`, `\\|`, `\\\\` for literal characters.";

const body = templateBodySchema.meta({
  description: `The message. ${syntax} Its longest possible rendering must fit 4,096 characters.`,
});
const fallbacks = templateFallbacksSchema.meta({
  description: "Fallbacks by variable, for the uses without their own `{{name|fallback}}`.",
});
const mediaUploadId = resourceIdSchema.meta({
  description:
    "An upload (`POST …/media`) sent with the message, `body` as its caption. The template keeps its own copy, so it outlives the upload.",
});

export const createTemplateBody = z.strictObject({
  name: templateNameSchema,
  body,
  language: templateLanguageSchema.optional().meta({ description: "A language tag; `en` by default." }),
  fallbacks: fallbacks.optional(),
  mediaUploadId: mediaUploadId.optional(),
});

export const updateTemplateBody = z.strictObject({
  name: templateNameSchema.optional(),
  body: body.optional(),
  language: templateLanguageSchema.optional(),
  fallbacks: fallbacks.optional(),
  mediaUploadId: mediaUploadId.nullable().optional().meta({ description: "A new upload; null removes the media." }),
});

const campaignId = resourceIdSchema
  .optional()
  .meta({ description: "Draw the spintax as this campaign's message to this person would (default: a fixed seed)." });

/** The contact fields a preview may describe inline, as a contact document holds them. */
const inlineContact = z.strictObject({
  name: z.string().max(200).nullable().optional(),
  phone: z
    .string()
    .regex(/^\+?[1-9]\d{7,14}$/, "must be a phone number with its country code, digits only (an optional '+')")
    .nullable()
    .optional(),
  fields: z.record(z.string().regex(/^[a-z][a-z0-9_]{0,31}$/), z.string().max(500)).optional(),
});

export const previewTemplateBody = z.union([
  z.strictObject({
    personId: personIdSchema.meta({ description: "A contact of the tenant (`lid:…` or `pn:…`); 404 if none." }),
    campaignId,
  }),
  z.strictObject({ contact: inlineContact, campaignId }),
]);

const templateMediaView = z
  .object({ kind: mediaKindSchema, mimetype: z.string(), bytes: z.number().int(), fileName: z.string().nullable() })
  .meta({ id: "TemplateMedia" });

export const templateSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    body: z.string(),
    language: z.string(),
    fallbacks: z.record(z.string(), z.string()),
    media: templateMediaView.nullable(),
    variables: z.array(z.string()).meta({ description: "Every variable the body uses." }),
    maxLength: z.number().int().meta({ description: "The longest rendering, in characters." }),
    warnings: z.array(templateWarningSchema).meta({
      description: "Variables some contacts leave empty (no fallback): allowed, but worth a look.",
    }),
    createdBy: z.string(),
    createdAt: isoDateTime,
    updatedAt: isoDateTime,
  })
  .meta({ id: "Template" });

export const templatePreviewSchema = z
  .object({
    text: z.string(),
    length: z.number().int(),
    missing: z.array(z.string()).meta({ description: "Variables this contact has no value for, without a fallback." }),
    media: templateMediaView.nullable(),
  })
  .meta({ id: "TemplatePreview" });

export function toTemplate(
  id: string,
  template: TemplateDoc,
  warnings: TemplateWarning[] = checkTemplate(template.body, template.fallbacks).warnings,
): z.output<typeof templateSchema> {
  return {
    id,
    name: template.name,
    body: template.body,
    language: template.language,
    fallbacks: template.fallbacks,
    media: template.media
      ? {
          kind: template.media.kind,
          mimetype: template.media.mimetype,
          bytes: template.media.bytes,
          fileName: template.media.fileName,
        }
      : null,
    variables: template.variables,
    maxLength: template.maxLength,
    warnings,
    createdBy: template.createdBy,
    createdAt: toIso(template.createdAt),
    updatedAt: toIso(template.updatedAt),
  };
}
