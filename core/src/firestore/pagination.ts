import type { Query } from "firebase-admin/firestore";
import { FieldPath, Timestamp } from "firebase-admin/firestore";
import { z } from "zod";
import { ValidationError } from "../errors/domain-error.ts";

export interface Page<T> {
  items: T[];
  /** Opaque; pass as `cursor` to get the next page. Null on the last page. */
  nextCursor: string | null;
}

export const pageLimitSchema = z.coerce.number().int().min(1).max(100).default(20);

const cursorSchema = z.object({
  t: z.number().int().min(-62_135_596_800).max(253_402_300_799),
  n: z.number().int().min(0).max(999_999_999),
  id: z.string(),
});

/** Cursors encode the last item's (createdAt, id): stable under inserts, unlike offsets. */
export function encodeCursor(createdAt: Timestamp, id: string): string {
  const json = JSON.stringify({ t: createdAt.seconds, n: createdAt.nanoseconds, id });
  return Buffer.from(json, "utf8").toString("base64url");
}

/** A Firestore document id: no `/`, not `.` or `..`, not `__…__`, at most 1,500 bytes. */
const documentIdPattern = /^(?!\.\.?$)(?!__.*__$)[^/]{1,1500}$/;

/** The id (or, for collection groups, the full document path) must be one Firestore accepts. */
function validCursorTarget(id: string, collectionGroup: boolean): boolean {
  const segments = collectionGroup ? id.split("/") : [id];
  if (collectionGroup && segments.length % 2 !== 0) return false;
  return segments.every((segment) => documentIdPattern.test(segment));
}

function invalidCursor(): ValidationError {
  return new ValidationError("The cursor is not one this API issued.", [
    { path: "query.cursor", message: "not a cursor from a previous page" },
  ]);
}

function decodeCursor(cursor: string, collectionGroup: boolean): { createdAt: Timestamp; id: string } {
  let parsed: z.output<typeof cursorSchema>;
  try {
    parsed = cursorSchema.parse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
  } catch {
    throw invalidCursor();
  }
  // Checked here, not left to the SDK: it would reject some ids only after the server retried them.
  if (!validCursorTarget(parsed.id, collectionGroup)) throw invalidCursor();
  return { createdAt: new Timestamp(parsed.t, parsed.n), id: parsed.id };
}

export interface PageRequest {
  limit: number;
  cursor?: string | undefined;
}

/**
 * Newest first, by `createdAt` then document name. Reads `limit + 1` documents to know whether a
 * next page exists without a second query. Collection-group queries order by the full path (ids
 * repeat across parents), so the cursor keeps the path there.
 */
export function paginate<T extends { createdAt: Timestamp }>(
  query: Query<T>,
  page: PageRequest,
  options: { collectionGroup?: boolean } = {},
): Promise<Page<{ id: string; path: string; data: T }>> {
  return paginateBy(query, "createdAt", (data) => data.createdAt, page, options);
}

/** As `paginate`, newest first by another timestamp field (a chat by its last message). */
export async function paginateBy<T>(
  query: Query<T>,
  field: string,
  timeOf: (data: T) => Timestamp,
  { limit, cursor }: PageRequest,
  { collectionGroup = false }: { collectionGroup?: boolean } = {},
): Promise<Page<{ id: string; path: string; data: T }>> {
  let ordered = query.orderBy(field, "desc").orderBy(FieldPath.documentId(), "desc");
  if (cursor) {
    const after = decodeCursor(cursor, collectionGroup);
    try {
      ordered = ordered.startAfter(after.createdAt, after.id);
    } catch {
      throw invalidCursor();
    }
  }
  const snapshot = await ordered.limit(limit + 1).get();
  const docs = snapshot.docs.slice(0, limit);
  const last = docs[docs.length - 1];
  return {
    items: docs.map((doc) => ({ id: doc.id, path: doc.ref.path, data: doc.data() })),
    nextCursor:
      snapshot.docs.length > limit && last
        ? encodeCursor(timeOf(last.data()), collectionGroup ? last.ref.path : last.id)
        : null,
  };
}
