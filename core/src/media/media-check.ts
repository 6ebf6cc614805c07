import { fileTypeFromBuffer } from "file-type";
import { PayloadTooLargeError, ValidationError } from "../errors/domain-error.ts";
import { formatBytes, kindOfMimetype, type MediaKind, mediaLimits, STATIC_STICKER_MAX_BYTES } from "./media-kinds.ts";

/** What a file was found to be: its kind, its content type (from its bytes) and size. */
export interface CheckedMedia {
  kind: MediaKind;
  mimetype: string;
  bytes: number;
}

/** file-type's names for types WhatsApp knows under another. */
const aliases: Record<string, string> = {
  "audio/x-m4a": "audio/mp4",
  "audio/ogg; codecs=opus": "audio/ogg",
  "audio/opus": "audio/ogg",
};

const contentTypePattern = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;

/** A file's content type as its bytes show it (WhatsApp's name for it), or undefined when they do not. */
export async function sniffMimetype(data: Uint8Array): Promise<string | undefined> {
  const sniffed = (await fileTypeFromBuffer(data))?.mime;
  return sniffed ? (aliases[sniffed] ?? sniffed) : undefined;
}

/** How many leading bytes sniffMimetype needs to recognise the types WhatsApp takes. */
export const SNIFF_BYTES = 4_100;

/** The refusal for a file over its kind's limit, naming both; thrown while reading, before anything is kept. */
export function mediaTooLarge(
  kind: MediaKind,
  limit = mediaLimits[kind].maxBytes,
  what = `A ${kind}`,
): PayloadTooLargeError {
  return new PayloadTooLargeError(`${what} may be at most ${formatBytes(limit)} (${limit} bytes).`, {
    details: { kind, limitBytes: limit },
  });
}

/** A WebP with the VP8X animation flag set: an animated sticker, which may be larger than a static one. */
export function isAnimatedWebp(data: Buffer): boolean {
  return (
    data.length >= 21 &&
    data.toString("latin1", 0, 4) === "RIFF" &&
    data.toString("latin1", 8, 16) === "WEBPVP8X" &&
    ((data[20] ?? 0) & 0x02) !== 0
  );
}

/**
 * Checks a file against what WhatsApp takes: its type is read from its bytes (magic numbers, via
 * file-type), never from what the sender claimed, except for documents whose type the bytes do not
 * show (plain text, CSV), where the declared type is kept if it is well-formed. Without a `kind`, the
 * type decides it. Throws ValidationError (`file`) for a type the kind does not take, and
 * PayloadTooLargeError over the kind's limit.
 */
export async function checkMedia(
  data: Buffer,
  options: { kind?: MediaKind | undefined; declaredType?: string | undefined; field?: string } = {},
): Promise<CheckedMedia> {
  const field = options.field ?? "file";
  const found = await sniffMimetype(data);
  const kind = options.kind ?? (found ? kindOfMimetype(found) : "document");
  const limit = mediaLimits[kind];
  let mimetype: string;
  if (limit.mimetypes === null) {
    const declared = options.declaredType?.split(";")[0]?.trim().toLowerCase();
    mimetype = found ?? (declared && contentTypePattern.test(declared) ? declared : "application/octet-stream");
  } else if (found && limit.mimetypes.includes(found)) {
    mimetype = found;
  } else {
    const message = `The file is ${found ?? "of a type its contents do not show"}; a ${kind} must be ${limit.mimetypes.join(", ")}.`;
    throw new ValidationError(message, [{ path: field, message }]);
  }
  if (data.length > limit.maxBytes) throw mediaTooLarge(kind);
  if (kind === "sticker" && data.length > STATIC_STICKER_MAX_BYTES && !isAnimatedWebp(data)) {
    throw mediaTooLarge(kind, STATIC_STICKER_MAX_BYTES, "A static sticker");
  }
  return { kind, mimetype, bytes: data.length };
}
