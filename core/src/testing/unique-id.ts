import { randomBytes } from "node:crypto";

/** An id no other test (or earlier run) uses, so tests share one emulator without wiping it. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString("hex")}`;
}
