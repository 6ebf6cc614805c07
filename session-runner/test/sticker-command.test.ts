import { randomBytes } from "node:crypto";
import { MediaStore, OutboxWriter } from "@whatsdex/core";
import { mediaJobs } from "@whatsdex/core/jobs";
import { testBucket, testFirebase, waitFor } from "@whatsdex/core/testing";
import sharp from "sharp";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { CommandRegistry } from "../src/commands/command.ts";
import { infoCommands } from "../src/commands/info/info-commands.ts";
import { sticker } from "../src/commands/maker/sticker.ts";
import { mediaProcessors } from "../src/jobs/media-processor.ts";
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

const USER = "200000000021@lid";

/** A linked bot whose `.sticker` goes through the real MediaProcessor on BullMQ, and its user. */
async function stickerBot() {
  const jobs = testJobQueue(
    db,
    mediaJobs,
    mediaProcessors({ media: new MediaStore(testBucket()), outbox: new OutboxWriter(db) }),
  );
  const queue = jobs.queue;

  const { tenantId, botIds } = await tenantWithBots(db, 1);
  const whatsapp = new SimulatedWhatsApp();
  const supervisor = testSupervisor(db, {
    whatsapp,
    tenantIds: [tenantId],
    commands: new CommandRegistry([...infoCommands, sticker]),
    queues: { media: queue },
  });
  supervisor.start();
  cleanups.push(async () => {
    await supervisor.stop();
    await jobs.close();
  });
  (await waitFor("a QR code", async () => whatsapp.liveSockets.find((s) => s.state === "qr"))).link("6281234567890");
  const socket = await waitFor("an open socket", async () => whatsapp.liveSockets.find((s) => s.state === "open"));
  const texts = () =>
    socket.sent.map((s) => s.message.message?.extendedTextMessage?.text ?? s.message.message?.conversation);
  const stickers = () => socket.sent.filter((s) => s.message.message?.stickerMessage);
  return { socket, whatsapp, texts, stickers, botId: botIds[0] ?? "", tenantId };
}

const photo = () =>
  sharp({ create: { width: 300, height: 200, channels: 3, background: "#e91e63" } })
    .jpeg()
    .toBuffer();

describe(".sticker", () => {
  it("turns an image captioned .sticker, or one replied to with .s, into a sticker in that chat", async () => {
    const bot = await stickerBot();
    bot.socket.deliverImage({ remoteJid: USER, id: "IMG-1", fromMe: false }, await photo(), { caption: ".sticker" });
    const [first] = await waitFor("the sticker", async () =>
      bot.stickers().length === 1 ? bot.stickers() : undefined,
    );
    expect(first?.jid).toBe(USER);
    expect(first?.message.message?.stickerMessage?.mimetype).toBe("image/webp");

    // Another user (the first is in .sticker's cooldown) replies to an image with ".s".
    const other = "200000000024@lid";
    const image = bot.socket.deliverImage({ remoteJid: other, id: "IMG-2", fromMe: false }, await photo());
    bot.socket.deliver({
      key: { remoteJid: other, id: "CMD-2", fromMe: false },
      message: {
        extendedTextMessage: {
          text: ".s",
          contextInfo: { stanzaId: "IMG-2", participant: other, quotedMessage: image.message ?? {} },
        },
      },
    });
    await waitFor("the second sticker", async () => (bot.stickers().length === 2 ? true : undefined));
    // Nothing is left in transit.
    await waitFor("the media to be cleaned up", async () =>
      (await testBucket().getFiles({ prefix: `transit/${bot.tenantId}/${bot.botId}/` }))[0].length === 0
        ? true
        : undefined,
    );
  });

  it("explains what it needs, and refuses videos and files that are not images", async () => {
    const bot = await stickerBot();
    bot.socket.deliver({ key: { remoteJid: USER, id: "T-1", fromMe: false }, message: { conversation: ".sticker" } });
    await waitFor("a reply", async () => (bot.texts().length === 1 ? true : undefined));
    expect(bot.texts()[0]).toBe("Send an image with .sticker as its caption, or reply to an image with .sticker.");

    bot.socket.deliver({
      key: { remoteJid: "200000000022@lid", id: "V-1", fromMe: false },
      message: { videoMessage: { caption: "!stiker", mimetype: "video/mp4", url: "https://mmg.whatsapp.net/v" } },
    });
    await waitFor("a reply", async () => (bot.texts().length === 2 ? true : undefined));
    expect(bot.texts()[1]).toBe("Stickers from videos are not supported yet; send an image or a GIF image file.");

    bot.socket.deliverImage({ remoteJid: "200000000023@lid", id: "BAD-1", fromMe: false }, randomBytes(3_000), {
      caption: ".s",
    });
    await waitFor("a reply", async () => (bot.texts().length === 3 ? true : undefined));
    expect(bot.texts()[2]).toBe("That file is not an image I can read.");
    expect(bot.stickers()).toHaveLength(0);
  });
});
