import type { DocumentData, FirestoreDataConverter, QueryDocumentSnapshot } from "firebase-admin/firestore";
import type { z } from "zod";

/**
 * A converter that parses every document it reads with `schema`, so a malformed document fails
 * loudly at the read (naming its path and fields) instead of flowing on as a lie of the type system.
 * Writes are validated too, except partial updates, which go through `update()` and bypass it.
 */
export function zodConverter<S extends z.ZodType<DocumentData>>(schema: S): FirestoreDataConverter<z.output<S>> {
  return {
    toFirestore(value: z.output<S>): DocumentData {
      return schema.parse(value);
    },
    fromFirestore(snapshot: QueryDocumentSnapshot): z.output<S> {
      const result = schema.safeParse(snapshot.data());
      if (result.success) return result.data;
      const fields = result.error.issues.map((i) => i.path.join(".") || "(document)").join(", ");
      throw new Error(`Malformed document ${snapshot.ref.path}: ${fields}`, { cause: result.error });
    },
  };
}
