import { z } from "zod";

/**
 * Reads one document from the Firestore emulator over its REST API, as the Admin SDK would (the
 * emulator's `Bearer owner` bypasses security rules). The scripts need two or three fields; this
 * keeps them from loading the Admin SDK for that.
 */
export async function readDocument(
  host: string,
  projectId: string,
  path: string,
): Promise<Record<string, unknown> | undefined> {
  const url = `http://${host}/v1/projects/${projectId}/databases/(default)/documents/${path}`;
  const response = await fetch(url, { headers: { authorization: "Bearer owner" } });
  if (response.status === 404) return undefined;
  if (!response.ok) throw new Error(`the Firestore emulator answered ${response.status} for ${path}`);
  const body = z.object({ fields: z.record(z.string(), z.unknown()).default({}) }).parse(await response.json());
  return decodeFields(body.fields);
}

const valueSchema = z.union([
  z.object({ stringValue: z.string() }),
  z.object({ integerValue: z.string() }),
  z.object({ doubleValue: z.number() }),
  z.object({ booleanValue: z.boolean() }),
  z.object({ timestampValue: z.string() }),
  z.object({ nullValue: z.null() }),
  z.object({ mapValue: z.object({ fields: z.record(z.string(), z.unknown()).default({}) }) }),
  z.object({ arrayValue: z.object({ values: z.array(z.unknown()).default([]) }) }),
]);

function decodeValue(value: unknown): unknown {
  const parsed = valueSchema.safeParse(value);
  if (!parsed.success) return undefined;
  const v = parsed.data;
  if ("stringValue" in v) return v.stringValue;
  if ("integerValue" in v) return Number(v.integerValue);
  if ("doubleValue" in v) return v.doubleValue;
  if ("booleanValue" in v) return v.booleanValue;
  if ("timestampValue" in v) return v.timestampValue;
  if ("nullValue" in v) return null;
  if ("mapValue" in v) return decodeFields(v.mapValue.fields);
  return v.arrayValue.values.map(decodeValue);
}

function decodeFields(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, decodeValue(value)]));
}

/** Sets string fields of an existing document (an update mask: nothing else changes; a missing document is an error). */
export async function setStringFields(
  host: string,
  projectId: string,
  path: string,
  fields: Record<string, string>,
): Promise<void> {
  const mask = Object.keys(fields)
    .map((field) => `updateMask.fieldPaths=${encodeURIComponent(field)}`)
    .join("&");
  const url = `http://${host}/v1/projects/${projectId}/databases/(default)/documents/${path}?${mask}&currentDocument.exists=true`;
  const body = { fields: Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, { stringValue: v }])) };
  const response = await fetch(url, {
    method: "PATCH",
    headers: { authorization: "Bearer owner", "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`the Firestore emulator answered ${response.status} updating ${path}`);
}

const queryResultSchema = z.array(
  z.object({
    document: z.object({ name: z.string(), fields: z.record(z.string(), z.unknown()).default({}) }).optional(),
  }),
);

/** Every document of a collection group (all `linking` subcollections, say), with its path. */
export async function collectionGroup(
  host: string,
  projectId: string,
  collectionId: string,
): Promise<Array<{ path: string; data: Record<string, unknown> }>> {
  const root = `projects/${projectId}/databases/(default)/documents`;
  const response = await fetch(`http://${host}/v1/${root}:runQuery`, {
    method: "POST",
    headers: { authorization: "Bearer owner", "content-type": "application/json" },
    body: JSON.stringify({ structuredQuery: { from: [{ collectionId, allDescendants: true }] } }),
  });
  if (!response.ok) throw new Error(`the Firestore emulator answered ${response.status} querying ${collectionId}`);
  return queryResultSchema
    .parse(await response.json())
    .flatMap((row) =>
      row.document ? [{ path: row.document.name.slice(root.length + 1), data: decodeFields(row.document.fields) }] : [],
    );
}
