/**
 * What never reaches a log line in clear: credentials, and phone numbers (WhatsApp users' and
 * tenants'). Secrets are replaced whole; phone numbers keep their last 4 digits so that an operator
 * can still tell two numbers apart while debugging.
 */

const secretKeys = [
  "authorization",
  "cookie",
  "password",
  "secret",
  "token",
  "idToken",
  "accessToken",
  "refreshToken",
  "apiKey",
  "api_key",
  "privateKey",
  "private_key",
  "clientSecret",
  "webhookSecret",
  "encryptionKey",
  "creds",
];

const phoneKeys = ["phone", "phoneNumber", "pn", "msisdn", "jid", "remoteJid", "participant", "from", "to"];

const headerKeys = ["authorization", "cookie", "x-api-key", "x-cloudtasks-taskname"];

/** pino paths: each key at the top level and one level down (pino's `*` matches one segment). */
function paths(keys: readonly string[]): string[] {
  return keys.flatMap((key) => [key, `*.${key}`]);
}

export const redactedPaths: readonly string[] = [
  ...paths(secretKeys),
  ...paths(phoneKeys),
  ...headerKeys.flatMap((h) => [`req.headers["${h}"]`, `headers["${h}"]`]),
];

const secretSet = new Set([...secretKeys, ...headerKeys.filter((h) => h !== "x-cloudtasks-taskname")]);
const phoneSet = new Set(phoneKeys);

export const REDACTED = "[redacted]";

/** Masks every digit but the last 4 of each phone number in `text`, leaving its suffix (@s.whatsapp.net). */
export function maskPhoneNumbers(text: string): string {
  return text.replace(phonePattern, (match) => maskDigits(match));
}

/**
 * A WhatsApp PN JID (`6281234567890@s.whatsapp.net`, with an optional `:device`) or an E.164 number
 * written with its `+`. Bare digit runs are left alone: in free text they are usually ids or times.
 * LIDs (`…@lid`) are not phone numbers and stay readable.
 */
const phonePattern = /\+\d{7,15}\b|\b\d{7,15}(?=(?::\d+)?@(?:s\.whatsapp\.net|c\.us)\b)/g;

function maskDigits(value: string): string {
  const digits = value.replace(/\D/g, "").length;
  let seen = 0;
  return value.replace(/\d/g, (digit) => {
    seen += 1;
    return seen > digits - 4 ? digit : "*";
  });
}

/** pino `redact.censor`: decides by the last path segment whether the value is a secret or a phone. */
export function censor(value: unknown, path: string[]): unknown {
  const key = path[path.length - 1] ?? "";
  if (secretSet.has(key)) return REDACTED;
  if (phoneSet.has(key)) {
    // A field known to hold a phone number is masked whatever its format (`0812-3456-7890`).
    if (typeof value === "string") return value.endsWith("@lid") ? value : maskDigits(value);
    if (typeof value === "number") return maskDigits(String(value));
    return value;
  }
  return REDACTED;
}
