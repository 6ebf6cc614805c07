import { get } from "node:https";
import { downloadContentFromMessage, downloadMediaMessage, type WAMessage } from "baileys";
import { afterEach, describe, expect, it } from "vitest";
import { uploadHashOf } from "../src/media/media-paths.ts";
import { downloadMediaOnPhone, PhoneMediaError, sendMediaFromPhone } from "../src/media/phone-media.ts";
import type { SimulatedPhone } from "../src/phone/simulated-phone.ts";
import { LocalWhatsApp, type LocalWhatsAppOptions } from "../src/server/local-whatsapp.ts";
import { Companion } from "./support/companion.ts";
import { serverLogger } from "./support/logger.ts";
import { MediaBot } from "./support/media-bot.ts";
import { noise, samplePng, sampleWebp } from "./support/media-samples.ts";
import { type FetchDispatcher, trustingDispatcher } from "./support/trusting-dispatcher.ts";

let server: LocalWhatsApp | undefined;
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await server?.close();
  server = undefined;
});

async function startServer(options: LocalWhatsAppOptions = {}): Promise<LocalWhatsApp> {
  server = await LocalWhatsApp.start({ logger: serverLogger(), ...options });
  return server;
}

/** An undici dispatcher that trusts the media host's CA: what Baileys' downloads are handed. */
function trusting(local: LocalWhatsApp): FetchDispatcher {
  const { dispatcher, close } = trustingDispatcher(local.media.caPem);
  cleanups.push(close);
  return dispatcher;
}

/** A server with Alice's phone, an owner's phone and a bot linked to the owner, trusting the media host. */
async function world(options: LocalWhatsAppOptions = {}) {
  const local = await startServer(options);
  const owner = await local.createPhone("6281200000101", "Owner");
  const alice = await local.createPhone("6281300000102", "Alice");
  const bot = await MediaBot.link(local, owner);
  cleanups.push(() => bot.end());
  return { local, owner, alice, bot, dispatcher: trusting(local) };
}

/** AES-CBC pads to the next whole block (always at least one byte), then WhatsApp's 10-byte MAC. */
const encryptedSize = (plainBytes: number) => (Math.floor(plainBytes / 16) + 1) * 16 + 10;

/** An error's `code` (Node's TLS failures carry one), else its text. */
function codeOf(error: unknown): string {
  return typeof error === "object" && error !== null && "code" in error ? String(error.code) : String(error);
}

async function received(bot: MediaBot, id: string): Promise<WAMessage> {
  const upsert = await bot.next("messages.upsert", (u) => u.messages.some((m) => m.key.id === id));
  const message = upsert.messages.find((m) => m.key.id === id);
  if (!message) throw new Error(`message ${id} not in its upsert`);
  return message;
}

/** A chat the bot can answer in: Alice wrote first, as a bot's users do. */
async function chatWithAlice(bot: MediaBot, alice: SimulatedPhone, owner: SimulatedPhone): Promise<string> {
  const hello = await received(bot, await alice.sendText(owner.account, "hi bot"));
  return hello.key.remoteJid ?? "";
}

