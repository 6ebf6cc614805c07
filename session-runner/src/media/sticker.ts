import sharp from "sharp";
import { decodeError, MAX_INPUT_PIXELS, MediaError, probeImage } from "./media-error.ts";
import { type StickerMetadata, stickerExif, withExif } from "./webp-exif.ts";

/** WhatsApp's sticker rules: 512×512 WebP; a static one under 100 KB, an animated one under 500 KB. */
export const STICKER_SIZE = 512;
export const MAX_STATIC_BYTES = 100 * 1024;
export const MAX_ANIMATED_BYTES = 500 * 1024;
/** Animated stickers longer than this are cut (WhatsApp plays a few seconds). */
const MAX_FRAMES = 60;

export interface Sticker {
  data: Buffer;
  animated: boolean;
  bytes: number;
  /** The WebP quality that fit the size limit. */
  quality: number;
}

const QUALITIES = [80, 65, 50, 35, 20];

/**
 * Any image sharp reads (PNG, JPEG, WebP, GIF, animated GIF/WebP, …) → a WhatsApp sticker: fitted
 * into 512×512 on a transparent canvas, WebP, compressed until under WhatsApp's limit, with the
 * pack/author EXIF. Errors are MediaErrors with a code the caller can turn into a reply.
 */
export async function makeSticker(input: Buffer, metadata: StickerMetadata): Promise<Sticker> {
  const info = await probeImage(input);
  const animated = (info.pages ?? 1) > 1;
  const limit = animated ? MAX_ANIMATED_BYTES : MAX_STATIC_BYTES;
  const exif = stickerExif(metadata);
  for (const quality of QUALITIES) {
    let encoded: Buffer;
    try {
      encoded = await sharp(input, {
        limitInputPixels: MAX_INPUT_PIXELS,
        animated,
        ...(animated ? { pages: Math.min(info.pages ?? 1, MAX_FRAMES) } : {}),
      })
        .rotate() // honour the phone's EXIF orientation before it is dropped
        .resize(STICKER_SIZE, STICKER_SIZE, { fit: "contain", background: { r: 0, g: 0, b: 0, alpha: 0 } })
        .webp({ quality, effort: 4, ...(animated ? { loop: 0 } : {}) })
        .toBuffer();
    } catch (error) {
      throw decodeError(error, "The image could not be decoded.");
    }
    const data = withExif(encoded, exif);
    if (data.length <= limit) return { data, animated, bytes: data.length, quality };
  }
  throw new MediaError(
    "result_too_large",
    `Even at the lowest quality the sticker is over ${limit / 1024} KB${animated ? " (try a shorter clip)" : ""}.`,
  );
}
