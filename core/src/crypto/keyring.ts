import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { z } from "zod";

/**
 * AES-256-GCM for values at rest (WhatsApp session keys). Each sealed value names the key that
 * sealed it, so keys rotate without a migration: new writes use the active key, reads use whichever
 * key the value names, and an old key is retired once nothing sealed with it is left.
 *
 * Sealed form: `v1.<keyId>.<iv>.<tag>.<ciphertext>` (base64url parts), with the caller's
 * `associatedData` (for example the document path) authenticated but not stored, so a value copied
 * to another document does not decrypt.
 */
export interface Keyring {
  readonly activeKeyId: string;
  seal(plaintext: Buffer, associatedData: string): string;
  open(sealed: string, associatedData: string): Buffer;
}

const keyIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, "key ids are 1-32 letters, digits, '-' or '_'");

/** `id1:base64key,id2:base64key` — what AUTH_STATE_KEYS holds (from Secret Manager in production). */
export const keyringSpecSchema = z
  .string()
  .min(1)
  .transform((spec, ctx) => {
    const keys = new Map<string, Buffer>();
    for (const entry of spec.split(",")) {
      const [id = "", encoded = ""] = entry.trim().split(":");
      const key = Buffer.from(encoded, "base64");
      if (!keyIdSchema.safeParse(id).success || key.length !== 32) {
        ctx.addIssue({ code: "custom", message: "each entry must be <keyId>:<32 bytes in base64>" });
        return z.NEVER;
      }
      keys.set(id, key);
    }
    return keys;
  });

export class KeyringError extends Error {}

/** GCM's full tag. A shorter one is accepted by OpenSSL and only checks that many bytes: refuse it. */
const TAG_BYTES = 16;

export function createKeyring(keys: ReadonlyMap<string, Buffer>, activeKeyId: string): Keyring {
  const active = keys.get(activeKeyId);
  if (!active) throw new KeyringError(`The active key "${activeKeyId}" is not in the keyring.`);
  return {
    activeKeyId,
    seal(plaintext, associatedData) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", active, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(associatedData, "utf8"));
      const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      const parts = [iv, cipher.getAuthTag(), ciphertext].map((part) => part.toString("base64url"));
      return ["v1", activeKeyId, ...parts].join(".");
    },
    open(sealed, associatedData) {
      const [version, keyId = "", iv = "", tag = "", ciphertext = ""] = sealed.split(".");
      if (version !== "v1") throw new KeyringError("Unknown sealed-value format.");
      const key = keys.get(keyId);
      if (!key) throw new KeyringError(`The value was sealed with key "${keyId}", which this keyring lacks.`);
      const authTag = Buffer.from(tag, "base64url");
      if (authTag.length !== TAG_BYTES) {
        throw new KeyringError(`The value's authentication tag is ${authTag.length} bytes, not ${TAG_BYTES}.`);
      }
      const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(Buffer.from(associatedData, "utf8"));
      decipher.setAuthTag(authTag);
      try {
        return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]);
      } catch (error) {
        throw new KeyringError("The value does not decrypt: wrong key, wrong document, or tampered.", { cause: error });
      }
    },
  };
}
