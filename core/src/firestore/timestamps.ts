import { Timestamp } from "firebase-admin/firestore";
import { z } from "zod";

/** A Firestore Timestamp as stored; read boundaries parse with it instead of trusting `data()`. */
export const timestampSchema = z.instanceof(Timestamp, { message: "expected a Firestore Timestamp" });

export function toIso(timestamp: Timestamp): string {
  return timestamp.toDate().toISOString();
}

export function toIsoOrNull(timestamp: Timestamp | null): string | null {
  return timestamp === null ? null : toIso(timestamp);
}
