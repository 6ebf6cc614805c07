import sharp, { type OutputInfo } from "sharp";
import { decodeError, MAX_INPUT_PIXELS, MediaError, probeImage } from "./media-error.ts";

/** Stickers are 512×512; anything larger is shrunk to this, so the PNG stays a sensible size. */
const MAX_SIDE = 1024;

export interface StillImage {
  data: Buffer;
  mimetype: "image/png";
  width: number;
  height: number;
  /** The sticker was animated (the image is its first frame). */
  fromAnimated: boolean;
}

/**
 * A sticker (any image sharp reads, WebP in practice) → a PNG that keeps its transparency. An
 * animated sticker gives its first frame: an image message cannot move, and the first frame is
 * the one WhatsApp shows before playback. Over `maxBytes`, the PNG is palette-quantised; still
 * over, it is a MediaError like every other reason the file cannot be used.
 */
export async function stickerToImage(input: Buffer, { maxBytes }: { maxBytes: number }): Promise<StillImage> {
  const info = await probeImage(input);
  const fromAnimated = (info.pages ?? 1) > 1;
  const frame = () =>
    // `pages: 1` (sharp's default, spelled out): only the first frame is decoded.
    sharp(input, { limitInputPixels: MAX_INPUT_PIXELS, pages: 1 }).resize(MAX_SIDE, MAX_SIDE, {
      fit: "inside",
      withoutEnlargement: true,
    });
  for (const options of [{ compressionLevel: 9 }, { compressionLevel: 9, palette: true }]) {
    let result: { data: Buffer; info: OutputInfo };
    try {
      result = await frame().png(options).toBuffer({ resolveWithObject: true });
    } catch (error) {
      throw decodeError(error, "The sticker could not be decoded.");
    }
    if (result.data.length <= maxBytes) {
      return {
        data: result.data,
        mimetype: "image/png",
        width: result.info.width,
        height: result.info.height,
        fromAnimated,
      };
    }
  }
  throw new MediaError("result_too_large", `The PNG of this sticker is over ${maxBytes} bytes even with a palette.`);
}
