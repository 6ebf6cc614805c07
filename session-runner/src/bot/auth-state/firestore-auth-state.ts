import type { Keyring, WriteFence } from "@whatsdex/core";
import type { AuthenticationCreds, AuthenticationState, SignalDataSet, SignalDataTypeMap } from "baileys";
import { initAuthCreds } from "baileys";
import {
  type DocumentData,
  type DocumentReference,
  FieldValue,
  type Firestore,
  Timestamp,
} from "firebase-admin/firestore";
import { LRUCache } from "lru-cache";
import { CREDS_DOC, type KeyType, keyTypes, locate } from "./layout.ts";
import { decodeJson, decodeValue, encodeValue, isAuthenticationCreds } from "./values.ts";

export interface AuthStateStats {
  /** `keys.set` calls that had something to write. */
  sets: number;
  /** Firestore commits made by `keys.set` (one per set is the goal) and `saveCreds`. */
  commits: number;
  cacheHits: number;
  cacheMisses: number;
  documentReads: number;
}

export interface FirestoreAuthStateOptions {
  db: Firestore;
  /** `tenants/{t}/bots/{b}/auth` */
  collectionPath: string;
  keyring: Keyring;
  fence: WriteFence;
  /** Upper bound of the decrypted-key cache, in bytes of serialised value. */
  cacheBytes?: number;
}

export interface FirestoreAuthState {
  state: AuthenticationState;
  /** Persist `state.creds` (Baileys' `creds.update`). */
  saveCreds(): Promise<void>;
  /** Logout: every credential and key of the session, deleted. */
  clear(): Promise<void>;
  /**
   * Settles once every write started so far has committed or failed: awaited after the socket ends
   * and before the lease is released, so that no ratchet step is lost on a handoff.
   */
  idle(): Promise<void>;
  stats: Readonly<AuthStateStats>;
}

/**
 * Cached plaintext (serialised, so every read hands Baileys a fresh copy it may mutate), or ABSENT
 * for a key Baileys asked for that does not exist: cached too, since the one writer is this process.
 */
const ABSENT = Symbol("absent");
type Cached = Buffer | typeof ABSENT;

export class AuthStateWriteLimitError extends Error {}
/** Firestore refuses larger commits; the bucketed layout keeps real sets far below this. */
const MAX_WRITES_PER_COMMIT = 500;
/**
 * Per bot, and a runner holds hundreds: enough for the sessions and sender keys of active chats
 * (~1 KB each) and the creds; pre-keys are read once per new contact and may fall out.
 */
const DEFAULT_CACHE_BYTES = 256 * 1024;

/**
 * Baileys' auth state (creds + Signal keys) in Firestore, encrypted value by value.
 * - `keys.set` is one transaction: the write fence is read first (a deposed owner's set fails and
 *   writes nothing), then every change of every type. Baileys retries a failed set; each retry
 *   writes the same end state, so the set is idempotent.
 * - A `null` deletes: the document, or the field in its bucket.
 * - Reads go through a bounded cache holding only committed values (written after the commit,
 *   never before), so a failed write can never be read back.
 */
