import { DocumentReference, Timestamp } from "firebase-admin/firestore";

export type DocumentSnapshotMap = Record<string, unknown>;

/** Firestore values as plain data; Timestamps and references by value, so equal ones compare equal. */
function plain(value: unknown): unknown {
  if (value instanceof Timestamp) return { timestamp: [value.seconds, value.nanoseconds] };
  if (value instanceof DocumentReference) return { reference: value.path };
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, plain(inner)]));
  }
  return value;
}

/**
 * Every document at or under `root`, by path, walking subcollections (and documents that only
 * have subcollections): compare two of these to prove that nothing was written.
 */
export async function snapshotTree(root: DocumentReference): Promise<DocumentSnapshotMap> {
  const out: DocumentSnapshotMap = {};
  async function visit(doc: DocumentReference): Promise<void> {
    const snapshot = await doc.get();
    out[doc.path] = snapshot.exists ? plain(snapshot.data()) : "(no document, only subcollections)";
    for (const collection of await doc.listCollections()) {
      for (const child of await collection.listDocuments()) await visit(child);
    }
  }
  await visit(root);
  return out;
}
