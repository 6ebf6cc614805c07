import sharp, { type Metadata } from "sharp";

export type MediaErrorCode = "image_too_large" | "unreadable_image" | "result_too_large" | "text_too_long";

/**
 * Why a user's file or text cannot be made into an image (toimg, qr, meme). The code picks the
 * reply from the command catalog; the message is for logs and says what was wrong.
 */
export class MediaError extends Error {
  readonly code: MediaErrorCode;

  constructor(code: MediaErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "MediaError";
    this.code = code;
  }
}

/** Larger inputs are refused before decoding: what a phone sends is far smaller. */
export const MAX_INPUT_BYTES = 10 * 1024 * 1024;
/** Decompression bombs: a small file that decodes to a huge bitmap is refused. */
export const MAX_INPUT_PIXELS = 50_000_000;

/** libvips refuses an oversized bitmap with this message (sharp has no error codes). */
export function decodeError(error: unknown, message: string): MediaError {
  if (error instanceof Error && /pixel limit/i.test(error.message)) {
    return new MediaError("image_too_large", "The image is too large to convert.", { cause: error });
  }
  return new MediaError("unreadable_image", message, { cause: error });
}

/** The input's header, read before any decoding: too many bytes or pixels, or no image at all, is a MediaError. */
export async function probeImage(input: Buffer): Promise<Metadata> {
  if (input.length > MAX_INPUT_BYTES) {
    throw new MediaError(
      "image_too_large",
      `The image is ${input.length} bytes; at most ${MAX_INPUT_BYTES} are accepted.`,
    );
  }
  let info: Metadata;
  try {
    info = await sharp(input, { limitInputPixels: MAX_INPUT_PIXELS }).metadata();
  } catch (error) {
    throw decodeError(error, "This is not an image that can be read.");
  }
  // An animated image reports the height of all its frames stacked; one frame is what gets decoded.
  const frameHeight = info.pageHeight ?? info.height ?? 0;
  if ((info.width ?? 0) * frameHeight > MAX_INPUT_PIXELS) {
    throw new MediaError("image_too_large", `The image is ${info.width}×${frameHeight}; it is too large to convert.`);
  }
  return info;
}
