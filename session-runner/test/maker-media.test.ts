import { randomBytes } from "node:crypto";
import jsqr from "jsqr";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { MediaError } from "../src/media/media-error.ts";
import { captionWords, escapeXml, layoutCaption, makeMeme } from "../src/media/meme.ts";
import { MAX_QR_CHARS, makeQr } from "../src/media/qr.ts";
import { makeSticker } from "../src/media/sticker.ts";
import { stickerToImage } from "../src/media/to-image.ts";

const LIMIT = { maxBytes: 1_000_000 };
const meta = { packId: "wdx-test", packName: "Test", publisher: "WhatsDeX", emojis: [] };
type Rgba = { r: number; g: number; b: number; alpha: number };
const solid = (width: number, height: number, background: Rgba | string) =>
  sharp({ create: { width, height, channels: 4, background } });

/** The decoded pixels (RGBA) and a reader for one of them. */
async function pixels(data: Buffer) {
  const { data: raw, info } = await sharp(data).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const at = (x: number, y: number) => {
    const i = (y * info.width + x) * 4;
    return { r: raw[i] ?? -1, g: raw[i + 1] ?? -1, b: raw[i + 2] ?? -1, alpha: raw[i + 3] ?? -1 };
  };
  return { raw, info, at };
}

async function expectMediaError(promise: Promise<unknown>, code: MediaError["code"]) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MediaError);
  expect(error).toMatchObject({ code });
}

describe("sticker → image", () => {
  it("turns a sticker into a PNG of the same size that keeps its transparency", async () => {
    // A wide picture: the sticker pads it with transparent bands above and below.
    const sticker = await makeSticker(await solid(800, 400, "#e91e63").png().toBuffer(), meta);
    const image = await stickerToImage(sticker.data, LIMIT);
    expect(image.mimetype).toBe("image/png");
    expect(image.fromAnimated).toBe(false);
    const { info, at } = await pixels(image.data);
    expect((await sharp(image.data).metadata()).format).toBe("png");
    expect([info.width, info.height]).toEqual([512, 512]);
    expect([image.width, image.height]).toEqual([512, 512]);
    expect(at(256, 5).alpha).toBe(0);
    const centre = at(256, 256);
    expect(centre.alpha).toBe(255);
    // #e91e63 after a lossy WebP round trip.
    expect(Math.abs(centre.r - 0xe9)).toBeLessThan(12);
    expect(Math.abs(centre.g - 0x1e)).toBeLessThan(12);
    expect(Math.abs(centre.b - 0x63)).toBeLessThan(12);
  });

  it("gives an animated sticker's first frame, as a single image", async () => {
    const colours = ["#ff0000", "#00ff00", "#0000ff"];
    const frames = await Promise.all(colours.map((c) => solid(300, 300, c).png().toBuffer()));
    const gif = await sharp(frames, { join: { animated: true } })
      .gif()
      .toBuffer();
    const sticker = await makeSticker(gif, meta);
    expect(sticker.animated).toBe(true);
    const image = await stickerToImage(sticker.data, LIMIT);
    expect(image.fromAnimated).toBe(true);
    const info = await sharp(image.data).metadata();
    expect(info.format).toBe("png");
    expect(info.pages ?? 1).toBe(1);
    expect([info.width, info.height]).toEqual([512, 512]);
    const centre = (await pixels(image.data)).at(256, 256);
    expect(centre.r).toBeGreaterThan(200);
    expect(centre.g).toBeLessThan(60);
    expect(centre.b).toBeLessThan(60);
  });

  it("quantises a PNG that would be over the limit, and refuses one that cannot get under it", async () => {
    // Noise does not compress: as a true-colour PNG it is as large as its pixels.
    const noise = await sharp(randomBytes(256 * 256 * 4), { raw: { width: 256, height: 256, channels: 4 } })
      .webp({ lossless: true })
      .toBuffer();
    const truecolour = await sharp(noise).png({ compressionLevel: 9 }).toBuffer();
    expect((await sharp(truecolour).metadata()).isPalette).toBe(false);
    const image = await stickerToImage(noise, { maxBytes: truecolour.length - 1 });
    expect(image.data.length).toBeLessThan(truecolour.length);
    expect((await sharp(image.data).metadata()).isPalette).toBe(true);
    await expectMediaError(stickerToImage(noise, { maxBytes: 10_000 }), "result_too_large");
  });

  it("refuses what is not an image, and images too large to decode", async () => {
    await expectMediaError(stickerToImage(randomBytes(3_000), LIMIT), "unreadable_image");
    // 8000×8000 is 64 megapixels: refused from the header, before anything is decoded.
    const huge = await solid(8_000, 8_000, "#000000").png().toBuffer();
    await expectMediaError(stickerToImage(huge, LIMIT), "image_too_large");
  });
});

