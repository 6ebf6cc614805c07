import { createDecipheriv, createHmac, timingSafeEqual } from "node:crypto";
import { extractMessageContent, getContentType, getMediaKeys, type MediaType, type WAMessage } from "baileys";

/**
 * Where WhatsApp serves media. A message names its media by `directPath` on these hosts; the
 * `url` it also carries is the sender's word and is never fetched (a forged one pointed the runner
 * at anything reachable from the VPC).
 */
export const WHATSAPP_MEDIA_ORIGINS: readonly string[] = ["https://mmg.whatsapp.net"];

export type MediaDownloadFailure = "too_large" | "unavailable";

/** Why media could not be had: over the caller's byte limit, or not obtainable (refused, gone, forged, slow). */
export class MediaDownloadError extends Error {
  readonly code: MediaDownloadFailure;

  constructor(code: MediaDownloadFailure, message: string) {
    super(message);
    this.name = "MediaDownloadError";
    this.code = code;
  }
}

export interface MediaLimits {
  /** The most decrypted bytes the caller will take: more is refused without being buffered. */
  maxBytes: number;
}

export interface MediaDownloadOptions extends MediaLimits {
  timeoutMs: number;
  /** Hosts media may come from (origins, no path): WhatsApp's in production, a local server in tests. */
  origins?: readonly string[];
  /** An expired file is re-requested from the sender's phone once (Baileys' `updateMediaMessage`). */
  reupload?: (message: WAMessage) => Promise<WAMessage>;
}

/** What WhatsApp appends to an encrypted media file: the first 10 bytes of HMAC-SHA256(macKey, iv ‖ ciphertext). */
const MAC_BYTES = 10;
/** AES-CBC adds at most one block of padding. */
const PADDING_BYTES = 16;
const MEDIA_TYPES = {
  imageMessage: "image",
  videoMessage: "video",
  audioMessage: "audio",
  documentMessage: "document",
  stickerMessage: "sticker",
} as const satisfies Record<string, MediaType>;
/** A path on the media host: no scheme, no authority (`//host`, `@host`), no escapes from the origin. */
const DIRECT_PATH = /^\/(?!\/)[A-Za-z0-9\-._~%/?=&+]*$/;
const REUPLOAD_STATUSES = new Set([404, 410]);

interface Downloadable {
  url: URL;
  mediaKey: Uint8Array;
  type: MediaType;
}

/**
 * Downloads and decrypts a media message's file from WhatsApp's media hosts only, streaming with a
 * hard byte cap and a timeout, no redirects followed, and the file's MAC checked before anything
 * is decrypted. Throws MediaDownloadError; never buffers more than the cap allows.
 */
export async function downloadWhatsAppMedia(message: WAMessage, options: MediaDownloadOptions): Promise<Buffer> {
  const origins = options.origins ?? WHATSAPP_MEDIA_ORIGINS;
  let target = downloadableOf(message, origins, options.maxBytes);
  let response = await fetchMedia(target.url, options.timeoutMs);
  if (REUPLOAD_STATUSES.has(response.status) && options.reupload) {
    await response.body?.cancel();
    target = downloadableOf(await options.reupload(message), origins, options.maxBytes);
    response = await fetchMedia(target.url, options.timeoutMs);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new MediaDownloadError("unavailable", `the media host answered ${response.status}`);
  }
  const encrypted = await readCapped(response, options.maxBytes + PADDING_BYTES + MAC_BYTES);
  const plain = await decrypt(encrypted, target);
  if (plain.length > options.maxBytes) {
    throw new MediaDownloadError("too_large", `the media is ${plain.length} bytes; at most ${options.maxBytes}`);
  }
  return plain;
}

function downloadableOf(message: WAMessage, origins: readonly string[], maxBytes: number): Downloadable {
  const content = extractMessageContent(message.message);
  const kind = getContentType(content);
  const media = isMediaKind(kind) ? content?.[kind] : undefined;
  if (!isMediaKind(kind) || !media)
    throw new MediaDownloadError("unavailable", "the message holds no downloadable media");
  const type = MEDIA_TYPES[kind];
  // The sender's declared size: a lie only makes the stream cap below do the refusing.
  if (Number(media.fileLength ?? 0) > maxBytes) {
    throw new MediaDownloadError("too_large", `the media declares ${media.fileLength} bytes; at most ${maxBytes}`);
  }
  const { directPath, mediaKey } = media;
  if (!directPath || !DIRECT_PATH.test(directPath) || !mediaKey?.length) {
    throw new MediaDownloadError("unavailable", "the message names no media path on WhatsApp's media hosts");
  }
  const origin = origins[0];
  if (!origin) throw new MediaDownloadError("unavailable", "no media host is configured");
  const url = new URL(directPath, origin);
  if (!origins.includes(url.origin)) {
    throw new MediaDownloadError("unavailable", "the media path leads off WhatsApp's media hosts");
  }
  return { url, mediaKey, type };
}

async function fetchMedia(url: URL, timeoutMs: number): Promise<Response> {
  try {
    // A redirect could lead anywhere: WhatsApp's media hosts answer directly.
    return await fetch(url, {
      redirect: "error",
      signal: AbortSignal.timeout(timeoutMs),
      headers: { Origin: "https://web.whatsapp.com" },
    });
  } catch (error) {
    throw new MediaDownloadError("unavailable", `the media could not be fetched: ${describe(error)}`);
  }
}

/** The body, refused as soon as it passes `cap` bytes (announced or streamed). */
async function readCapped(response: Response, cap: number): Promise<Buffer> {
  const announced = Number(response.headers.get("content-length") ?? 0);
  if (announced > cap) {
    await response.body?.cancel();
    throw new MediaDownloadError("too_large", `the media host announces ${announced} bytes; at most ${cap}`);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body?.getReader();
  if (!reader) return Buffer.alloc(0);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > cap) {
        await reader.cancel();
        throw new MediaDownloadError("too_large", `the media passed ${cap} bytes`);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof MediaDownloadError) throw error;
    throw new MediaDownloadError("unavailable", `the media download broke off: ${describe(error)}`);
  }
  return Buffer.concat(chunks, total);
}

async function decrypt(file: Buffer, target: Downloadable): Promise<Buffer> {
  if (file.length < MAC_BYTES + PADDING_BYTES)
    throw new MediaDownloadError("unavailable", "the media file is truncated");
  const { iv, cipherKey, macKey } = await getMediaKeys(target.mediaKey, target.type);
  if (!macKey) throw new MediaDownloadError("unavailable", "the media key yields no MAC key");
  const ciphertext = file.subarray(0, file.length - MAC_BYTES);
  const mac = file.subarray(file.length - MAC_BYTES);
  const expected = createHmac("sha256", macKey).update(iv).update(ciphertext).digest().subarray(0, MAC_BYTES);
  if (!timingSafeEqual(mac, expected)) throw new MediaDownloadError("unavailable", "the media file fails its MAC");
  try {
    const decipher = createDecipheriv("aes-256-cbc", cipherKey, iv);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch (error) {
    throw new MediaDownloadError("unavailable", `the media file does not decrypt: ${describe(error)}`);
  }
}

function isMediaKind(kind: string | undefined): kind is keyof typeof MEDIA_TYPES {
  return kind !== undefined && Object.hasOwn(MEDIA_TYPES, kind);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
