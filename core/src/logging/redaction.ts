/**
 * What never reaches a log line in clear: credentials, and phone numbers (WhatsApp users' and
 * tenants'). Secrets are replaced whole; phone numbers keep their last 4 digits so that an operator
 * can still tell two numbers apart while debugging. LIDs (`…@lid`) are WhatsApp's privacy ids, not
 * phone numbers, and stay readable.
 *
 * Errors anywhere in a line become plain objects (pino's `type`, `message`, `stack`, plus their own
 * fields and `cause`) redacted the same way.
 *
 * One pass over the logged object (copy-on-write, never mutating the caller's values) instead of
 * pino's path-based redaction: wildcard paths cost several times more per line (see
 * docs/benchmarks) and only ever reach the depths someone thought to list.
 */

export const REDACTED = "[redacted]";

/** Keys whose value is a credential, wherever they appear. */
const secretKeys = new Set([
  "authorization",
  "cookie",
  "set-cookie",
  "x-api-key",
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
]);

/** Keys whose value is a phone number even when written without `+` or a JID suffix. */
const phoneKeys = new Set(["phone", "phoneNumber", "pn", "msisdn", "jid", "remoteJid", "participant", "from", "to"]);

/** How deep nested objects are searched; deeper values are logged as they are. */
const MAX_DEPTH = 5;

/**
 * A WhatsApp PN JID (`6281234567890@s.whatsapp.net`, with an optional `:device`) or an E.164 number
 * written with its `+`. Bare digit runs in free text are left alone: they are usually ids or times.
 */
const phonePattern = /\+\d{7,15}\b|\b\d{7,15}(?=(?::\d+)?@(?:s\.whatsapp\.net|c\.us)\b)/g;

/** Masks every digit but the last 4 of each phone number in free text. */
export function maskPhoneNumbers(text: string): string {
  // Most lines hold neither character: skip the regex for them.
  if (!text.includes("+") && !text.includes("@")) return text;
  return text.replace(phonePattern, maskDigits);
}

function maskDigits(value: string): string {
  let digits = 0;
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) >= 48 && value.charCodeAt(i) <= 57) digits++;
  let seen = 0;
  return value.replace(/\d/g, (digit) => (++seen > digits - 4 ? digit : "*"));
}

function maskPhoneField(value: unknown): unknown {
  if (typeof value === "number") return maskDigits(String(value));
  if (typeof value !== "string" || value.endsWith("@lid")) return value;
  return maskDigits(value);
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function clean(key: string, value: unknown, depth: number): unknown {
  if (secretKeys.has(key)) return value === undefined || value === null ? value : REDACTED;
  if (phoneKeys.has(key)) return maskPhoneField(value);
  return cleanValue(value, depth);
}

/**
 * An Error as a plain object in pino's shape (`type`, `message`, `stack`) plus its own fields
 * (Boom's `data` and `output` hold the stanza that failed, JIDs included) and its `cause`, so that it
 * is redacted like any other field. pino would serialise it after redaction, in clear.
 */
function errorFields(error: Error): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    type: error.constructor.name || error.name,
    message: error.message,
    stack: error.stack,
  };
  if (error instanceof AggregateError) fields.aggregateErrors = error.errors;
  for (const [key, field] of Object.entries(error)) if (!(key in fields)) fields[key] = field;
  if (error.cause !== undefined) fields.cause = error.cause;
  return fields;
}

/** `error` as a redacted plain object; anything that is not an Error is returned as it is. */
export function redactError(error: unknown, depth = 0): unknown {
  return error instanceof Error ? redact(errorFields(error), depth + 1) : error;
}

function cleanValue(value: unknown, depth: number): unknown {
  if (typeof value === "string") return maskPhoneNumbers(value);
  if (typeof value !== "object" || value === null) return value;
  // Before the depth limit: an error deep down still has its message and stack masked.
  if (value instanceof Error) return redactError(value, depth);
  if (depth >= MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const cleaned = cleanValue(item, depth + 1);
      if (cleaned !== item) {
        out ??= [...value];
        out[i] = cleaned;
      }
    }
    return out ?? value;
  }
  return isPlainObject(value) ? redact(value, depth + 1) : value;
}

/** `value` with secrets replaced and phone numbers masked; the same object when nothing needed it. */
export function redact(value: Record<string, unknown>, depth = 0): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const item = value[key];
    const cleaned = clean(key, item, depth);
    if (cleaned !== item) {
      out ??= { ...value };
      out[key] = cleaned;
    }
  }
  return out ?? value;
}
