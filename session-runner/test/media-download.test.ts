import { readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mediaJobs } from "@whatsdex/core/jobs";
import { testFirebase } from "@whatsdex/core/testing";
import { encryptedStream, type proto, type WAMessage } from "baileys";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CommandRegistry } from "../src/commands/command.ts";
import { sticker } from "../src/commands/maker/sticker.ts";
import { downloadWhatsAppMedia, MediaDownloadError } from "../src/transport/baileys/media-download.ts";
import { testJobQueue } from "./support/jobs.ts";
import { offlineEngine } from "./support/offline-engine.ts";

const firebase = testFirebase();
const CAP = 1_000_000;
/** The test's own bound on the endless stream (a test never sends without limit). */
const ENDLESS_LIMIT = 256 * 1024 * 1024;

interface Hosts {
  media: { origin: string; requests: string[]; endless: { written: number; closed: boolean } };
  internal: { origin: string; requests: string[] };
  close(): Promise<void>;
}

/** WhatsApp's media host as a local server (the allowed origin), and an "internal" service nothing may reach. */
async function startHosts(files: Record<string, Buffer>): Promise<Hosts> {
  const endless = { written: 0, closed: false };
  const mediaRequests: string[] = [];
  const internalRequests: string[] = [];
  const internal = createServer((req, res) => {
    internalRequests.push(req.url ?? "");
    res.end("secret");
  });
  const media = createServer((req, res) => {
    const path = req.url ?? "";
    mediaRequests.push(path);
    if (path === "/v/endless") {
      const chunk = Buffer.alloc(64 * 1024, 7);
      const pump = () => {
        while (endless.written < ENDLESS_LIMIT && !res.destroyed) {
          endless.written += chunk.length;
          if (!res.write(chunk)) return void res.once("drain", pump);
        }
        res.end();
      };
      res.on("close", () => {
        endless.closed = true;
      });
      pump();
      return;
    }
    if (path === "/v/redirect") {
      res.writeHead(302, { location: `${originOf(internal)}/after-redirect` }).end();
      return;
    }
    const file = files[path];
    if (!file) return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": "application/octet-stream" }).end(file);
  });
  await Promise.all([listen(media), listen(internal)]);
  return {
    media: { origin: originOf(media), requests: mediaRequests, endless },
    internal: { origin: originOf(internal), requests: internalRequests },
    close: async () => {
      media.closeAllConnections();
      await Promise.all([close(media), close(internal)]);
    },
  };
}

const listen = (server: Server) => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));
const originOf = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

/** A JPEG encrypted exactly as a WhatsApp client uploads it (Baileys' own encryption). */
async function encryptedImage() {
  const jpeg = await sharp({ create: { width: 64, height: 64, channels: 3, background: "#3a7" } })
    .jpeg()
    .toBuffer();
  const encrypted = await encryptedStream(jpeg, "image");
  const file = await readFile(encrypted.encFilePath);
  await rm(encrypted.encFilePath, { force: true });
  return { jpeg, file, mediaKey: encrypted.mediaKey, fileLength: encrypted.fileLength };
}

let hosts: Hosts;
let image: Awaited<ReturnType<typeof encryptedImage>>;
beforeAll(async () => {
  image = await encryptedImage();
  const tampered = Buffer.from(image.file);
  tampered[20] = (tampered[20] ?? 0) ^ 1;
  hosts = await startHosts({ "/v/good.enc": image.file, "/v/tampered.enc": tampered });
});
afterAll(async () => {
  await hosts.close();
  await firebase.close();
});

function imageMessage(fields: proto.Message.IImageMessage, caption?: string): WAMessage {
  return {
    key: { remoteJid: "200000000009@lid", id: `M${Math.random()}`, fromMe: false },
    message: {
      imageMessage: {
        mimetype: "image/jpeg",
        mediaKey: image.mediaKey,
        fileLength: image.fileLength,
        ...(caption ? { caption } : {}),
        ...fields,
      },
    },
  };
}

const download = (message: WAMessage, extra: { reupload?: (m: WAMessage) => Promise<WAMessage> } = {}) =>
  downloadWhatsAppMedia(message, { maxBytes: CAP, timeoutMs: 5_000, origins: [hosts.media.origin], ...extra });

async function failure(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof MediaDownloadError)) throw new Error(`expected a MediaDownloadError, got ${String(error)}`);
  return error.code;
}