describe("media through the local media host", () => {
  it("a phone's image reaches a bot, which downloads it with Baileys through the local CA, byte for byte", async () => {
    const { local, owner, alice, bot, dispatcher } = await world();
    const png = samplePng(64, 48, "alice's photo");

    const sent = await sendMediaFromPhone(local.media, alice, owner.account, {
      image: png,
      mimetype: "image/png",
      caption: "look",
    });
    const message = await received(bot, sent.id);
    const image = message.message?.imageMessage;
    expect(image?.caption).toBe("look");
    expect(image?.mimetype).toBe("image/png");
    expect(image?.url?.startsWith(`${local.media.origin}/`)).toBe(true);
    expect(image?.directPath?.startsWith("/")).toBe(true);
    expect(Number(image?.fileLength)).toBe(png.length);
    // Baileys made a thumbnail from it: the file is a real image.
    expect(image?.jpegThumbnail?.length).toBeGreaterThan(0);

    const bytes = await downloadMediaMessage(message, "buffer", { options: { dispatcher } });
    expect(Buffer.compare(bytes, png)).toBe(0);

    // Part of a file: Baileys asks for a byte range (and the AES block before it, as its IV).
    const part = await downloadContentFromMessage(image ?? {}, "image", {
      startByte: 40,
      endByte: 120,
      options: { dispatcher },
    });
    const chunks: Buffer[] = [];
    for await (const chunk of part) chunks.push(chunk);
    expect(Buffer.compare(Buffer.concat(chunks), png.subarray(40, 120))).toBe(0);
  });

  it("a phone's document, video and sticker download as sent", async () => {
    const { local, owner, alice, bot, dispatcher } = await world();
    const files = [
      { document: noise("contract", 5_000), mimetype: "application/pdf", fileName: "contract.pdf" },
      { video: noise("clip", 20_000), mimetype: "video/mp4", jpegThumbnail: "" },
      { sticker: sampleWebp(3_000, "alice's sticker"), mimetype: "image/webp" },
    ] as const;
    for (const content of files) {
      const sent = await sendMediaFromPhone(local.media, alice, owner.account, content);
      const message = await received(bot, sent.id);
      const bytes = await downloadMediaMessage(message, "buffer", { options: { dispatcher } });
      const original = "document" in content ? content.document : "video" in content ? content.video : content.sticker;
      expect(Buffer.compare(bytes, original)).toBe(0);
    }
    expect(local.media.store.heldBytes).toBeGreaterThan(28_000);
  });

  it("a bot's image and sticker, uploaded by Baileys through media_conn, decrypt on the phone exactly", async () => {
    const { local, owner, alice, bot } = await world();
    const chat = await chatWithAlice(bot, alice, owner);
    const png = samplePng(40, 40, "the bot's picture");
    const webp = sampleWebp(4_000, "the bot's sticker");

    const image = await bot.socket.sendMessage(chat, { image: png, mimetype: "image/png", caption: "for you" });
    const sticker = await bot.socket.sendMessage(chat, { sticker: webp });
    expect(image?.message?.imageMessage?.url?.startsWith(`${local.media.origin}/`)).toBe(true);

    const gotImage = await alice.waitFor(() => alice.inbox.find((entry) => entry.id === image?.key.id));
    const gotSticker = await alice.waitFor(() => alice.inbox.find((entry) => entry.id === sticker?.key.id));
    const imageFile = await downloadMediaOnPhone(local.media, gotImage.message);
    expect(imageFile.type).toBe("image");
    expect(imageFile.mimetype).toBe("image/png");
    expect(Buffer.compare(imageFile.bytes, png)).toBe(0);
    expect(gotImage.message.imageMessage?.caption).toBe("for you");
    const stickerFile = await downloadMediaOnPhone(local.media, gotSticker.message);
    expect(stickerFile.type).toBe("sticker");
    expect(stickerFile.mimetype).toBe("image/webp");
    expect(Buffer.compare(stickerFile.bytes, webp)).toBe(0);
    expect(alice.failures).toEqual([]);

    // The phone trusts nothing it cannot verify: another key, or another file's hash, is refused.
    const sticky = gotSticker.message.stickerMessage ?? {};
    const otherKey = { stickerMessage: { ...sticky, mediaKey: noise("not the key", 32) } };
    await expect(downloadMediaOnPhone(local.media, otherKey)).rejects.toMatchObject({ code: "mac_mismatch" });
    const otherHash = { stickerMessage: { ...sticky, fileEncSha256: noise("not the hash", 32) } };
    await expect(downloadMediaOnPhone(local.media, otherHash)).rejects.toBeInstanceOf(PhoneMediaError);
  });

  it("uploads need a live media_conn token: none, a forged one or an unlinked device's is refused with 401", async () => {
    const { local, owner, bot, dispatcher } = await world();
    const body = noise("an encrypted file", 1_000);
    const hash = uploadHashOf(body);
    const upload = (auth: string | undefined) =>
      fetch(`${local.media.origin}/mms/image/${hash}?${auth === undefined ? "" : `auth=${auth}&`}token=${hash}`, {
        method: "POST",
        body,
        headers: { "content-type": "application/octet-stream" },
        dispatcher,
      });

    const none = await upload(undefined);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: { code: "unauthorized" } });
    expect((await upload("forged-token")).status).toBe(401);

    const companion = owner.account.devices.get(1);
    if (!companion) throw new Error("the bot should be device 1");
    const { auth } = local.media.grant(owner.account, companion);
    const accepted = await upload(auth);
    expect(accepted.status).toBe(200);
    const { url, direct_path } = (await accepted.json()) as { url: string; direct_path: string };
    expect(url).toBe(`${local.media.origin}${direct_path}&mms3=true`);

    // A body that is not the file its path names.
    const wrong = await fetch(`${local.media.origin}/mms/image/${uploadHashOf(noise("other", 10))}?auth=${auth}`, {
      method: "POST",
      body,
      dispatcher,
    });
    expect(wrong.status).toBe(400);

    // Unlinked, the bot's token dies with its device.
    local.logOut(owner.account.deviceJid(1, "s.whatsapp.net"));
    await bot.next("connection.update", (u) => u.connection === "close");
    expect((await upload(auth)).status).toBe(401);
  });

  it("downloads: by direct path and full URL, byte ranges, 404 for an unknown path", async () => {
    const { local, owner, alice, bot, dispatcher } = await world();
    const png = samplePng(30, 30, "ranged");
    const sent = await sendMediaFromPhone(local.media, alice, owner.account, { image: png });
    const image = (await received(bot, sent.id)).message?.imageMessage;
    const directPath = image?.directPath ?? "";
    const size = encryptedSize(png.length);

    const byPath = await fetch(`${local.media.origin}${directPath}`, { dispatcher });
    const byUrl = await fetch(image?.url ?? "", { dispatcher });
    expect(byPath.status).toBe(200);
    const file = Buffer.from(await byPath.arrayBuffer());
    expect(file.length).toBe(size);
    expect(Buffer.compare(Buffer.from(await byUrl.arrayBuffer()), file)).toBe(0);

    const ranged = await fetch(`${local.media.origin}${directPath}`, { dispatcher, headers: { range: "bytes=16-47" } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get("content-range")).toBe(`bytes 16-47/${size}`);
    expect(Buffer.compare(Buffer.from(await ranged.arrayBuffer()), file.subarray(16, 48))).toBe(0);
    const tail = await fetch(`${local.media.origin}${directPath}`, { dispatcher, headers: { range: "bytes=-10" } });
    expect(Buffer.compare(Buffer.from(await tail.arrayBuffer()), file.subarray(size - 10))).toBe(0);
    const past = await fetch(`${local.media.origin}${directPath}`, {
      dispatcher,
      headers: { range: `bytes=${size}-` },
    });
    expect(past.status).toBe(416);
    expect(past.headers.get("content-range")).toBe(`bytes */${size}`);
    await past.body?.cancel();

    const unknown = await fetch(`${local.media.origin}/o1/v/t62.7118-24/f2/m232/never-uploaded?ccb=9-4`, {
      dispatcher,
    });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: "not_found" } });
  });

  it("the store is bounded: an upload past its bytes is refused with 507 and says how to raise the limit", async () => {
    const { local, owner, alice } = await world({ media: { storeBytes: 4_096 } });
    const first = await sendMediaFromPhone(local.media, alice, owner.account, {
      document: noise("fits", 2_000),
      mimetype: "application/octet-stream",
    });
    expect(first.message.documentMessage?.directPath).toBeTruthy();
    await expect(
      sendMediaFromPhone(local.media, alice, owner.account, {
        document: noise("does not fit", 3_000),
        mimetype: "application/octet-stream",
      }),
    ).rejects.toThrow(/Media upload failed on all hosts/);

    const device = alice.account.devices.get(0);
    if (!device) throw new Error("Alice's phone is registered");
    const body = noise("raw", 3_000);
    const hash = uploadHashOf(body);
    const refused = await fetch(
      `${local.media.origin}/mms/document/${hash}?auth=${local.media.grant(alice.account, device).auth}`,
      {
        method: "POST",
        body,
        dispatcher: trusting(local),
      },
    );
    expect(refused.status).toBe(507);
    expect(await refused.json()).toMatchObject({
      error: { code: "store_full", message: expect.stringMatching(/storeBytes/) },
    });
  });

  it("the media host's CA is trusted only where it is configured", async () => {
    const { local, owner, alice, bot } = await world();
    const png = samplePng(16, 16, "untrusted");
    const sent = await sendMediaFromPhone(local.media, alice, owner.account, { image: png });
    const message = await received(bot, sent.id);
    const url = `${local.media.origin}${message.message?.imageMessage?.directPath ?? ""}`;

    // Neither the global fetch, nor node:https, nor Baileys without a dispatcher accepts it.
    const plain = await fetch(url).then(
      () => "accepted",
      (error: unknown) => codeOf(error instanceof Error ? error.cause : error),
    );
    expect(plain).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT/);
    const viaHttps = await new Promise<string>((resolve) => {
      get(url, (response) => {
        response.resume();
        resolve("accepted");
      }).on("error", (error) => resolve(codeOf(error)));
    });
    expect(viaHttps).toBe(plain);
    await expect(downloadMediaMessage(message, "buffer", {})).rejects.toThrow();

    // A bot whose socket has no fetchAgent cannot upload: Baileys reports every host failed.
    const other = await local.createPhone("6281200000103", "Other owner");
    const untrusting = new Companion(local);
    cleanups.push(() => untrusting.end());
    untrusting.connect();
    const { qr } = await untrusting.next("connection.update", (u) => typeof u.qr === "string");
    await local.scanQr(other, qr ?? "");
    await untrusting.next("connection.update", (u) => u.connection === "close");
    const mark = untrusting.events.length;
    const socket = untrusting.connect();
    await untrusting.next("connection.update", (u) => u.connection === "open", { since: mark });
    await expect(socket.sendMessage(alice.account.pnJid, { image: png })).rejects.toThrow(/Media upload failed/);
    // Only the phone's upload is held: the untrusting bot's never arrived.
    expect(local.media.store.heldBytes).toBe(encryptedSize(png.length));
  });
});