/** Decodes the QR code in a PNG with jsQR, from sharp's raw RGBA pixels. */
async function readQr(png: Buffer) {
  const { raw, info } = await pixels(png);
  return jsqr.default(new Uint8ClampedArray(raw.buffer, raw.byteOffset, raw.length), info.width, info.height)?.data;
}

describe("QR codes", () => {
  it.each([
    ["a link", "https://example.com/menu?table=7&lang=id"],
    ["markup characters and emoji", `Halo <b>&</b> "dunia" 'kita' 😀👍🏽`],
    ["the longest text allowed", "x".repeat(MAX_QR_CHARS)],
    ["the longest text of 4-byte characters", "😀".repeat(MAX_QR_CHARS)],
  ])("encodes %s so that a reader gets it back", async (_, text) => {
    const qr = await makeQr(text);
    expect(qr.mimetype).toBe("image/png");
    const info = await sharp(qr.data).metadata();
    expect(info.format).toBe("png");
    // Whole pixels per module, a 4-module quiet zone each side, at least 512 px.
    expect(info.width).toBe((qr.modules + 8) * qr.scale);
    expect(info.height).toBe(info.width);
    expect(info.width).toBeGreaterThanOrEqual(512);
    expect(await readQr(qr.data)).toBe(text);
  });

  it("refuses empty text and text over the limit", async () => {
    await expectMediaError(makeQr(""), "text_too_long");
    await expectMediaError(makeQr("x".repeat(MAX_QR_CHARS + 1)), "text_too_long");
  });
});

describe("meme captions", () => {
  it("escapes markup and drops what XML cannot hold", () => {
    expect(escapeXml(`<&>"'`)).toBe("&lt;&amp;&gt;&quot;&apos;");
    expect(escapeXml("a\u0000b\u001bc\ud800d😀")).toBe("abcd😀");
    expect(captionWords("  when\tthe <build>\n passes  ")).toEqual(["WHEN", "THE", "<BUILD>", "PASSES"]);
  });

  // Every character 60 units wide at the reference size (100), a space 30.
  const measuredFor = (words: string[]) => ({ widths: new Map(words.map((w) => [w, w.length * 60])), space: 30 });

  it("picks the largest size at which the wrapped words fit the box", () => {
    const words = captionWords("one does not simply walk into mordor");
    const measured = measuredFor(words);
    const box = { width: 600, height: 200 };
    const layout = layoutCaption(words, measured, box, { min: 12, max: 80 });
    expect(layout.lines.join(" ")).toBe(words.join(" "));
    const widthAt = (line: string, size: number) => (line.length * 60 * size) / 100;
    for (const line of layout.lines) expect(widthAt(line, layout.fontSize)).toBeLessThanOrEqual(box.width);
    expect(layout.lines.length * layout.fontSize * 1.1).toBeLessThanOrEqual(box.height);
    // One size larger does not fit: either a line gets too wide or the lines too tall.
    const larger = layoutCaption(words, measured, box, { min: layout.fontSize + 1, max: 80 });
    expect(larger.fontSize).toBe(layout.fontSize + 1);
    expect(
      larger.lines.some((l) => widthAt(l, larger.fontSize) > box.width) ||
        larger.lines.length * larger.fontSize * 1.1 > box.height,
    ).toBe(true);
  });

  it("keeps a short caption on one line at the largest size, and cuts a word too long for any size", () => {
    const short = captionWords("yes");
    expect(layoutCaption(short, measuredFor(short), { width: 600, height: 200 }, { min: 12, max: 80 })).toEqual({
      fontSize: 80,
      lines: ["YES"],
    });
    const long = ["A".repeat(100)];
    const layout = layoutCaption(long, measuredFor(long), { width: 300, height: 50 }, { min: 20, max: 80 });
    expect(layout.fontSize).toBe(20);
    // 300 px at 12 px a character: 25 a line.
    expect(layout.lines).toEqual(["A".repeat(25), "A".repeat(25), "A".repeat(25), "A".repeat(25)]);
  });
});

