import { createHash } from "node:crypto";
import type { SignalDataTypeMap } from "baileys";

export type KeyType = keyof SignalDataTypeMap;

/** Every key type Baileys 7 stores, in the order writes are applied. */
export const keyTypes: readonly KeyType[] = [
  "pre-key",
  "session",
  "sender-key",
  "sender-key-memory",
  "app-state-sync-key",
  "app-state-sync-version",
  "lid-mapping",
  "device-list",
  "tctoken",
  "identity-key",
];

/**
 * Where each key lives under `tenants/{t}/bots/{b}/auth`:
 * - large or few values (sessions, sender keys, identities, app-state keys and versions, sender-key
 *   memory) get a document each: `{type}!{id}`;
 * - small, numerous values share bucket documents, one field per key: pre-keys by id range
 *   (`pre-key#8` holds ids 800-899: the first login's 812 pre-keys are 9 writes, not 812), LID
 *   mappings, device lists and tc tokens by a hash of the id. Every `keys.set` thus stays a single
 *   commit far below Firestore's per-commit write limit, even for a large group's LID mappings.
 * Ids contain `@ : .` and `::`, which Firestore accepts; `/` (never seen, but not excluded by
 * Baileys) and `%` are escaped, so every id maps to one document name and back.
 */
const bucketed: ReadonlySet<KeyType> = new Set<KeyType>(["pre-key", "lid-mapping", "device-list", "tctoken"]);
const PRE_KEYS_PER_BUCKET = 100;
const HASH_BUCKETS = 64;

export const CREDS_DOC = "creds";

export type Location = { kind: "document"; docId: string } | { kind: "field"; docId: string; field: string };

export function escapeId(id: string): string {
  return id.replace(/%/g, "%25").replace(/\//g, "%2F");
}

export function locate(type: KeyType, id: string): Location {
  if (!bucketed.has(type)) return { kind: "document", docId: `${type}!${escapeId(id)}` };
  // The "k:" prefix keeps a field name clear of the reserved `__…__` form whatever the id is.
  return { kind: "field", docId: `${type}#${bucketOf(type, id)}`, field: `k:${id}` };
}

function bucketOf(type: KeyType, id: string): number {
  const numeric = Number(id);
  if (type === "pre-key" && Number.isSafeInteger(numeric) && numeric >= 0) {
    return Math.floor(numeric / PRE_KEYS_PER_BUCKET);
  }
  return createHash("sha256").update(id).digest().readUInt16BE(0) % HASH_BUCKETS;
}
