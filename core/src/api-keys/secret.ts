import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * Keys look like `wdx_<keyId>_<secret>`: the id locates the stored hash without a scan, the secret
 * (256 random bits) is what proves possession. Only HMAC-SHA256(pepper, secret) is stored, so a
 * leaked database does not yield usable keys without the pepper, which lives in Secret Manager.
 */
const PREFIX = "wdx";
const keyPattern = /^wdx_([0-9a-f]{20})_([A-Za-z0-9_-]{43})$/;

export interface MintedKey {
  keyId: string;
  /** The full key, shown to its creator once. */
  key: string;
  /** Enough of the key to recognise it in a list. */
  displayPrefix: string;
  hash: string;
}

export function mintKey(pepper: string): MintedKey {
  const keyId = randomBytes(10).toString("hex");
  const secret = randomBytes(32).toString("base64url");
  const key = `${PREFIX}_${keyId}_${secret}`;
  return { keyId, key, displayPrefix: `${PREFIX}_${keyId}_${secret.slice(0, 4)}`, hash: hashSecret(pepper, secret) };
}

export function parseKey(key: string): { keyId: string; secret: string } | undefined {
  const match = keyPattern.exec(key);
  return match?.[1] && match[2] ? { keyId: match[1], secret: match[2] } : undefined;
}

export function hashSecret(pepper: string, secret: string): string {
  return createHmac("sha256", pepper).update(secret).digest("hex");
}

export function hashesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, "hex");
  const right = Buffer.from(b, "hex");
  return left.length === right.length && timingSafeEqual(left, right);
}
