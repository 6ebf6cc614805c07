/** Firestore's ALREADY_EXISTS (gRPC code 6), as `create()` reports a document that exists. */
export function isAlreadyExists(error: unknown): boolean {
  return typeof error === "object" && error !== null && "code" in error && error.code === 6;
}
