import { type AuthenticationCreds, BufferJSON, proto, type SignalDataTypeMap } from "baileys";
import { z } from "zod";

/**
 * How each Baileys key type is read back: JSON with Buffers (BufferJSON), then checked against its
 * shape, so a value written by an older version or damaged in storage fails loudly here rather
 * than deep inside the Signal protocol.
 */
const bytes = z.instanceof(Uint8Array, { message: "expected bytes" });

type ValueSchemas = { [K in keyof SignalDataTypeMap]: z.ZodType<SignalDataTypeMap[K]> };

/**
 * Baileys declares sessions as bytes, but its libsignal store writes `SessionRecord.serialize()`:
 * a plain `{_sessions, version}` object. Both forms are accepted, under the declared type, because
 * that is what Baileys reads back.
 */
const serializedSessionRecord = z.object({ _sessions: z.record(z.string(), z.unknown()), version: z.string() }).loose();
const sessionSchema = z.custom<Uint8Array>(
  (value) => value instanceof Uint8Array || serializedSessionRecord.safeParse(value).success,
  { message: "expected a serialised Signal session record" },
);

export const valueSchemas: ValueSchemas = {
  "pre-key": z.object({ public: bytes, private: bytes }),
  session: sessionSchema,
  "sender-key": bytes,
  "sender-key-memory": z.record(z.string(), z.boolean()),
  // Baileys calls methods of the protobuf class on these, so plain JSON is turned back into one.
  "app-state-sync-key": z
    .record(z.string(), z.unknown())
    .transform((value) => proto.Message.AppStateSyncKeyData.fromObject(value)),
  "app-state-sync-version": z.object({
    version: z.number(),
    hash: z.instanceof(Buffer),
    indexValueMap: z.record(z.string(), z.object({ valueMac: bytes })),
  }),
  "lid-mapping": z.string(),
  "device-list": z.array(z.string()),
  tctoken: z.object({
    token: z.instanceof(Buffer),
    timestamp: z.string().exactOptional(),
    senderTimestamp: z.number().exactOptional(),
  }),
  "identity-key": bytes,
};

export function encodeValue(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value, BufferJSON.replacer), "utf8");
}

export function decodeJson(raw: Buffer): unknown {
  return JSON.parse(raw.toString("utf8"), BufferJSON.reviver);
}

export function decodeValue<T extends keyof SignalDataTypeMap>(type: T, raw: Buffer): SignalDataTypeMap[T] {
  return valueSchemas[type].parse(decodeJson(raw));
}

/** The fields every set of credentials has; enough to tell creds from anything else. */
export function isAuthenticationCreds(value: unknown): value is AuthenticationCreds {
  if (typeof value !== "object" || value === null) return false;
  const fields = ["noiseKey", "signedIdentityKey", "signedPreKey", "registrationId", "advSecretKey"];
  return fields.every((field) => field in value);
}
