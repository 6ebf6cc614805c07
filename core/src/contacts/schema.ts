import { z } from "zod";
import { timestampSchema } from "../firestore/timestamps.ts";

/**
 * A person's id across the platform, LID first: `lid:<digits>` once WhatsApp's LID is known, else
 * `pn:<digits>` (the phone number). The session-runner's person store names people the same way
 * (`session-runner/src/identity/person.ts`), so a tenant contact and a bot's person are one key.
 */
export const personIdSchema = z
  .string()
  .regex(/^(lid|pn):[1-9]\d{4,19}$/, "must be lid:<digits> or pn:<digits> (a person's WhatsApp id)");
export type PersonId = z.output<typeof personIdSchema>;

/** A tag: lower-case words, so `VIP` and `vip` are one audience. */
export const contactTagSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, "must be 1-40 letters, digits, '-' or '_'");

/** Custom fields a template can use (`{{city}}`): short names, short text values. */
export const contactFieldsSchema = z
  .record(
    z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, "field names are 1-32 lower-case letters, digits or '_'"),
    z.string().max(500),
  )
  .refine((fields) => Object.keys(fields).length <= 30, "at most 30 custom fields");

/** Why a contact gets no campaign: their own STOP, an owner's decision, or an import. */
export const optOutSchema = z.object({
  at: timestampSchema,
  via: z.enum(["whatsapp", "api", "import"]),
  /** The bot they wrote STOP to, when via WhatsApp. */
  botId: z.string().nullable(),
  /** What they wrote, or what the API caller gave. */
  reason: z.string().max(200).nullable(),
});
export type OptOut = z.output<typeof optOutSchema>;

/**
 * `tenants/{t}/contacts/{personId}`: one person the tenant may address, shared by all its bots.
 * Campaigns are sent only to contacts without `optOut`.
 */
export const contactDocSchema = z.object({
  lid: z.string().nullable().meta({ description: "`<digits>@lid` when known." }),
  pn: z.string().nullable().meta({ description: "`<digits>@s.whatsapp.net` when known." }),
  name: z.string().max(200).nullable(),
  tags: z.array(contactTagSchema).max(50),
  fields: contactFieldsSchema,
  optOut: optOutSchema.nullable(),
  /** The import that last wrote it (undoing that import deletes or restores it), if any. */
  importId: z.string().nullable(),
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
});
export type ContactDoc = z.output<typeof contactDocSchema>;

/** The words that stop campaigns, by language: compared whole, case- and accent-insensitively. */
export const optOutKeywords: Readonly<Record<"en" | "id", readonly string[]>> = {
  en: ["stop", "unsubscribe", "stop all", "cancel", "end", "quit", "opt out", "optout"],
  id: ["berhenti", "stop", "henti", "berhenti langganan", "unsubscribe"],
};
/** Also honoured whatever the bot's language (customers write in their own). */
export const optOutKeywordsAnyLanguage: readonly string[] = ["parar", "baja", "alto", "arrêt", "arret", "stopp"];
export const optInKeywords: Readonly<Record<"en" | "id", readonly string[]>> = {
  en: ["start", "subscribe", "unstop"],
  id: ["mulai", "start", "langganan"],
};
