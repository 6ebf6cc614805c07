import { Timestamp } from "firebase-admin/firestore";
import type { z } from "zod";

type Json = z.core.util.JSONType;
type Fields = Record<string, Json>;

/**
 * Field names whose values are never written to the audit log, wherever they appear: API key
 * hashes and secrets, tokens, QR and pairing codes. Callers choose what to pass; this is the net.
 */
const secretFields = new Set(["hash", "key", "secret", "secrets", "token", "idToken", "password", "qr", "pairingCode"]);

/** Flattens a document into `dotted.path -> JSON value` (arrays are values), leaving secrets out. */
function flatten(value: unknown, prefix: string, out: Fields): void {
  if (value === undefined) return;
  if (value instanceof Timestamp) {
    out[prefix] = value.toDate().toISOString();
    return;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    out[prefix] = toJson(value);
    return;
  }
  for (const [key, child] of Object.entries(value)) {
    if (secretFields.has(key)) continue;
    flatten(child, prefix ? `${prefix}.${key}` : key, out);
  }
}

function toJson(value: unknown): Json {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (value instanceof Timestamp) return value.toDate().toISOString();
  if (Array.isArray(value)) return value.map(toJson);
  if (typeof value === "object") {
    const out: Record<string, Json> = {};
    for (const [key, child] of Object.entries(value)) {
      if (!secretFields.has(key) && child !== undefined) out[key] = toJson(child);
    }
    return out;
  }
  return null;
}

export function fieldsOf(document: object | null | undefined, omit: readonly string[] = []): Fields | null {
  if (!document) return null;
  const out: Fields = {};
  flatten(document, "", out);
  for (const key of omit) delete out[key];
  return out;
}

/**
 * Before and after of only the fields that differ (a field absent on one side is null there).
 * `omit` drops bookkeeping fields (`updatedAt`) that change on every write.
 */
export function changedFields(
  before: object | null | undefined,
  after: object | null | undefined,
  omit: readonly string[] = ["updatedAt"],
): { before: Fields | null; after: Fields | null } {
  const left = fieldsOf(before, omit);
  const right = fieldsOf(after, omit);
  if (!left || !right) return { before: left, after: right };
  const changedBefore: Fields = {};
  const changedAfter: Fields = {};
  for (const key of new Set([...Object.keys(left), ...Object.keys(right)])) {
    const a = left[key] ?? null;
    const b = right[key] ?? null;
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    changedBefore[key] = a;
    changedAfter[key] = b;
  }
  return { before: changedBefore, after: changedAfter };
}
