import { createHash } from "node:crypto";
import type { Timestamp } from "firebase-admin/firestore";
import type { ContactDoc } from "./schema.ts";

/** A contact holds at most this many tags and custom fields (contactDocSchema). */
export const MAX_TAGS = 50;
export const MAX_FIELDS = 30;

/** What one CSV row (or one API call) says about a contact. */
export interface ContactFacts {
  lid: string | null;
  pn: string | null;
  name: string | null;
  tags: readonly string[];
  fields: Readonly<Record<string, string>>;
  /** The row asks to opt the contact out (`opted_out` = yes); never the other way. */
  optOut: boolean;
}

export interface MergeOptions {
  /** Replace the contact's name and same-named fields (else only fill what is missing). */
  overwrite: boolean;
  extraTags: readonly string[];
  importId: string | null;
  now: Timestamp;
}

export type MergeResult =
  | { kind: "unchanged" }
  | { kind: "write"; contact: ContactDoc }
  | { kind: "refused"; column: string | null; reason: string };

const union = (...lists: ReadonlyArray<readonly string[]>) => [...new Set(lists.flat())];

/**
 * The contact after applying one row: tags are added (never removed), the name and fields fill
 * gaps or, with `overwrite`, replace, and an opt-out is kept whatever the row says, so an import
 * never re-subscribes anyone. `unchanged` when nothing but bookkeeping would differ.
 */
export function mergeFacts(existing: ContactDoc | null, facts: ContactFacts, options: MergeOptions): MergeResult {
  const tags = union(existing?.tags ?? [], facts.tags, options.extraTags);
  if (tags.length > MAX_TAGS) return { kind: "refused", column: "tags", reason: `more than ${MAX_TAGS} tags` };
  const fields = options.overwrite
    ? { ...existing?.fields, ...facts.fields }
    : { ...facts.fields, ...existing?.fields };
  if (Object.keys(fields).length > MAX_FIELDS) {
    return { kind: "refused", column: null, reason: `more than ${MAX_FIELDS} custom fields` };
  }
  const optOut =
    existing?.optOut ??
    (facts.optOut
      ? { at: options.now, via: "import" as const, botId: null, reason: "opted_out column of an import" }
      : null);
  const merged: ContactDoc = {
    lid: existing?.lid ?? facts.lid,
    pn: options.overwrite ? (facts.pn ?? existing?.pn ?? null) : (existing?.pn ?? facts.pn),
    name: options.overwrite ? (facts.name ?? existing?.name ?? null) : (existing?.name ?? facts.name),
    tags,
    fields,
    optOut,
    importId: options.importId ?? existing?.importId ?? null,
    createdAt: existing?.createdAt ?? options.now,
    updatedAt: options.now,
  };
  if (existing && sameContent(existing, merged)) return { kind: "unchanged" };
  return { kind: "write", contact: merged };
}

/** Equal in everything a person would see (not which import wrote it, nor when). */
export function sameContent(a: ContactDoc, b: ContactDoc): boolean {
  return JSON.stringify(contentOf(a)) === JSON.stringify(contentOf(b));
}

function contentOf(contact: ContactDoc) {
  return {
    lid: contact.lid,
    pn: contact.pn,
    name: contact.name,
    tags: [...contact.tags].sort(),
    fields: Object.entries(contact.fields).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    optOut: contact.optOut && { ...contact.optOut, at: contact.optOut.at.toMillis() },
  };
}

/** Identifies one exact state of a contact (bookkeeping included): "nobody changed it since". */
export function fingerprint(contact: ContactDoc): string {
  const text = JSON.stringify({
    ...contentOf(contact),
    importId: contact.importId,
    createdAt: contact.createdAt.toMillis(),
    updatedAt: contact.updatedAt.toMillis(),
  });
  return createHash("sha256").update(text).digest("base64url").slice(0, 32);
}

/**
 * One person known twice (by phone, and now by LID): the LID's contact keeps its own values and
 * takes the phone contact's where it has none; tags and fields are united; an opt-out on either
 * side holds (the earliest).
 */
export function mergeContacts(lidContact: ContactDoc, pnContact: ContactDoc, now: Timestamp): ContactDoc {
  const optOuts = [lidContact.optOut, pnContact.optOut].filter((o) => o !== null);
  optOuts.sort((a, b) => a.at.toMillis() - b.at.toMillis());
  const tags = union(lidContact.tags, pnContact.tags).slice(0, MAX_TAGS);
  const fields = Object.fromEntries(Object.entries({ ...pnContact.fields, ...lidContact.fields }).slice(0, MAX_FIELDS));
  return {
    lid: lidContact.lid,
    pn: lidContact.pn ?? pnContact.pn,
    name: lidContact.name ?? pnContact.name,
    tags,
    fields,
    optOut: optOuts[0] ?? null,
    importId: lidContact.importId ?? pnContact.importId,
    createdAt:
      lidContact.createdAt.toMillis() <= pnContact.createdAt.toMillis() ? lidContact.createdAt : pnContact.createdAt,
    updatedAt: now,
  };
}
