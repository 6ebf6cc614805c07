import { createDecipheriv, createHash, createHmac, timingSafeEqual } from "node:crypto";
import { type Agent, get } from "node:https";
import {
  DEFAULT_CONNECTION_CONFIG,
  extractMessageContent,
  generateWAMessageContent,
  getContentType,
  getMediaKeys,
  getWAUploadToServer,
  type MediaType,
  type proto,
} from "baileys";
import { type Logger, pino } from "pino";
import type { Account } from "../accounts/directory.ts";
import type { SimulatedPhone } from "../phone/simulated-phone.ts";
import type { MediaServer } from "./media-server.ts";

/** Media a phone sends, as Baileys' `sendMessage` content takes it. */
export type PhoneMediaContent =
  | { image: Buffer; mimetype?: string; caption?: string }
  | { video: Buffer; mimetype?: string; caption?: string; jpegThumbnail?: string }
  | { sticker: Buffer; mimetype?: string; isAnimated?: boolean }
  | { document: Buffer; mimetype: string; fileName?: string; caption?: string };

/**
 * A phone sends media as a WhatsApp client does, with Baileys' own code: the file is encrypted
 * under a fresh media key (`generateWAMessageContent`), uploaded to the local media host with the
 * phone's media_conn token (`getWAUploadToServer`), and the message carrying the key, direct path,
 * hashes and mimetype goes out Signal-encrypted. Returns the message id and the message sent.
 */
export async function sendMediaFromPhone(
  media: MediaServer,
  phone: SimulatedPhone,
  to: Account,
  content: PhoneMediaContent,
  options: { addressing?: "lid" | "pn"; logger?: Logger } = {},
): Promise<{ id: string; message: proto.IMessage }> {
  const message = await uploadMediaFromPhone(media, phone, content, options.logger);
  const id = await phone.send(to, message, options.addressing ? { addressing: options.addressing } : {});
  return { id, message };
}

/**
 * The first half of sending media: encrypted and uploaded as the phone's, returned as the message
 * to send (to a person with `phone.send`, to a group with `phone.sendToGroup`).
 */
export async function uploadMediaFromPhone(
  media: MediaServer,
  phone: SimulatedPhone,
  content: PhoneMediaContent,
  logger: Logger = pino({ level: "silent" }),
): Promise<proto.IMessage> {
  const device = phone.account.devices.get(0);
  if (!device) throw new Error(`phone ${phone.account.pn} is not registered: call register() first`);
  const agent = media.agent();
  try {
    const upload = getWAUploadToServer({ ...DEFAULT_CONNECTION_CONFIG, logger, fetchAgent: agent }, async () => {
      const grant = media.grant(phone.account, device);
      return { auth: grant.auth, ttl: grant.ttlSeconds, hosts: grant.hosts, fetchDate: new Date() };
    });
    return await generateWAMessageContent(content, { upload, logger });
  } finally {
    agent.destroy();
  }
}

/** Why a phone could not have a message's media. */
export type PhoneMediaFailure =
  | "not_media"
  | "off_host"
  | "unavailable"
  | "enc_hash_mismatch"
  | "mac_mismatch"
  | "undecryptable"
  | "hash_mismatch"
  | "length_mismatch";

export class PhoneMediaError extends Error {
  readonly code: PhoneMediaFailure;

  constructor(code: PhoneMediaFailure, message: string) {
    super(message);
    this.name = "PhoneMediaError";
    this.code = code;
  }
}

export interface PhoneMediaDownload {
  bytes: Buffer;
  type: MediaType;
  mimetype: string | undefined;
}

const MEDIA_TYPES = {
  imageMessage: "image",
  videoMessage: "video",
  audioMessage: "audio",
  documentMessage: "document",
  stickerMessage: "sticker",
} as const satisfies Record<string, MediaType>;
/** What WhatsApp appends to an encrypted file: the first 10 bytes of HMAC-SHA256(macKey, iv ‖ ciphertext). */
const MAC_BYTES = 10;

