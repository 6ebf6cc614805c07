import QRCode from "qrcode";
import { MediaError } from "./media-error.ts";

/**
 * The longest text `qr` accepts, in characters (code points). At error correction M the largest QR
 * code holds 2,331 bytes, and a character is at most 4 bytes of UTF-8: 500 of anything fit.
 */
export const MAX_QR_CHARS = 500;
/** Modules are whole pixels (a scanner reads sharp edges best), and the image at least this wide. */
const MIN_SIDE = 512;
const MARGIN = 4;

export interface QrImage {
  data: Buffer;
  mimetype: "image/png";
  /** The QR code's size in modules (21 for version 1 … 177 for version 40). */
  modules: number;
  /** Pixels per module. */
  scale: number;
}

/** Text → a black-on-white QR code PNG (UTF-8, error correction M, the standard 4-module quiet zone). */
export async function makeQr(text: string): Promise<QrImage> {
  const length = [...text].length;
  if (length === 0 || length > MAX_QR_CHARS) {
    throw new MediaError("text_too_long", `A QR code takes 1-${MAX_QR_CHARS} characters; this text has ${length}.`);
  }
  let modules: number;
  try {
    modules = QRCode.create(text, { errorCorrectionLevel: "M" }).modules.size;
  } catch (error) {
    // qrcode throws a plain Error when the data does not fit the largest version.
    throw new MediaError("text_too_long", "The text does not fit in a QR code.", { cause: error });
  }
  const scale = Math.max(2, Math.ceil(MIN_SIDE / (modules + 2 * MARGIN)));
  const data = await QRCode.toBuffer(text, { type: "png", errorCorrectionLevel: "M", margin: MARGIN, scale });
  return { data, mimetype: "image/png", modules, scale };
}
