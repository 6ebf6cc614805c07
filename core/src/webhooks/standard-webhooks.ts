import { createHmac, randomBytes } from "node:crypto";

/**
 * Signing per the Standard Webhooks spec (standardwebhooks.com), so receivers can verify with any of
 * its libraries: `webhook-signature` holds `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`,
 * the key being the base64 part of the `whsec_…` secret. One signature per live secret (the current
 * one, and the previous one until it expires after a rotation), space-separated.
 */

export interface SignedHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
}

const prefix = "whsec_";

/** A new signing secret: `whsec_` + base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return `${prefix}${randomBytes(32).toString("base64")}`;
}

/** The HMAC key a `whsec_` secret stands for. */
export function secretKey(secret: string): Buffer {
  if (!secret.startsWith(prefix)) throw new Error("a webhook secret starts with whsec_");
  const key = Buffer.from(secret.slice(prefix.length), "base64");
  if (key.length < 24) throw new Error("a webhook secret holds at least 24 bytes");
  return key;
}

export function signature(secret: string, id: string, timestampSeconds: number, body: string): string {
  const mac = createHmac("sha256", secretKey(secret)).update(`${id}.${timestampSeconds}.${body}`).digest("base64");
  return `v1,${mac}`;
}

/** The headers of one attempt: `id` is the event id (stable across retries), the timestamp this attempt's. */
export function signedHeaders(
  secrets: readonly string[],
  id: string,
  timestampSeconds: number,
  body: string,
): SignedHeaders {
  if (secrets.length === 0) throw new Error("at least one secret signs a webhook");
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestampSeconds),
    "webhook-signature": secrets.map((secret) => signature(secret, id, timestampSeconds, body)).join(" "),
  };
}