describe("media download", () => {
  it("fetches the file at directPath on the media host, checks its MAC and decrypts it, ignoring the sender's url", async () => {
    const before = hosts.internal.requests.length;
    const data = await download(imageMessage({ directPath: "/v/good.enc", url: `${hosts.internal.origin}/steal` }));
    expect(data.equals(image.jpeg)).toBe(true);
    expect(hosts.internal.requests.length).toBe(before);
  });

  it("refuses a message that names only a url, or a directPath leading to another host, without any request", async () => {
    const seen = { media: hosts.media.requests.length, internal: hosts.internal.requests.length };
    const internalHost = new URL(hosts.internal.origin).host;
    for (const fields of [
      { url: `${hosts.internal.origin}/metadata` },
      { directPath: `//${internalHost}/x` },
      { directPath: `@${internalHost}/x` },
      { directPath: `\\\\${internalHost}/x` },
      { directPath: "https://example.com/x" },
    ]) {
      expect(await failure(download(imageMessage(fields)))).toBe("unavailable");
    }
    expect(hosts.media.requests.length).toBe(seen.media);
    expect(hosts.internal.requests.length).toBe(seen.internal);
  });

  it("does not follow a redirect off the media host", async () => {
    const before = hosts.internal.requests.length;
    expect(await failure(download(imageMessage({ directPath: "/v/redirect" })))).toBe("unavailable");
    expect(hosts.internal.requests.length).toBe(before);
  });

  it("stops reading an endless file at the cap, and refuses one that declares more without asking", async () => {
    const heapBefore = process.memoryUsage().heapUsed;
    expect(await failure(download(imageMessage({ directPath: "/v/endless", fileLength: 1_000 })))).toBe("too_large");
    // The connection was dropped: what the server managed to write is the cap plus socket buffers,
    // nowhere near the 256 MiB it would have sent, and the heap did not take it in.
    await expect.poll(() => hosts.media.endless.closed).toBe(true);
    expect(hosts.media.endless.written).toBeLessThan(CAP + 32 * 1024 * 1024);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);

    const requests = hosts.media.requests.length;
    expect(await failure(download(imageMessage({ directPath: "/v/good.enc", fileLength: CAP + 1 })))).toBe("too_large");
    expect(hosts.media.requests.length).toBe(requests);
  });

  it("refuses a file whose MAC does not match, and asks the phone once for a file that is gone", async () => {
    expect(await failure(download(imageMessage({ directPath: "/v/tampered.enc" })))).toBe("unavailable");
    const reuploads: string[] = [];
    const data = await download(imageMessage({ directPath: "/v/expired.enc" }), {
      reupload: async (message) => {
        reuploads.push(message.message?.imageMessage?.directPath ?? "");
        return imageMessage({ directPath: "/v/good.enc" });
      },
    });
    expect(data.equals(image.jpeg)).toBe(true);
    expect(reuploads).toEqual(["/v/expired.enc"]);
  });
});

describe(".sticker on a forged media message", () => {
  it("answers too large or unavailable in the bot's language, and reaches no other host", async () => {
    const jobs = testJobQueue(firebase.firestore, mediaJobs, {
      "media.sticker": async () => undefined,
      "media.toimage": async () => undefined,
      "media.qr": async () => undefined,
      "media.meme": async () => undefined,
    });
    const { engine, texts } = offlineEngine(firebase.firestore, new CommandRegistry([sticker]), {
      services: {
        queues: { media: jobs.queue },
        download: (message, limits) =>
          downloadWhatsAppMedia(message, { ...limits, timeoutMs: 5_000, origins: [hosts.media.origin] }),
      },
    });
    try {
      const before = hosts.internal.requests.length;
      const endless = imageMessage({ directPath: "/v/endless", url: `${hosts.internal.origin}/x` }, ".sticker");
      expect(await engine.handle({ ...endless, key: { ...endless.key, remoteJid: "200000000001@lid" } })).toBe("ok");
      const forged = imageMessage({ url: `${hosts.internal.origin}/x` }, ".sticker");
      expect(await engine.handle({ ...forged, key: { ...forged.key, remoteJid: "200000000002@lid" } })).toBe("ok");
      expect(texts()).toEqual([
        "That file is too large to work with (at most 16 MB).",
        "I could not download that file. Please send it again.",
      ]);
      expect(hosts.internal.requests.length).toBe(before);
    } finally {
      await jobs.close();
    }
  });
});
