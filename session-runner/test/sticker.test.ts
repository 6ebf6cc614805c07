import { randomBytes } from "node:crypto";
import { crc32 } from "node:zlib";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { MediaError } from "../src/media/media-error.ts";
import { MAX_ANIMATED_BYTES, MAX_STATIC_BYTES, makeSticker } from "../src/media/sticker.ts";

const meta = { packId: "wdx-pack-1", packName: "Toko Ayu", publisher: "WhatsDeX", emojis: ["😀"] };

const solid = (width: number, height: number, color = { r: 200, g: 30, b: 90, alpha: 1 }) =>
  sharp({ create: { width, height, channels: 4, background: color } });

/** Decodes the sticker again and checks what WhatsApp checks. */
async function expectSticker(data: Buffer, { animated }: { animated: boolean }) {
  const info = await sharp(data, { animated: true }).metadata();
  expect(info.format).toBe("webp");
  expect(info.width).toBe(512);
  // An animated WebP reports the height of all frames stacked; each frame is 512 high.
  expect((info.height ?? 0) / (info.pages ?? 1)).toBe(512);
  expect((info.pages ?? 1) > 1).toBe(animated);
  expect(data.length).toBeLessThanOrEqual(animated ? MAX_ANIMATED_BYTES : MAX_STATIC_BYTES);
  const exif = info.exif;
  expect(exif?.readUInt16LE(10)).toBe(0x5741);
  expect(JSON.parse(exif?.subarray(22).toString("utf8") ?? "{}")).toEqual({
    "sticker-pack-id": "wdx-pack-1",
    "sticker-pack-name": "Toko Ayu",
    "sticker-pack-publisher": "WhatsDeX",
    emojis: ["😀"],
  });
  return info;
}

describe("sticker maker", () => {
  it("turns a PNG into a 512×512 WebP sticker, padded with transparency, with pack and author", async () => {
    const png = await solid(800, 400).png().toBuffer();
    const sticker = await makeSticker(png, meta);
    await expectSticker(sticker.data, { animated: false });
    const { data, info } = await sharp(sticker.data).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const alphaAt = (x: number, y: number) => data[(y * info.width + x) * 4 + 3];
    expect(alphaAt(256, 5)).toBe(0); // the band above a wide image is transparent
    expect(alphaAt(256, 256)).toBe(255);
  });

  it("turns a JPEG photo into a sticker, lowering quality until it fits under 100 KB", async () => {
    // Noise is the worst case for compression.
    const noise = await sharp(randomBytes(1024 * 1024 * 3), { raw: { width: 1024, height: 1024, channels: 3 } })
      .jpeg({ quality: 95 })
      .toBuffer();
    const sticker = await makeSticker(noise, meta);
    await expectSticker(sticker.data, { animated: false });
    expect(sticker.quality).toBeLessThan(80);
  });

  it("keeps an animated GIF animated", async () => {
    const frames = await Promise.all(
      [0, 80, 160, 240].map((g) => solid(300, 300, { r: 255, g, b: 0, alpha: 1 }).png().toBuffer()),
    );
    const gif = await sharp(frames, { join: { animated: true } })
      .gif()
      .toBuffer();
    expect((await sharp(gif).metadata()).pages).toBe(4);
    const sticker = await makeSticker(gif, meta);
    expect(sticker.animated).toBe(true);
    const info = await expectSticker(sticker.data, { animated: true });
    expect(info.pages).toBe(4);
  });

  it("scales a tiny image up onto the canvas", async () => {
    const tiny = await solid(1, 1).png().toBuffer();
    await expectSticker((await makeSticker(tiny, meta)).data, { animated: false });
  });

  it("refuses an image whose header claims a huge bitmap, before decoding it", async () => {
    const png = await solid(16, 16).png().toBuffer();
    // Rewrite IHDR to claim 30000×30000 (900 megapixels) with a valid CRC: a decompression bomb's shape.
    const bomb = Buffer.from(png);
    bomb.writeUInt32BE(30_000, 16);
    bomb.writeUInt32BE(30_000, 20);
    bomb.writeUInt32BE(crc32(bomb.subarray(12, 29)), 29);
    const error = await makeSticker(bomb, meta).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MediaError);
    expect((error as MediaError).code).toBe("image_too_large");
  });

  it("refuses a file that is not an image, or is cut short, with a clear error", async () => {
    for (const input of [randomBytes(5_000), (await solid(64, 64).png().toBuffer()).subarray(0, 60), Buffer.alloc(0)]) {
      const error = await makeSticker(input, meta).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MediaError);
      expect((error as MediaError).code).toBe("unreadable_image");
    }
    const oversized = await makeSticker(Buffer.alloc(11 * 1024 * 1024), meta).catch((e: unknown) => e);
    expect((oversized as MediaError).code).toBe("image_too_large");
  });
});
