import { ValidationError } from "../errors/domain-error.ts";
import { type ContactIdentity, identityOf, lidDigits, phoneDigits } from "./identity.ts";
import type { ContactFacts } from "./merge.ts";
import { contactTagSchema } from "./schema.ts";

/** Columns with a meaning; every other column is a custom field of that (lower-cased) name. */
export const contactColumns = ["phone", "lid", "name", "tags", "opted_out", "opted_out_at"] as const;
const known = new Set<string>(contactColumns);
const fieldNamePattern = /^[a-z][a-z0-9_]{0,31}$/;
const MAX_NAME = 200;
const MAX_FIELD_VALUE = 500;
export const MAX_CUSTOM_COLUMNS = 30;

/** Where each column is: what the header line says. */
export interface Columns {
  count: number;
  phone: number | null;
  lid: number | null;
  name: number | null;
  tags: number | null;
  optedOut: number | null;
  fields: ReadonlyArray<{ name: string; index: number }>;
}

function headerError(message: string): ValidationError {
  return new ValidationError(`The CSV's header line: ${message}`, [{ path: "body.file", message }]);
}

/**
 * Reads the header line: case and spaces do not matter (`Phone`, ` City `); a column may appear
 * once; a file needs a `phone` or a `lid` column. Anything wrong here refuses the whole file before
 * a row is written.
 */
export function readHeader(cells: readonly string[]): Columns {
  const names = cells.map((cell) => cell.trim().toLowerCase().replace(/\s+/g, "_"));
  const seen = new Set<string>();
  const fields: Array<{ name: string; index: number }> = [];
  const columns: Columns = {
    count: names.length,
    phone: null,
    lid: null,
    name: null,
    tags: null,
    optedOut: null,
    fields,
  };
  for (const [index, name] of names.entries()) {
    if (name === "") throw headerError(`column ${index + 1} has no name`);
    if (seen.has(name)) throw headerError(`column "${name}" appears twice`);
    seen.add(name);
    if (name === "phone") columns.phone = index;
    else if (name === "lid") columns.lid = index;
    else if (name === "name") columns.name = index;
    else if (name === "tags") columns.tags = index;
    else if (name === "opted_out") columns.optedOut = index;
    else if (known.has(name))
      continue; // opted_out_at: what an export says, not something to import
    else if (!fieldNamePattern.test(name)) {
      throw headerError(
        `column "${cells[index]}" is not a custom field name (1-32 lower-case letters, digits or '_', starting with a letter)`,
      );
    } else fields.push({ name, index });
  }
  if (columns.phone === null && columns.lid === null) throw headerError("needs a `phone` or a `lid` column");
  if (fields.length > MAX_CUSTOM_COLUMNS) throw headerError(`at most ${MAX_CUSTOM_COLUMNS} custom field columns`);
  return columns;
}

export type RowResult =
  | { ok: true; identity: ContactIdentity; facts: ContactFacts }
  | { ok: false; column: string | null; reason: string };

const refuse = (column: string | null, reason: string): RowResult => ({ ok: false, column, reason });

/** Spreadsheet-safe exports prefix `'` to cells a spreadsheet would run as a formula; importing takes it off. */
export function unescapeCell(value: string): string {
  return /^'[=+\-@\t\r]/.test(value) ? value.slice(1) : value;
}

/** One data row, checked on its own: a contact's facts, or why the row is refused. */
export function readRow(columns: Columns, raw: readonly string[]): RowResult {
  if (raw.length !== columns.count) {
    return refuse(null, `has ${raw.length} cells where the header has ${columns.count}`);
  }
  const cell = (index: number | null) => (index === null ? "" : unescapeCell(raw[index] ?? "").trim());
  const phoneText = cell(columns.phone);
  const lidText = cell(columns.lid);
  const phone = phoneText ? phoneDigits(phoneText) : null;
  if (phoneText && !phone) {
    return refuse("phone", "not a phone number with its country code (8-15 digits, e.g. +62 812 3456 7890)");
  }
  const lid = lidText ? lidDigits(lidText) : null;
  if (lidText && !lid) return refuse("lid", "not a LID (its digits, optionally with @lid)");
  if (!phone && !lid)
    return refuse(columns.phone === null ? "lid" : "phone", "is empty: a contact needs a phone or a lid");

  const name = cell(columns.name);
  if (name.length > MAX_NAME) return refuse("name", `longer than ${MAX_NAME} characters`);

  const tags: string[] = [];
  for (const text of cell(columns.tags).split(/[;|]/)) {
    if (text.trim() === "") continue;
    const tag = contactTagSchema.safeParse(text);
    if (!tag.success)
      return refuse("tags", `"${text.trim().slice(0, 50)}" is not a tag (1-40 letters, digits, '-' or '_')`);
    tags.push(tag.data);
  }

  const fields: Record<string, string> = {};
  for (const { name: field, index } of columns.fields) {
    const value = cell(index);
    if (value === "") continue; // an empty cell says nothing about the field
    if (value.length > MAX_FIELD_VALUE) return refuse(field, `longer than ${MAX_FIELD_VALUE} characters`);
    fields[field] = value;
  }

  const optedOutText = cell(columns.optedOut).toLowerCase();
  let optOut = false;
  if (["yes", "true", "1", "y"].includes(optedOutText)) optOut = true;
  else if (!["", "no", "false", "0", "n"].includes(optedOutText)) {
    return refuse("opted_out", "must be yes/no (true/false, 1/0) or empty");
  }

  const identity = identityOf(lid, phone);
  return {
    ok: true,
    identity,
    facts: { lid: identity.lid, pn: identity.pn, name: name || null, tags, fields, optOut },
  };
}
