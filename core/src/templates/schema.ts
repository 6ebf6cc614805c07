import { z } from "zod";
import { resourceIdSchema } from "../firestore/ids.ts";
import { timestampSchema } from "../firestore/timestamps.ts";
import { mediaKindSchema } from "../media/media-kinds.ts";
import { FALLBACK_MAX_LENGTH } from "./syntax.ts";

/** What WhatsApp shows of one text message at most: the longest rendering a template may have. */
export const MAX_RENDERED_LENGTH = 4_096;
/** The source may be longer than any rendering (spintax alternatives are written side by side). */
export const MAX_TEMPLATE_SOURCE_LENGTH = 16_384;

export const templateNameSchema = z.string().trim().min(1, "must not be empty").max(100);
export const templateBodySchema = z
  .string()
  .min(1, "must not be empty")
  .max(MAX_TEMPLATE_SOURCE_LENGTH, `must be at most ${MAX_TEMPLATE_SOURCE_LENGTH} characters`);
/** A language tag (`en`, `id`, `pt-BR`): which audience the text is written for. */
export const templateLanguageSchema = z
  .string()
  .regex(/^[a-z]{2,3}(-[A-Z]{2})?$/, "must be a language tag such as en, id or pt-BR");
/** Fallbacks by variable, for uses without their own `{{name|fallback}}`. */
export const templateFallbacksSchema = z
  .record(
    z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, "variable names are 1-32 lower-case letters, digits or '_'"),
    z
      .string()
      .max(FALLBACK_MAX_LENGTH)
      .regex(/^[^{}|\\]*$/, "a fallback may not contain braces, pipes or backslashes"),
  )
  .refine((fallbacks) => Object.keys(fallbacks).length <= 30, "at most 30 fallbacks");

/**
 * A template's media: its own copy in the media bucket (`templates/{tenant}/{id}`), made from an
 * upload when the template is saved. Uploads expire after a day, campaigns run for longer, so a
 * reference to the upload would break; the copy lives as long as the template.
 */
export const templateMediaSchema = z.object({
  id: resourceIdSchema,
  kind: mediaKindSchema,
  mimetype: z.string(),
  bytes: z.number().int().min(0),
  fileName: z.string().nullable(),
});
export type TemplateMedia = z.output<typeof templateMediaSchema>;

/** A note about a valid template: a variable some contacts may not fill. */
export const templateWarningSchema = z.object({
  variable: z.string(),
  message: z.string(),
});
export type TemplateWarning = z.output<typeof templateWarningSchema>;

/** `tenants/{t}/templates/{templateId}`: a campaign message, rendered per recipient. */
export const templateDocSchema = z.object({
  name: templateNameSchema,
  body: templateBodySchema,
  language: templateLanguageSchema,
  fallbacks: templateFallbacksSchema,
  media: templateMediaSchema.nullable(),
  /** Every variable the body uses, as checked when it was saved (what a campaign needs of contacts). */
  variables: z.array(z.string()),
  /** The longest rendering, as computed when saved (≤ MAX_RENDERED_LENGTH). */
  maxLength: z.number().int().min(0),
  createdBy: z.string(),
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
});
export type TemplateDoc = z.output<typeof templateDocSchema>;
