import { randomBytes } from "node:crypto";
import { defaultBotSettings, MediaStore, OutboxWriter } from "@whatsdex/core";
import { mediaJobs } from "@whatsdex/core/jobs";
import { testBucket, testFirebase, waitFor } from "@whatsdex/core/testing";
import type { WAMessage } from "baileys";
import jsqr from "jsqr";
import sharp from "sharp";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { CommandRegistry } from "../src/commands/command.ts";
import { infoCommands } from "../src/commands/info/info-commands.ts";
import { meme } from "../src/commands/maker/meme.ts";
import { qr } from "../src/commands/maker/qr.ts";
import { sticker } from "../src/commands/maker/sticker.ts";
import { toimg } from "../src/commands/maker/toimg.ts";
import { mediaProcessors } from "../src/jobs/media-processor.ts";
import { makeSticker } from "../src/media/sticker.ts";
import { SimulatedWhatsApp } from "../src/transport/simulator/simulator.ts";
import { tenantWithBots, testSupervisor } from "./support/fleet.ts";
import { testJobQueue } from "./support/jobs.ts";

const firebase = testFirebase();
const db = firebase.firestore;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => firebase.close());

const commands = new CommandRegistry([...infoCommands, sticker, toimg, qr, meme]);
/** Each message from a user of its own: the maker commands have per-user cooldowns. */
let users = 0;
const nextUser = () => {
  users += 1;
  return `2000000001${String(users).padStart(2, "0")}@lid`;
};

/**
 * A linked bot whose maker commands go through the real MediaProcessor on BullMQ (or, with
 * `jobs: false`, a runner without job workers), and what it sent.
 */
async function makerBot(options: { jobs?: boolean; language?: "en" | "id" } = {}) {
  const { tenantId, botIds } = await tenantWithBots(db, 1);
  const botId = botIds[0] ?? "";
  if (options.language) {
    await db.doc(`tenants/${tenantId}/bots/${botId}`).update({
      settings: { ...defaultBotSettings, language: options.language },
    });
  }
  const jobs =
    options.jobs === false
      ? undefined
      : testJobQueue(
          db,
          mediaJobs,
          mediaProcessors({ media: new MediaStore(testBucket()), outbox: new OutboxWriter(db) }),
        );
  const whatsapp = new SimulatedWhatsApp();
  const supervisor = testSupervisor(db, {
    whatsapp,
    tenantIds: [tenantId],
    commands,
    queues: jobs ? { media: jobs.queue } : {},
  });
  supervisor.start();
  cleanups.push(async () => {
    await supervisor.stop();
    await jobs?.close();
  });
  (await waitFor("a QR code", async () => whatsapp.liveSockets.find((s) => s.state === "qr"))).link("6281234567890");
  const socket = await waitFor("an open socket", async () => whatsapp.liveSockets.find((s) => s.state === "open"));

  const texts = () =>
    socket.sent.map((s) => s.message.message?.extendedTextMessage?.text ?? s.message.message?.conversation);
  const images = () => socket.sent.filter((s) => s.message.message?.imageMessage);
  /** Waits for the bot's nth message (1-based) and returns its text. */
  const nthText = async (n: number) => {
    await waitFor(`message ${n}`, async () => (socket.sent.length >= n ? true : undefined));
    return texts()[n - 1];
  };
  /** Waits for the bot's nth image and returns where it went and its bytes. */
  const nthImage = async (n: number) => {
    const sent = await waitFor(`image ${n}`, async () => images()[n - 1]);
    return {
      jid: sent.jid,
      image: sent.message.message?.imageMessage,
      data: await socket.downloadMedia(sent.message, { maxBytes: 10_000_000 }),
    };
  };
  /** `text` from `from`, in reply to `quoted`. */
  const replyTo = (quoted: WAMessage, text: string, from: string, id: string) =>
    socket.deliver({
      key: { remoteJid: from, id, fromMe: false },
      message: {
        extendedTextMessage: {
          text,
          contextInfo: {
            stanzaId: quoted.key.id ?? null,
            participant: quoted.key.fromMe ? "567890628123456@lid" : from,
            quotedMessage: quoted.message ?? {},
          },
        },
      },
    });
  const say = (text: string, from: string, id: string) =>
    socket.deliver({ key: { remoteJid: from, id, fromMe: false }, message: { conversation: text } });
  const mediaLeft = async () => (await testBucket().getFiles({ prefix: `transit/${tenantId}/${botId}/` }))[0].length;
  return { socket, texts, images, nthText, nthImage, replyTo, say, mediaLeft };
}

const photo = (width = 900, height = 600) =>
  sharp({ create: { width, height, channels: 3, background: "#3366ff" } })
    .jpeg()
    .toBuffer();

