import { z } from "zod";

export const mediaKinds = ["image", "video", "audio", "document", "sticker"] as const;
export const mediaKindSchema = z.enum(mediaKinds);
export type MediaKind = z.output<typeof mediaKindSchema>;

const MB = 1024 * 1024;

export interface MediaLimit {
  /** Largest file of this kind, in bytes. */
  maxBytes: number;
  /** Content types WhatsApp takes for this kind; `null`: any (documents). */
  mimetypes: readonly string[] | null;
}

/**
 * What WhatsApp accepts per kind, from Meta's "Supported media types" table of the WhatsApp Business
 * Platform (quoted at https://docs.aws.amazon.com/social-messaging/latest/userguide/supported-media-types.html):
 * audio 16 MB (AAC, AMR, MP3, MP4 audio, OGG/Opus), video 16 MB (MP4, 3GPP), documents 100 MB,
 * stickers WebP at 100 KB static / 500 KB animated. Images: that table says 5 MB (JPEG, PNG), but it
 * is the Cloud API's; the app protocol our runner speaks sends photos of up to 16 MB, as WhatsApp's
 * own apps do, so 16 MB. Documents may be of any type, as in the apps.
 */
export const mediaLimits: Record<MediaKind, MediaLimit> = {
  image: { maxBytes: 16 * MB, mimetypes: ["image/jpeg", "image/png"] },
  video: { maxBytes: 16 * MB, mimetypes: ["video/mp4", "video/3gpp"] },
  audio: { maxBytes: 16 * MB, mimetypes: ["audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"] },
  document: { maxBytes: 100 * MB, mimetypes: null },
  sticker: { maxBytes: 500 * 1024, mimetypes: ["image/webp"] },
};

/** A static (not animated) sticker's limit; `mediaLimits.sticker` is the animated one's. */
export const STATIC_STICKER_MAX_BYTES = 100 * 1024;

/** The largest file of any kind: what a transit object (a job's input or output) may be at most. */
export const MAX_MEDIA_BYTES = Math.max(...mediaKinds.map((kind) => mediaLimits[kind].maxBytes));

/** The kind a content type suggests when the caller names none (an upload without `kind`). */
export function kindOfMimetype(mimetype: string): MediaKind {
  const type = mimetype.split(";")[0]?.trim().toLowerCase() ?? "";
  if (type === "image/webp") return "sticker";
  for (const kind of ["image", "video", "audio"] as const) {
    if (mediaLimits[kind].mimetypes?.includes(type)) return kind;
  }
  return "document";
}

/** "16 MB", "500 KB": a limit as people read it. */
export function formatBytes(bytes: number): string {
  if (bytes >= MB && bytes % MB === 0) return `${bytes / MB} MB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KB`;
  return `${bytes} bytes`;
}
