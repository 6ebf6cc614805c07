import sharp from "sharp";
import type { BenchSuite } from "../../scripts/lib/bench-suite.ts";
import { makeSticker } from "../src/media/sticker.ts";

/**
 * The sticker maker on a 1280×960 photo against calling sharp directly for the same 512×512 WebP
 * (resize contain + encode), so the ratio is what metadata probing, orientation, the size loop and
 * the EXIF chunk cost.
 */
export const suite: BenchSuite = {
  name: "sticker",
  description: "1280×960 JPEG photo → 512×512 WebP sticker",
  baseline: "sharp directly",
  minRatio: { makeSticker: 0.6 },
  async setup() {
    const noise = Buffer.alloc(1280 * 960 * 3);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) % 251;
    const photo = await sharp(noise, { raw: { width: 1280, height: 960, channels: 3 } })
      .blur(3)
      .jpeg({ quality: 85 })
      .toBuffer();
    const meta = { packId: "bench", packName: "Bench", publisher: "WhatsDeX", emojis: [] };
    return {
      tasks: {
        "sharp directly": async () => {
          await sharp(photo)
            .resize(512, 512, { fit: "contain", background: { r: 0, g: 0, b: 0, alpha: 0 } })
            .webp({ quality: 80, effort: 4 })
            .toBuffer();
        },
        makeSticker: async () => {
          await makeSticker(photo, meta);
        },
      },
    };
  },
};
