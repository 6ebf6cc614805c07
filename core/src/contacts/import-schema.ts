import { z } from "zod";
import { timestampSchema } from "../firestore/timestamps.ts";
import { contactDocSchema, contactTagSchema } from "./schema.ts";

/** At most this many rejected rows are listed in a report; the count covers all of them. */
export const MAX_REPORTED_REJECTIONS = 1_000;

/** What the caller chose for one import. */
export const contactImportOptionsSchema = z.object({
  /** Added to every imported contact (e.g. the list's name). */
  tags: z.array(contactTagSchema).max(10),
  /** Whether the file's name and custom fields replace an existing contact's (else they only fill gaps). */
  overwrite: z.boolean(),
});
export type ContactImportOptions = z.output<typeof contactImportOptionsSchema>;

export const rejectedRowSchema = z.object({
  /** The line of the file the row ends on (the header is line 1). */
  line: z.number().int().min(1),
  /** The column at fault, when one is. */
  column: z.string().nullable(),
  reason: z.string(),
});
export type RejectedRow = z.output<typeof rejectedRowSchema>;

export const importCountsSchema = z.object({
  /** Data rows read (not the header, not empty lines). */
  rows: z.number().int(),
  created: z.number().int(),
  updated: z.number().int(),
  /** Valid rows that changed nothing (the same file imported again). */
  unchanged: z.number().int(),
  rejected: z.number().int(),
});
export type ImportCounts = z.output<typeof importCountsSchema>;

export const skippedUndoSchema = z.object({ personId: z.string(), reason: z.string() });

export const importUndoSchema = z.object({
  status: z.enum(["running", "completed"]),
  requestedBy: z.string(),
  startedAt: timestampSchema,
  finishedAt: timestampSchema.nullable(),
  deleted: z.number().int(),
  restored: z.number().int(),
  skipped: z.number().int(),
  /** The first skipped contacts and why (changed since the import); capped like the rejected rows. */
  skippedContacts: z.array(skippedUndoSchema).max(MAX_REPORTED_REJECTIONS),
});
export type ImportUndo = z.output<typeof importUndoSchema>;

/**
 * `tenants/{t}/contactImports/{importId}`: one CSV import, its report, and (in `changes`) what
 * undoing it needs. `running` with an old `updatedAt` is an import whose process died.
 */
export const contactImportDocSchema = z.object({
  status: z.enum(["running", "completed", "failed"]),
  fileName: z.string().max(300).nullable(),
  options: contactImportOptionsSchema,
  createdBy: z.string(),
  counts: importCountsSchema,
  rejected: z.array(rejectedRowSchema).max(MAX_REPORTED_REJECTIONS),
  /** Why the import stopped before the end of the file (a limit, an unreadable CSV); null otherwise. */
  error: z.string().nullable(),
  undo: importUndoSchema.nullable(),
  createdAt: timestampSchema,
  /** Written as the import goes (every few chunks): how fresh a `running` import is. */
  updatedAt: timestampSchema,
  finishedAt: timestampSchema.nullable(),
});
export type ContactImportDoc = z.output<typeof contactImportDocSchema>;

/**
 * `…/contactImports/{importId}/changes/{personId}`: one contact the import created or changed,
 * written before the contact is: its state before (null when created) and a fingerprint of what the
 * import wrote, so an undo restores only contacts nobody changed since.
 */
export const importChangeDocSchema = z.object({
  action: z.enum(["created", "updated"]),
  line: z.number().int(),
  before: contactDocSchema.nullable(),
  afterFingerprint: z.string(),
  /** What undoing did with it (set as the undo goes, so a resumed undo does not redo it). */
  undo: z.enum(["deleted", "restored", "skipped"]).nullable(),
  undoReason: z.string().nullable(),
});
export type ImportChangeDoc = z.output<typeof importChangeDocSchema>;
