import { randomBytes } from "node:crypto";
import { testBucket, uniqueId } from "@whatsdex/core/testing";
import { describe, expect, it } from "vitest";
import {
  checkMedia,
  MediaStore,
  mediaLimits,
  PayloadTooLargeError,
  STATIC_STICKER_MAX_BYTES,
  ValidationError,
} from "../src/index.ts";

const bucket = testBucket();
const media = new MediaStore(bucket);

const newBot = () => ({ tenantId: uniqueId("tenant"), botId: uniqueId("bot") });
/** A 1x1 PNG. */
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
  "base64",
);
const png = async () => PNG;
/** Enough of a WebP for its type (and animation flag) to show: what the checks read. */
function webp(bytes: number, animated: boolean): Buffer {
  const data = Buffer.alloc(bytes);
  data.write("RIFF", 0, "latin1");
  data.writeUInt32LE(bytes - 8, 4);
  data.write(animated ? "WEBPVP8X" : "WEBPVP8 ", 8, "latin1");
  if (animated) data[20] = 0x02;
  return data;
}

describe("MediaStore on Cloud Storage (through @google-cloud/storage)", () => {
  it("puts, gets and deletes media in transit, and deleting twice is fine", async () => {
    const bot = newBot();
    const data = randomBytes(2_000);
    await media.put(bot, "m1", { mimetype: "image/png", data });
    expect(await media.get(bot, "m1")).toEqual({ mimetype: "image/png", data, bytes: 2_000 });
    expect(await media.get({ ...bot, botId: uniqueId("other") }, "m1")).toBeUndefined();
    await media.delete(bot, "m1");
    await media.delete(bot, "m1");
    expect(await media.get(bot, "m1")).toBeUndefined();
  });

  it("holds media over the old 1 MB Firestore limit (a large sticker job output, a 12 MB video)", async () => {
    const bot = newBot();
    const big = randomBytes(1_500_000);
    await media.put(bot, "sticker-out", { mimetype: "image/webp", data: big });
    expect((await media.get(bot, "sticker-out"))?.data.equals(big)).toBe(true);
    const video = randomBytes(12 * 1024 * 1024); // past the resumable threshold
    await media.put(bot, "video", { mimetype: "video/mp4", data: video });
    expect((await media.get(bot, "video"))?.bytes).toBe(video.length);
  });

  it("refuses an id that would leave its prefix, before anything is stored", async () => {
    const bot = newBot();
    for (const bad of ["../x", "a/b", "..", ""]) {
      await expect(media.put(bot, bad, { mimetype: "image/png", data: Buffer.from("x") })).rejects.toBeInstanceOf(
        ValidationError,
      );
      await expect(media.getInbound(bot, bad)).rejects.toBeInstanceOf(ValidationError);
    }
    await expect(
      media.putUpload("../t", "u1", { mimetype: "image/png", data: Buffer.from("x") }),
    ).rejects.toBeInstanceOf(ValidationError);
    await expect(
      media.put({ tenantId: "t", botId: "../other" }, "m", { mimetype: "image/png", data: Buffer.from("x") }),
    ).rejects.toBeInstanceOf(ValidationError);
    const [files] = await bucket.getFiles();
    expect(files.filter((file) => file.name.includes(".."))).toEqual([]);
  });

  it("keeps uploads with their kind and file name, copies one to a bot as often as asked, and hides another tenant's", async () => {
    const tenantId = uniqueId("tenant");
    const bot = { tenantId, botId: uniqueId("bot") };
    const data = await png();
    const info = await media.putUpload(tenantId, "up1", {
      kind: "image",
      mimetype: "image/png",
      data,
      fileName: "red dot.png",
    });
    expect(info).toMatchObject({
      id: "up1",
      kind: "image",
      mimetype: "image/png",
      bytes: data.length,
      fileName: "red dot.png",
    });
    expect(Date.parse(info.expiresAt) - Date.parse(info.createdAt)).toBe(86_400_000);
    expect(await media.uploadInfo(tenantId, "up1")).toMatchObject({
      id: "up1",
      kind: "image",
      fileName: "red dot.png",
    });
    expect((await media.getUpload(tenantId, "up1"))?.data.equals(data)).toBe(true);

    for (const send of ["send-1", "send-2"]) {
      expect(await media.copyUploadToBot(tenantId, "up1", bot, send)).toMatchObject({ mimetype: "image/png" });
      expect((await media.get(bot, send))?.data.equals(data)).toBe(true);
      await media.delete(bot, send);
    }
    // The upload stays for further sends.
    expect(await media.uploadInfo(tenantId, "up1")).toBeDefined();

    const other = uniqueId("tenant");
    expect(await media.uploadInfo(other, "up1")).toBeUndefined();
    expect(await media.getUpload(other, "up1")).toBeUndefined();
    expect(await media.copyUploadToBot(other, "up1", { tenantId: other, botId: "b" }, "x")).toBeUndefined();
    expect(await media.copyUploadToBot(tenantId, "up1", { tenantId: other, botId: "b" }, "x")).toBeUndefined();
    expect(await media.copyUploadToBot(tenantId, "missing", bot, "x")).toBeUndefined();
  });

  it("treats an expired upload as gone, though lifecycle deletion has not run yet", async () => {
    const tenantId = uniqueId("tenant");
    let now = Date.now();
    const clocked = new MediaStore(bucket, { now: () => now });
    await clocked.putUpload(tenantId, "old", { kind: "document", mimetype: "text/plain", data: Buffer.from("hi") });
    now += 86_400_000 + 1;
    expect(await clocked.uploadInfo(tenantId, "old")).toBeUndefined();
    expect(await clocked.getUpload(tenantId, "old")).toBeUndefined();
    expect(await clocked.copyUploadToBot(tenantId, "old", { tenantId, botId: "b" }, "x")).toBeUndefined();
  });

  it("refuses an upload over its kind's limit", async () => {
    const data = Buffer.alloc(mediaLimits.sticker.maxBytes + 1);
    const error = await media
      .putUpload(uniqueId("tenant"), "big", { kind: "sticker", mimetype: "image/webp", data })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect((error as PayloadTooLargeError).message).toContain("500 KB");
  });

  it("keeps inbound media apart from transit, and deleting a bot removes both", async () => {
    const bot = newBot();
    const data = randomBytes(300);
    await media.putInbound(bot, "in-1", { mimetype: "audio/ogg", data });
    await media.put(bot, "t-1", { mimetype: "image/png", data });
    expect(await media.getInbound(bot, "in-1")).toEqual({ mimetype: "audio/ogg", data, bytes: 300 });
    expect(await media.get(bot, "in-1")).toBeUndefined();
    const neighbour = { tenantId: bot.tenantId, botId: `${bot.botId}x` };
    await media.putInbound(neighbour, "in-1", { mimetype: "audio/ogg", data });
    await media.deleteBot(bot);
    await media.deleteBot(bot);
    expect(await media.getInbound(bot, "in-1")).toBeUndefined();
    expect(await media.get(bot, "t-1")).toBeUndefined();
    // A bot whose id starts with the deleted one's keeps its media.
    expect(await media.getInbound(neighbour, "in-1")).toBeDefined();
  });
});

