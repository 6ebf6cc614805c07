import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  fetchMediaFromUrl,
  mediaLimits,
  OutboundHttp,
  OutboundRequestError,
  PayloadTooLargeError,
  ValidationError,
} from "../src/index.ts";

const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
  "base64",
);
const requests: string[] = [];
let server: Server;
let base: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? "");
    if (req.url === "/dot.png") return res.writeHead(200, { "content-type": "image/png" }).end(PNG);
    if (req.url === "/huge.webp") {
      const body = Buffer.alloc(mediaLimits.sticker.maxBytes * 3);
      body.write("RIFF", 0, "latin1");
      body.write("WEBPVP8X", 8, "latin1");
      return res.writeHead(200, { "content-type": "image/webp" }).end(body);
    }
    if (req.url === "/moved") return res.writeHead(302, { location: "http://169.254.169.254/" }).end();
    if (req.url === "/notes.txt") return res.writeHead(200, { "content-type": "text/plain" }).end("meeting at 10");
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** A developer's laptop: private targets and plain http allowed (never in production). */
const local = { guard: new OutboundHttp({ allowPrivate: true }), allowHttp: true };

describe("fetchMediaFromUrl", () => {
  it("fetches once and types the media from its bytes", async () => {
    const before = requests.length;
    const media = await fetchMediaFromUrl(`${base}/dot.png`, "image", local);
    expect(media).toMatchObject({ kind: "image", mimetype: "image/png", bytes: PNG.length, fileName: "dot.png" });
    expect(media.data.equals(PNG)).toBe(true);
    expect(requests.length - before).toBe(1);
    const notes = await fetchMediaFromUrl(`${base}/notes.txt`, "document", local);
    expect(notes).toMatchObject({ kind: "document", mimetype: "text/plain", fileName: "notes.txt" });
  });

  it("stops reading at the kind's limit and names it", async () => {
    const error = await fetchMediaFromUrl(`${base}/huge.webp`, "sticker", local).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect((error as Error).message).toContain("500 KB");
  });

  it("refuses a type the kind does not take, a redirect, an error status and plain http", async () => {
    await expect(fetchMediaFromUrl(`${base}/dot.png`, "video", local)).rejects.toThrow(/image\/png/);
    await expect(fetchMediaFromUrl(`${base}/moved`, "image", local)).rejects.toThrow(/302/);
    await expect(fetchMediaFromUrl(`${base}/missing`, "image", local)).rejects.toThrow(/404/);
    const insecure = await fetchMediaFromUrl(`${base}/dot.png`, "image", { guard: local.guard }).catch(
      (e: unknown) => e,
    );
    expect(insecure).toBeInstanceOf(ValidationError);
    expect((insecure as Error).message).toContain("https");
    await expect(fetchMediaFromUrl("ftp://example.com/a.png", "image", local)).rejects.toBeInstanceOf(ValidationError);
  });

  it("never reaches loopback, private or metadata addresses through the production guard", async () => {
    const guard = new OutboundHttp();
    const before = requests.length;
    for (const url of [
      `https://127.0.0.1:${new URL(base).port}/dot.png`,
      "https://169.254.169.254/computeMetadata/v1/",
      "https://10.0.0.8/a.png",
      "https://[::1]/a.png",
    ]) {
      const error = await fetchMediaFromUrl(url, "image", { guard }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OutboundRequestError);
      expect((error as OutboundRequestError).code).toBe("blocked_address");
    }
    expect(requests.length).toBe(before);
  });
});