/** The share of pixels in a band of rows that are clearly not the photo's blue. */
async function changedShare(data: Buffer, from: number, to: number) {
  const { data: raw, info } = await sharp(data).raw().toBuffer({ resolveWithObject: true });
  let changed = 0;
  let total = 0;
  for (let y = Math.floor(from * info.height); y < Math.floor(to * info.height); y += 1) {
    for (let x = 0; x < info.width; x += 1) {
      const i = (y * info.width + x) * info.channels;
      const distance =
        Math.abs((raw[i] ?? 0) - 0x33) + Math.abs((raw[i + 1] ?? 0) - 0x66) + Math.abs((raw[i + 2] ?? 0) - 0xff);
      total += 1;
      if (distance > 60) changed += 1;
    }
  }
  return changed / total;
}

async function readQr(png: Buffer) {
  const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return jsqr.default(new Uint8ClampedArray(data.buffer, data.byteOffset, data.length), info.width, info.height)?.data;
}

describe(".toimg", () => {
  it("sends a sticker replied to with .toimg back as a PNG, also one the bot made itself", async () => {
    const bot = await makerBot();
    // A user's sticker: a wide picture, so the sticker has transparent bands.
    const art = await sharp({ create: { width: 800, height: 400, channels: 4, background: "#e91e63" } })
      .png()
      .toBuffer();
    const user = nextUser();
    const sent = bot.socket.deliverSticker(
      { remoteJid: user, id: "STK-1", fromMe: false },
      (
        await makeSticker(art, {
          packId: "p",
          packName: "p",
          publisher: "",
          emojis: [],
        })
      ).data,
    );
    bot.replyTo(sent, ".toimg", user, "CMD-1");
    const first = await bot.nthImage(1);
    expect(first.jid).toBe(user);
    expect(first.image?.mimetype).toBe("image/png");
    const info = await sharp(first.data).metadata();
    expect([info.format, info.width, info.height, info.hasAlpha]).toEqual(["png", 512, 512, true]);
    const { data: raw } = await sharp(first.data).raw().toBuffer({ resolveWithObject: true });
    expect(raw[(5 * 512 + 256) * 4 + 3]).toBe(0); // still transparent above the picture
    expect(raw[(256 * 512 + 256) * 4 + 3]).toBe(255);

    // Another user has the bot make a sticker, then replies to the bot's own sticker with .toimage.
    const other = nextUser();
    bot.socket.deliverImage({ remoteJid: other, id: "IMG-2", fromMe: false }, await photo(), { caption: ".sticker" });
    const made = await waitFor("the bot's sticker", async () =>
      bot.socket.sent.find((s) => s.message.message?.stickerMessage),
    );
    bot.replyTo(made.message, ".toimage", other, "CMD-2");
    const second = await bot.nthImage(2);
    expect(second.jid).toBe(other);
    const back = await sharp(second.data).metadata();
    expect([back.format, back.width, back.height]).toEqual(["png", 512, 512]);
    // Nothing is left in transit.
    await waitFor("the media to be cleaned up", async () => ((await bot.mediaLeft()) === 0 ? true : undefined));
  });

  it("asks for a sticker, and says so when the sticker cannot be read", async () => {
    const bot = await makerBot();
    bot.say(".toimg", nextUser(), "T-1");
    expect(await bot.nthText(1)).toBe("Reply to a sticker with .toimg to get it back as an image.");

    // An image is not a sticker.
    const user = nextUser();
    const image = bot.socket.deliverImage({ remoteJid: user, id: "IMG-3", fromMe: false }, await photo());
    bot.replyTo(image, "!toimg", user, "T-2");
    expect(await bot.nthText(2)).toBe("Reply to a sticker with !toimg to get it back as an image.");

    // A "sticker" whose bytes are no image: the job answers instead of failing.
    const broken = nextUser();
    const junk = bot.socket.deliverSticker({ remoteJid: broken, id: "STK-4", fromMe: false }, randomBytes(2_000));
    bot.replyTo(junk, ".toimg", broken, "T-3");
    expect(await bot.nthText(3)).toBe("That file is not an image I can read.");
    expect(bot.images()).toHaveLength(0);
    await waitFor("the media to be cleaned up", async () => ((await bot.mediaLeft()) === 0 ? true : undefined));
  });
});

