import { MediaStore, OutboxWriter } from "@whatsdex/core";
import { mediaJobs } from "@whatsdex/core/jobs";
import { testBucket, testFirebase, waitFor } from "@whatsdex/core/testing";
import { downloadMediaOnPhone, LocalWhatsApp, type SimulatedPhone, sendMediaFromPhone } from "@whatsdex/local-whatsapp";
import { pino } from "pino";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allCommands } from "../src/commands/all-commands.ts";
import { CommandRegistry } from "../src/commands/command.ts";
import { mediaProcessors } from "../src/jobs/media-processor.ts";
import type { Supervisor } from "../src/runner/supervisor.ts";
import { baileysTransport } from "../src/transport/baileys/baileys-transport.ts";
import { trustLocalWhatsApp } from "../src/transport/baileys/local-whatsapp.ts";
import { tenantWithBots, testSupervisor } from "./support/fleet.ts";
import { testJobQueue } from "./support/jobs.ts";

/**
 * The whole runner path — supervisor, bot runtime, command engine, outbox — on the production
 * transport against the local WhatsApp server: a phone writes a command and reads the bot's
 * answer, both Signal-encrypted on the wire.
 */
let server: LocalWhatsApp;
const started: Supervisor[] = [];
const closers: Array<() => Promise<void>> = [];
const firebase = testFirebase();
const db = firebase.firestore;

beforeAll(async () => {
  server = await LocalWhatsApp.start({ logger: pino({ level: process.env.LOCAL_WHATSAPP_LOG ?? "silent" }) });
  trustLocalWhatsApp(
    {
      url: server.url,
      rootKey: server.rootPublicKey,
      media: { origin: server.media.origin, caPem: server.media.caPem },
    },
    "test",
  );
});
afterAll(async () => {
  for (const s of started) await s.stop();
  for (const close of closers) await close();
  await server.close();
  await firebase.close();
});

let nextNumber = 6281600000000;

/** A tenant's Baileys bot held by an in-process runner, linked by the owner's phone scanning its QR code. */
async function linkedBaileysBot() {
  const { tenantId, botIds } = await tenantWithBots(db, 1, "business", "baileys");
  const botId = botIds[0] ?? "";
  // The media worker (stickers): the real MediaProcessor on its BullMQ queue.
  const jobs = testJobQueue(
    db,
    mediaJobs,
    mediaProcessors({ media: new MediaStore(testBucket()), outbox: new OutboxWriter(db) }),
  );
  closers.push(() => jobs.close());
  const supervisor = testSupervisor(db, {
    baileys: baileysTransport(
      { waWebSocketUrl: server.url, connectTimeoutMs: 10_000 },
      { origins: [server.media.origin] },
    ),
    tenantIds: [tenantId],
    commands: new CommandRegistry(allCommands),
    queues: { media: jobs.queue },
    logger: pino({ level: process.env.BAILEYS_LOG ?? "silent" }),
  });
  started.push(supervisor);
  supervisor.start();
  const bot = db.doc(`tenants/${tenantId}/bots/${botId}`);
  const owner = await server.createPhone(String(nextNumber++), "Owner");
  const qr = await waitFor(
    "the bot's QR code",
    async () => (await bot.collection("linking").doc("current").get()).get("qr.code") as string | undefined,
  );
  await server.scanQr(owner, qr);
  await waitFor("the bot to be open", async () =>
    (await bot.get()).get("status.state") === "open" ? true : undefined,
  );
  return { tenantId, botId, owner, supervisor, bot };
}

/** The text of the bot's next message to `phone` after `since` entries. */
async function answer(phone: SimulatedPhone, since: number): Promise<string> {
  const entry = await phone.waitFor(() => phone.inbox.slice(since).find((e) => !e.recipient));
  return entry.message.extendedTextMessage?.text ?? entry.message.conversation ?? "";
}

describe("the runner on the real Baileys socket", () => {
  it("answers a command from a phone, end to end through Signal", async () => {
    const { owner } = await linkedBaileysBot();
    const alice = await server.createPhone(String(nextNumber++), "Alice");
    const since = alice.inbox.length;
    await alice.sendText(owner.account, ".ping");
    expect(await answer(alice, since)).toMatch(/pong/i);
    expect(alice.failures).toEqual([]);
  });

  it("makes a sticker of a phone's photo: Baileys' own media encryption both ways, through the local media host", async () => {
    const { owner } = await linkedBaileysBot();
    const alice = await server.createPhone(String(nextNumber++), "Alice");
    const photo = await sharp({ create: { width: 96, height: 64, channels: 3, background: "#3f51b5" } })
      .jpeg()
      .toBuffer();
    const since = alice.inbox.length;
    await sendMediaFromPhone(server.media, alice, owner.account, {
      image: photo,
      mimetype: "image/jpeg",
      caption: ".sticker",
    });
    const sticker = await alice.waitFor(
      () =>
        alice.inbox
          .slice(since)
          .find((e) => e.message.stickerMessage || /error|fail/i.test(e.message.extendedTextMessage?.text ?? "")),
      30_000,
    );
    expect(sticker.message.stickerMessage, sticker.message.extendedTextMessage?.text ?? "").toBeDefined();
    const { bytes } = await downloadMediaOnPhone(server.media, sticker.message);
    const meta = await sharp(bytes).metadata();
    expect(meta).toMatchObject({ format: "webp", width: 512, height: 512 });
  });
});
