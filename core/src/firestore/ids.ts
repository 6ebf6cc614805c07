import { createHash } from "node:crypto";
import { z } from "zod";

/**
 * Ids we mint or accept for tenants, bots, members (up to 128 characters: the longest Firebase Auth
 * uid) and the like. Checked before any Firestore read so that a path can never be steered into
 * another collection (`a/b`), a reserved id (`__x__`) or `.`/`..`.
 */
export const resourceIdSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/,
    "must be 1-128 letters, digits, '-' or '_', starting with a letter or digit",
  );

export type ResourceId = z.output<typeof resourceIdSchema>;

/**
 * A document id derived from a natural key (a job id, a campaign + recipient): the same key always
 * names the same document, so work that runs twice writes one result. `prefix-<32 hex>`.
 */
export function derivedId(prefix: string, ...key: readonly string[]): string {
  return `${prefix}-${createHash("sha256").update(key.join("\u0000")).digest("hex").slice(0, 32)}`;
}