/**
 * A phone downloads a media message it received (the sticker a bot sent back) from the local media
 * host by its direct path, and checks everything the sender's Baileys put in the message before
 * trusting a byte: the encrypted file's SHA-256, its MAC, then the plaintext's SHA-256 and length.
 */
export async function downloadMediaOnPhone(media: MediaServer, message: proto.IMessage): Promise<PhoneMediaDownload> {
  const content = extractMessageContent(message);
  const kind = getContentType(content);
  const file = isMediaKind(kind) ? content?.[kind] : undefined;
  if (!isMediaKind(kind) || !file) {
    throw new PhoneMediaError("not_media", `a ${kind ?? "empty"} message holds no media file`);
  }
  const type = MEDIA_TYPES[kind];
  const { directPath, mediaKey, fileEncSha256, fileSha256, fileLength } = file;
  if (!directPath || !mediaKey?.length || !fileEncSha256 || !fileSha256) {
    throw new PhoneMediaError("not_media", "the message lacks a direct path, media key or file hashes");
  }
  const url = new URL(directPath, media.origin);
  if (url.origin !== media.origin) throw new PhoneMediaError("off_host", `${directPath} leads off the media host`);

  const encrypted = await fetchBytes(url, media.agent(), media.maxFileBytes + MAC_BYTES + 16);
  if (!sha256(encrypted).equals(Buffer.from(fileEncSha256))) {
    throw new PhoneMediaError(
      "enc_hash_mismatch",
      "the downloaded file is not the one the message names (fileEncSha256)",
    );
  }
  const { iv, cipherKey, macKey } = await getMediaKeys(mediaKey, type);
  if (!macKey || encrypted.length < MAC_BYTES) {
    throw new PhoneMediaError("mac_mismatch", "the file is too short to carry a MAC, or the key yields no MAC key");
  }
  const ciphertext = encrypted.subarray(0, encrypted.length - MAC_BYTES);
  const mac = encrypted.subarray(encrypted.length - MAC_BYTES);
  const expected = createHmac("sha256", macKey).update(iv).update(ciphertext).digest().subarray(0, MAC_BYTES);
  if (!timingSafeEqual(mac, expected)) {
    throw new PhoneMediaError("mac_mismatch", "the file's MAC does not verify under the message's media key");
  }
  let bytes: Buffer;
  try {
    const decipher = createDecipheriv("aes-256-cbc", cipherKey, iv);
    bytes = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch (error) {
    throw new PhoneMediaError("undecryptable", `the file does not decrypt: ${String(error)}`);
  }
  if (!sha256(bytes).equals(Buffer.from(fileSha256))) {
    throw new PhoneMediaError("hash_mismatch", "the decrypted file's SHA-256 is not the message's fileSha256");
  }
  if (fileLength !== undefined && fileLength !== null && Number(fileLength) !== bytes.length) {
    throw new PhoneMediaError("length_mismatch", `the message says ${fileLength} bytes; the file has ${bytes.length}`);
  }
  return { bytes, type, mimetype: file.mimetype ?? undefined };
}

function isMediaKind(kind: string | undefined): kind is keyof typeof MEDIA_TYPES {
  return kind !== undefined && Object.hasOwn(MEDIA_TYPES, kind);
}

function sha256(bytes: Uint8Array): Buffer {
  return createHash("sha256").update(bytes).digest();
}

/** GET through `agent` (which trusts the media host's CA), refusing more than `cap` bytes. */
function fetchBytes(url: URL, agent: Agent, cap: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const request = get(url, { agent }, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        reject(
          new PhoneMediaError("unavailable", `the media host answered ${response.statusCode} for ${url.pathname}`),
        );
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > cap) {
          request.destroy(new PhoneMediaError("unavailable", `the file passed ${cap} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      response.on("end", () => resolve(Buffer.concat(chunks, size)));
      response.on("error", reject);
    });
    request.on("error", (error) =>
      reject(error instanceof PhoneMediaError ? error : new PhoneMediaError("unavailable", String(error))),
    );
  }).finally(() => agent.destroy());
}