/** Per row band, the share of pixels that differ clearly from the plain source colour. */
async function changedShare(data: Buffer, rows: [number, number], colour: { r: number; g: number; b: number }) {
  const { info, at } = await pixels(data);
  let changed = 0;
  let total = 0;
  for (let y = Math.floor(rows[0] * info.height); y < Math.floor(rows[1] * info.height); y += 1) {
    for (let x = 0; x < info.width; x += 1) {
      const p = at(x, y);
      total += 1;
      if (Math.abs(p.r - colour.r) + Math.abs(p.g - colour.g) + Math.abs(p.b - colour.b) > 60) changed += 1;
    }
  }
  return changed / total;
}

describe("memes", () => {
  const blue = { r: 0x33, g: 0x66, b: 0xff };
  const photo = (width = 900, height = 600) =>
    solid(width, height, { ...blue, alpha: 1 })
      .jpeg()
      .toBuffer();

  it("writes the top and bottom captions in their bands and leaves the middle alone", async () => {
    const meme = await makeMeme(await photo(), { top: `<&>"' 😀 when it builds`, bottom: "first time" }, LIMIT);
    expect(meme.mimetype).toBe("image/jpeg");
    const info = await sharp(meme.data).metadata();
    expect(info.format).toBe("jpeg");
    expect([info.width, info.height]).toEqual([900, 600]);
    expect(await changedShare(meme.data, [0, 0.25], blue)).toBeGreaterThan(0.05);
    expect(await changedShare(meme.data, [0.8, 1], blue)).toBeGreaterThan(0.05);
    expect(await changedShare(meme.data, [0.35, 0.65], blue)).toBe(0);
    // White letters and their black outline are both there.
    const { raw } = await pixels(meme.data);
    let white = 0;
    let black = 0;
    for (let i = 0; i < raw.length; i += 4) {
      const sum = (raw[i] ?? 0) + (raw[i + 1] ?? 0) + (raw[i + 2] ?? 0);
      if (sum > 720) white += 1;
      if (sum < 60) black += 1;
    }
    expect(white).toBeGreaterThan(1_000);
    expect(black).toBeGreaterThan(1_000);
  });

  it("draws only the caption given", async () => {
    const topOnly = await makeMeme(await photo(), { top: "top only", bottom: "" }, LIMIT);
    expect(await changedShare(topOnly.data, [0, 0.25], blue)).toBeGreaterThan(0.05);
    expect(await changedShare(topOnly.data, [0.5, 1], blue)).toBe(0);
    const bottomOnly = await makeMeme(await photo(), { top: "", bottom: "bottom only" }, LIMIT);
    expect(await changedShare(bottomOnly.data, [0, 0.5], blue)).toBe(0);
    expect(await changedShare(bottomOnly.data, [0.8, 1], blue)).toBeGreaterThan(0.05);
  });

  it("keeps a long caption inside the picture's sides", async () => {
    const meme = await makeMeme(await photo(), { top: "word ".repeat(40), bottom: "" }, LIMIT);
    // The outermost columns stay the source colour: nothing ran off the edge.
    const { info, at } = await pixels(meme.data);
    for (let y = 0; y < info.height; y += 1) {
      for (const x of [0, 1, info.width - 2, info.width - 1]) {
        const p = at(x, y);
        expect(Math.abs(p.r - blue.r) + Math.abs(p.g - blue.g) + Math.abs(p.b - blue.b)).toBeLessThan(60);
      }
    }
    expect(await changedShare(meme.data, [0, 0.3], blue)).toBeGreaterThan(0.05);
  });

  it("shrinks large pictures, enlarges small ones, and turns them as the phone's EXIF says", async () => {
    const large = await makeMeme(await photo(3_000, 2_000), { top: "big", bottom: "" }, LIMIT);
    expect([large.width, large.height]).toEqual([1280, 853]);
    const small = await makeMeme(await photo(200, 150), { top: "small", bottom: "" }, LIMIT);
    expect([small.width, small.height]).toEqual([480, 360]);
    expect((await sharp(small.data).metadata()).width).toBe(480);
    // Stored 600×400 but to be shown turned 90°: the meme is 400 wide before enlarging.
    const turned = await sharp(await photo(600, 400))
      .withMetadata({ orientation: 6 })
      .jpeg()
      .toBuffer();
    const meme = await makeMeme(turned, { top: "turned", bottom: "" }, LIMIT);
    expect([meme.width, meme.height]).toEqual([480, 720]);
  });

  it("refuses what is not an image, and a result that cannot fit the limit", async () => {
    await expectMediaError(makeMeme(randomBytes(3_000), { top: "a", bottom: "b" }, LIMIT), "unreadable_image");
    await expectMediaError(makeMeme(await photo(), { top: "a", bottom: "b" }, { maxBytes: 500 }), "result_too_large");
  });
});