describe("checkMedia", () => {
  it("reads the type from the bytes and infers the kind from it", async () => {
    expect(await checkMedia(await png())).toMatchObject({ kind: "image", mimetype: "image/png" });
    expect(await checkMedia(webp(2_000, false))).toMatchObject({ kind: "sticker", mimetype: "image/webp" });
    expect(await checkMedia(Buffer.from("plain words"), { declaredType: "text/plain" })).toMatchObject({
      kind: "document",
      mimetype: "text/plain",
    });
  });

  it("refuses a type the kind does not take, naming what was found", async () => {
    const error = await checkMedia(await png(), { kind: "video" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues[0]).toMatchObject({ path: "file" });
    expect((error as ValidationError).message).toContain("image/png");
    await expect(
      checkMedia(Buffer.from("not an image"), { kind: "image", declaredType: "image/png" }),
    ).rejects.toBeInstanceOf(ValidationError);
  });

  it("holds a static sticker to 100 KB and an animated one to 500 KB", async () => {
    const error = await checkMedia(webp(STATIC_STICKER_MAX_BYTES + 1, false), { kind: "sticker" }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect((error as Error).message).toContain("100 KB");
    expect(await checkMedia(webp(STATIC_STICKER_MAX_BYTES + 1, true), { kind: "sticker" })).toMatchObject({
      kind: "sticker",
    });
    await expect(checkMedia(webp(mediaLimits.sticker.maxBytes + 1, true), { kind: "sticker" })).rejects.toThrow(
      "500 KB",
    );
  });
});