describe(".qr", () => {
  it("draws the text after .qr, or the text replied to, as a QR code that reads back the same", async () => {
    const bot = await makerBot();
    const link = "https://example.com/menu?table=7&lang=id";
    const user = nextUser();
    bot.say(`.qr ${link}`, user, "Q-1");
    const first = await bot.nthImage(1);
    expect(first.jid).toBe(user);
    expect(first.image?.mimetype).toBe("image/png");
    expect(await readQr(first.data)).toBe(link);

    const other = nextUser();
    const note = bot.say(`Halo <&> "dunia" 'kita' 😀`, other, "NOTE-2");
    bot.replyTo(note, ".qrcode", other, "Q-2");
    const second = await bot.nthImage(2);
    expect(await readQr(second.data)).toBe(`Halo <&> "dunia" 'kita' 😀`);
  });

  it("asks for text, refuses text over 500 characters, and says when image tools are off", async () => {
    const bot = await makerBot();
    bot.say(".qr", nextUser(), "Q-3");
    expect(await bot.nthText(1)).toBe(
      "What should the QR code say? .qr <text or link>, or reply to a message with .qr.",
    );
    bot.say(`.qr ${"😀".repeat(501)}`, nextUser(), "Q-4");
    expect(await bot.nthText(2)).toBe("A QR code holds at most 500 characters; this text has 501.");
    expect(bot.images()).toHaveLength(0);

    const noJobs = await makerBot({ jobs: false });
    noJobs.say(".qr hello", nextUser(), "Q-5");
    expect(await noJobs.nthText(1)).toBe("Image tools are not available on this bot right now.");
  });
});

describe(".meme", () => {
  it("writes the captions on an image captioned .meme, or one replied to, and leaves the middle alone", async () => {
    const bot = await makerBot();
    const user = nextUser();
    bot.socket.deliverImage({ remoteJid: user, id: "M-1", fromMe: false }, await photo(), {
      caption: `.meme <&>"' 😀 when it builds|first time`,
    });
    const first = await bot.nthImage(1);
    expect(first.jid).toBe(user);
    expect(first.image?.mimetype).toBe("image/jpeg");
    const info = await sharp(first.data).metadata();
    expect([info.format, info.width, info.height]).toEqual(["jpeg", 900, 600]);
    expect(await changedShare(first.data, 0, 0.25)).toBeGreaterThan(0.05);
    expect(await changedShare(first.data, 0.35, 0.65)).toBe(0);
    expect(await changedShare(first.data, 0.8, 1)).toBeGreaterThan(0.05);

    // Replying to an image, with a bottom caption only.
    const other = nextUser();
    const image = bot.socket.deliverImage({ remoteJid: other, id: "M-2", fromMe: false }, await photo(640, 480));
    bot.replyTo(image, ".meme |bottom only", other, "M-3");
    const second = await bot.nthImage(2);
    expect(second.jid).toBe(other);
    const size = await sharp(second.data).metadata();
    expect([size.width, size.height]).toEqual([640, 480]);
    expect(await changedShare(second.data, 0, 0.5)).toBe(0);
    expect(await changedShare(second.data, 0.8, 1)).toBeGreaterThan(0.05);
    await waitFor("the media to be cleaned up", async () => ((await bot.mediaLeft()) === 0 ? true : undefined));
  });

  it("asks for an image and for text, refuses long captions and stickers", async () => {
    const bot = await makerBot();
    bot.say(".meme top|bottom", nextUser(), "R-1");
    expect(await bot.nthText(1)).toBe(
      "Send an image with .meme top text|bottom text as its caption, or reply to an image with it.",
    );
    bot.socket.deliverImage({ remoteJid: nextUser(), id: "R-2", fromMe: false }, await photo(), { caption: ".meme |" });
    expect(await bot.nthText(2)).toBe(
      "What should the meme say? .meme top text|bottom text (either part may be empty).",
    );
    bot.socket.deliverImage({ remoteJid: nextUser(), id: "R-3", fromMe: false }, await photo(), {
      caption: `.meme ${"a".repeat(201)}|b`,
    });
    expect(await bot.nthText(3)).toBe("Meme text is at most 200 characters at the top and 200 at the bottom.");
    const user = nextUser();
    const art = await makeSticker(await photo(), { packId: "p", packName: "p", publisher: "", emojis: [] });
    const stk = bot.socket.deliverSticker({ remoteJid: user, id: "R-4", fromMe: false }, art.data);
    bot.replyTo(stk, ".meme top|bottom", user, "R-5");
    expect(await bot.nthText(4)).toBe(
      "Send an image with .meme top text|bottom text as its caption, or reply to an image with it.",
    );
    expect(bot.images()).toHaveLength(0);
    expect(await bot.mediaLeft()).toBe(0);
  });

  it("answers in the bot's language when the image cannot be read", async () => {
    const bot = await makerBot({ language: "id" });
    bot.socket.deliverImage({ remoteJid: nextUser(), id: "ID-1", fromMe: false }, randomBytes(3_000), {
      caption: ".meme atas|bawah",
    });
    expect(await bot.nthText(1)).toBe("File itu bukan gambar yang bisa saya baca.");
    bot.say(".meme atas|bawah", nextUser(), "ID-2");
    expect(await bot.nthText(2)).toBe(
      "Kirim gambar dengan keterangan .meme teks atas|teks bawah, atau balas sebuah gambar dengan perintah itu.",
    );
    expect(bot.images()).toHaveLength(0);
    await waitFor("the media to be cleaned up", async () => ((await bot.mediaLeft()) === 0 ? true : undefined));
  });
});
