import {
  type ContactDoc,
  type ContactImportDoc,
  contactFieldsSchema,
  contactTagSchema,
  lidOfJid,
  phoneOfJid,
  STALE_IMPORT_MS,
  toIso,
  toIsoOrNull,
} from "@whatsdex/core";
import { z } from "zod";
import { isoDateTime } from "../http/schemas.ts";

const optOutSchema = z
  .object({
    at: isoDateTime,
    via: z.enum(["whatsapp", "api", "import"]).meta({
      description:
        "`whatsapp`: the person sent STOP (only their START lifts it); `api`/`import`: the tenant's decision.",
    }),
    botId: z.string().nullable().meta({ description: "The bot they wrote to, when via WhatsApp." }),
    reason: z.string().nullable(),
  })
  .meta({ id: "ContactOptOut" });

export const contactSchema = z
  .object({
    personId: z.string().meta({ description: "`lid:<digits>` once WhatsApp's LID is known, else `pn:<digits>`." }),
    phone: z.string().nullable().meta({ description: "E.164 digits, without `+`." }),
    lid: z.string().nullable(),
    name: z.string().nullable(),
    tags: z.array(z.string()),
    fields: z.record(z.string(), z.string()).meta({ description: "Custom fields, for templates (`{{city}}`)." }),
    optOut: optOutSchema.nullable().meta({ description: "Set: no campaign reaches this contact." }),
    importId: z.string().nullable().meta({ description: "The import that last wrote it." }),
    createdAt: isoDateTime,
    updatedAt: isoDateTime,
  })
  .meta({ id: "Contact" });

export function toContact(personId: string, contact: ContactDoc): z.output<typeof contactSchema> {
  return {
    personId,
    phone: phoneOfJid(contact.pn),
    lid: lidOfJid(contact.lid),
    name: contact.name,
    tags: contact.tags,
    fields: contact.fields,
    optOut: contact.optOut && {
      at: toIso(contact.optOut.at),
      via: contact.optOut.via,
      botId: contact.optOut.botId,
      reason: contact.optOut.reason,
    },
    importId: contact.importId,
    createdAt: toIso(contact.createdAt),
    updatedAt: toIso(contact.updatedAt),
  };
}

const tags = z.array(contactTagSchema).max(50);
const name = z.string().trim().max(200);

export const upsertContactBody = z
  .strictObject({
    phone: z
      .string()
      .max(40)
      .optional()
      .meta({ description: "With its country code, any punctuation (`+62 812-3456-7890`)." }),
    lid: z.string().max(40).optional().meta({ description: "WhatsApp's LID (digits), when known." }),
    name: name.nullable().optional(),
    tags: tags.optional().meta({ description: "Added to the contact's tags." }),
    fields: contactFieldsSchema.optional().meta({ description: "Set (the others are kept)." }),
  })
  .meta({ description: "A `phone` or a `lid` (or both). An existing contact is updated, not duplicated." });

export const patchContactBody = z.strictObject({
  name: name.nullable().optional(),
  tags: tags.optional().meta({ description: "Replaces the tags." }),
  fields: contactFieldsSchema.optional().meta({ description: "Replaces the custom fields." }),
});

export const optOutBody = z.strictObject({
  reason: z.string().trim().max(200).nullable().optional().meta({ description: "Why, for the record." }),
});

const rejectedRowSchema = z.object({
  line: z.number().int().meta({ description: "The file's line (the header is line 1)." }),
  column: z.string().nullable(),
  reason: z.string(),
});

export const contactImportSchema = z
  .object({
    id: z.string(),
    status: z.enum(["running", "completed", "failed", "interrupted"]).meta({
      description:
        "`failed`: stopped before the end of the file (`error` says why; rows before were imported). `interrupted`: its process died; import the file again (nothing is duplicated).",
    }),
    fileName: z.string().nullable(),
    options: z.object({ tags: z.array(z.string()), overwrite: z.boolean() }),
    counts: z.object({
      rows: z.number().int(),
      created: z.number().int(),
      updated: z.number().int(),
      unchanged: z.number().int(),
      rejected: z.number().int(),
    }),
    rejected: z
      .array(rejectedRowSchema)
      .meta({ description: "The first 1,000 rejected rows; `counts.rejected` has them all." }),
    error: z.string().nullable(),
    undo: z
      .object({
        status: z.enum(["running", "completed", "interrupted"]),
        startedAt: isoDateTime,
        finishedAt: isoDateTime.nullable(),
        deleted: z.number().int(),
        restored: z.number().int(),
        skipped: z.number().int(),
        skippedContacts: z.array(z.object({ personId: z.string(), reason: z.string() })),
      })
      .nullable(),
    createdBy: z.string(),
    createdAt: isoDateTime,
    finishedAt: isoDateTime.nullable(),
  })
  .meta({ id: "ContactImport" });

export function toContactImport(
  id: string,
  doc: ContactImportDoc,
  now = Date.now(),
): z.output<typeof contactImportSchema> {
  const stale = now - doc.updatedAt.toMillis() >= STALE_IMPORT_MS;
  return {
    id,
    status: doc.status === "running" && stale ? "interrupted" : doc.status,
    fileName: doc.fileName,
    options: doc.options,
    counts: doc.counts,
    rejected: doc.rejected,
    error: doc.error,
    undo: doc.undo && {
      status: doc.undo.status === "running" && stale ? "interrupted" : doc.undo.status,
      startedAt: toIso(doc.undo.startedAt),
      finishedAt: toIsoOrNull(doc.undo.finishedAt),
      deleted: doc.undo.deleted,
      restored: doc.undo.restored,
      skipped: doc.undo.skipped,
      skippedContacts: doc.undo.skippedContacts,
    },
    createdBy: doc.createdBy,
    createdAt: toIso(doc.createdAt),
    finishedAt: toIsoOrNull(doc.finishedAt),
  };
}