export async function loadFirestoreAuthState(options: FirestoreAuthStateOptions): Promise<FirestoreAuthState> {
  const { db, collectionPath, keyring, fence } = options;
  const stats: AuthStateStats = { sets: 0, commits: 0, cacheHits: 0, cacheMisses: 0, documentReads: 0 };
  const cache = new LRUCache<string, Cached>({
    maxSize: options.cacheBytes ?? DEFAULT_CACHE_BYTES,
    sizeCalculation: (entry, key) => key.length + (entry === ABSENT ? 1 : entry.length),
  });
  const docRef = (docId: string): DocumentReference => db.doc(`${collectionPath}/${docId}`);
  const cacheKey = (type: KeyType, id: string) => `${type}\u0000${id}`;

  const open = (sealed: unknown, aad: string): Buffer => {
    if (typeof sealed !== "string") throw new Error(`Auth state at ${aad} is not a sealed value`);
    return keyring.open(sealed, aad);
  };

  stats.documentReads++;
  const credsSnapshot = await docRef(CREDS_DOC).get();
  let creds: AuthenticationCreds = initAuthCreds();
  if (credsSnapshot.exists) {
    const decoded = decodeJson(open(credsSnapshot.get("v"), docRef(CREDS_DOC).path));
    if (!isAuthenticationCreds(decoded)) throw new Error(`${docRef(CREDS_DOC).path} does not hold credentials`);
    creds = decoded;
  }

  async function get<T extends KeyType>(type: T, ids: string[]): Promise<{ [id: string]: SignalDataTypeMap[T] }> {
    const found: { [id: string]: SignalDataTypeMap[T] } = {};
    const missing: string[] = [];
    for (const id of ids) {
      const cached = cache.get(cacheKey(type, id));
      if (cached === undefined) {
        missing.push(id);
        continue;
      }
      stats.cacheHits++;
      if (cached !== ABSENT) found[id] = decodeValue(type, cached);
    }
    stats.cacheMisses += missing.length;
    if (missing.length === 0) return found;

    const byDoc = new Map<string, Array<{ id: string; field: string | undefined }>>();
    for (const id of missing) {
      const location = locate(type, id);
      const list = byDoc.get(location.docId) ?? [];
      list.push({ id, field: location.kind === "field" ? location.field : undefined });
      byDoc.set(location.docId, list);
    }
    const refs = [...byDoc.keys()].map(docRef);
    stats.documentReads += refs.length;
    const snapshots = await db.getAll(...refs);
    for (const snapshot of snapshots) {
      const data: DocumentData | undefined = snapshot.data();
      for (const { id, field } of byDoc.get(snapshot.id) ?? []) {
        const aad = field === undefined ? snapshot.ref.path : `${snapshot.ref.path}#${field}`;
        const sealed: unknown = field === undefined ? data?.v : data?.e?.[field];
        if (sealed === undefined) {
          cache.set(cacheKey(type, id), ABSENT);
          continue;
        }
        const raw = open(sealed, aad);
        found[id] = decodeValue(type, raw);
        cache.set(cacheKey(type, id), raw);
      }
    }
    return found;
  }

  const inflight = new Set<Promise<unknown>>();
  function track<T>(write: Promise<T>): Promise<T> {
    inflight.add(write);
    const done = () => inflight.delete(write);
    write.then(done, done);
    return write;
  }
  async function idle(): Promise<void> {
    while (inflight.size > 0) await Promise.allSettled([...inflight]);
  }

  function set(data: SignalDataSet): Promise<void> {
    return track(setNow(data));
  }

  async function setNow(data: SignalDataSet): Promise<void> {
    const documentWrites = new Map<string, DocumentData | null>();
    const bucketWrites = new Map<string, Record<string, unknown>>();
    const committed: Array<{ key: string; entry: Cached }> = [];
    const now = Timestamp.now();
    for (const type of keyTypes) {
      for (const [id, value] of Object.entries(data[type] ?? {})) {
        const location = locate(type, id);
        const path = `${collectionPath}/${location.docId}`;
        const raw = value === null ? null : encodeValue(value);
        committed.push({ key: cacheKey(type, id), entry: raw ?? ABSENT });
        if (location.kind === "document") {
          documentWrites.set(location.docId, raw === null ? null : { v: keyring.seal(raw, path), updatedAt: now });
        } else {
          const fields = bucketWrites.get(location.docId) ?? {};
          const aad = `${path}#${location.field}`;
          fields[location.field] = raw === null ? FieldValue.delete() : keyring.seal(raw, aad);
          bucketWrites.set(location.docId, fields);
        }
      }
    }
    const writes = documentWrites.size + bucketWrites.size;
    if (writes === 0) return;
    stats.sets++;
    if (writes > MAX_WRITES_PER_COMMIT) {
      throw new AuthStateWriteLimitError(
        `One keys.set would write ${writes} documents (limit ${MAX_WRITES_PER_COMMIT}).`,
      );
    }
    await db.runTransaction(async (tx) => {
      await fence.assertHeld(tx);
      for (const [docId, doc] of documentWrites) {
        if (doc === null) tx.delete(docRef(docId));
        else tx.set(docRef(docId), doc);
      }
      for (const [docId, fields] of bucketWrites) {
        tx.set(docRef(docId), { e: fields, updatedAt: now }, { merge: true });
      }
    });
    stats.commits++;
    for (const { key, entry } of committed) cache.set(key, entry);
  }

  // Saves run one after another: each seals the creds as they are when it starts, so two racing
  // commits could otherwise leave the older snapshot last.
  let saving: Promise<void> = Promise.resolve();
  function saveCreds(): Promise<void> {
    const next = saving.then(saveCredsNow, saveCredsNow);
    saving = next;
    return track(next);
  }

  async function saveCredsNow(): Promise<void> {
    const ref = docRef(CREDS_DOC);
    // Baileys updates `state.creds` in place (creds.update), so that object is what is saved.
    const sealed = keyring.seal(encodeValue(state.creds), ref.path);
    await db.runTransaction(async (tx) => {
      await fence.assertHeld(tx);
      tx.set(ref, { v: sealed, updatedAt: Timestamp.now() });
    });
    stats.commits++;
  }

  async function clear(): Promise<void> {
    await clearFirestoreAuthState({ db, collectionPath, fence });
    cache.clear();
    state.creds = initAuthCreds();
  }

  const state: AuthenticationState = { creds, keys: { get, set } };
  return { state, saveCreds, clear, idle, stats };
}

/**
 * Deletes a session's whole auth state without reading it (a logout must work even when the stored
 * values can no longer be decrypted). Fence checked first, so that a deposed owner cannot wipe the
 * new owner's session; the delete itself cannot run inside a transaction (thousands of documents).
 */
export async function clearFirestoreAuthState(
  options: Pick<FirestoreAuthStateOptions, "db" | "collectionPath" | "fence">,
): Promise<void> {
  const { db, collectionPath, fence } = options;
  await db.runTransaction((tx) => fence.assertHeld(tx));
  await db.recursiveDelete(db.collection(collectionPath));
}
