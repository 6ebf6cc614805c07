import { MediaStore, OutboxWriter } from "@whatsdex/core";
import { mediaJobs } from "@whatsdex/core/jobs";
import { testBucket, testFirebase, waitFor } from "@whatsdex/core/testing";
import { LocalWhatsApp, startPhoneApi } from "@whatsdex/local-whatsapp";
import {
  allCommands,
  baileysTransport,
  CommandRegistry,
  mediaProcessors,
  SimulatedWhatsApp,
  startSimulatorPhones,
  tenantWithBots,
  testJobQueue,
  testSupervisor,
  trustLocalWhatsApp,
} from "@whatsdex/session-runner/testing";
import pino from "pino";
import sharp from "sharp";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { PhoneApiError, PhoneClient, type PhoneEvent } from "../src/phone-client.ts";

const firebase = testFirebase();
const db = firebase.firestore;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => firebase.close());

const BOT_NUMBER = "6281200000001";
const USER = "6281355500001";
const logger = pino({ level: "silent" });

/**
 * The two servers of the phone API, each with a real runner holding one unlinked bot: the
 * in-process simulator's phones (simulator bots), and the local WhatsApp server (Baileys bots on
 * the production socket, over the wire). The same client and the same tests drive both.
 */
const worlds = [
  {
    name: "the simulator's phones",
    async start() {
      const whatsapp = new SimulatedWhatsApp();
      const phones = await startSimulatorPhones(whatsapp, { host: "127.0.0.1", port: 0, logger });
      return {
        transport: "simulator" as const,
        transports: { whatsapp },
        url: phones.url,
        close: () => phones.close(),
      };
    },
  },
  {
    name: "the local WhatsApp server",
    async start() {
      const server = await LocalWhatsApp.start({ logger });
      const media = { origin: server.media.origin, caPem: server.media.caPem };
      trustLocalWhatsApp({ url: server.url, rootKey: server.rootPublicKey, media }, "test");
      const phones = await startPhoneApi(server, { host: "127.0.0.1", port: 0, logger });
      const baileys = baileysTransport({ waWebSocketUrl: server.url }, { origins: [media.origin] });
      return {
        transport: "baileys" as const,
        transports: { baileys },
        url: phones.url,
        close: async () => {
          await phones.close();
          await server.close();
        },
      };
    },
  },
];

/** A bot held by a real supervisor, unlinked, with every command and the real MediaProcessor; its phones' API. */
async function botAndPhones(world: (typeof worlds)[number]) {
  const jobs = testJobQueue(
    db,
    mediaJobs,
    mediaProcessors({ media: new MediaStore(testBucket()), outbox: new OutboxWriter(db) }),
  );
  const phones = await world.start();
  const { tenantId, botIds } = await tenantWithBots(db, 1, "business", phones.transport);
  const supervisor = testSupervisor(db, {
    ...phones.transports,
    tenantIds: [tenantId],
    commands: new CommandRegistry(allCommands),
    queues: { media: jobs.queue },
  });
  supervisor.start();
  cleanups.push(async () => {
    await supervisor.stop();
    await phones.close();
    await jobs.close();
  });
  const client = new PhoneClient(phones.url);
  const events: PhoneEvent[] = [];
  const stop = await client.events((event) => events.push(event));
  cleanups.push(async () => stop());
  const linking = db.doc(`tenants/${tenantId}/bots/${botIds[0] ?? ""}/linking/current`);
  return { client, events, linking };
}

/** The phone scans the QR code the dashboard shows (the bot's linking document). */
async function linked(world: (typeof worlds)[number]) {
  const phones = await botAndPhones(world);
  const qr = await waitFor(
    "the bot's QR code",
    async () => (await phones.linking.get()).get("qr.code") as string | undefined,
  );
  await phones.client.link(qr, `+62 812-0000-0001`);
  await waitFor("the bot to be connected", async () =>
    (await phones.client.bots()).some((b) => b.state === "open" && b.number === BOT_NUMBER) ? true : undefined,
  );
  return phones;
}

const next = (events: PhoneEvent[], after: number) => waitFor(`bot message ${after + 1}`, async () => events[after]);

describe.each(worlds)("the phone API: $name", (world) => {
  it("links a bot by its QR code and carries a conversation both ways", async () => {
    const { client, events } = await linked(world);
    await client.send({ to: BOT_NUMBER, from: { number: USER, name: "Rina" }, text: ".ping" });
    const pong = await next(events, 0);
    expect(pong).toMatchObject({ bot: BOT_NUMBER, number: USER, kind: "text" });
    expect(pong.text).toMatch(/pong/i);
    expect(pong.chat).toMatch(/@lid$/);
  });

  it("turns an image into a sticker the phone can download", async () => {
    const { client, events } = await linked(world);
    const photo = await sharp({ create: { width: 64, height: 48, channels: 3, background: "#3f51b5" } })
      .jpeg()
      .toBuffer();
    await client.send({
      to: BOT_NUMBER,
      from: { number: USER },
      text: ".sticker",
      image: { data: photo.toString("base64"), mimetype: "image/jpeg" },
    });
    const stickerEvent = await waitFor("the sticker", async () => events.find((e) => e.kind === "sticker"));
    const webp = await client.media(stickerEvent.mediaUrl ?? "");
    expect((await sharp(webp).metadata()).format).toBe("webp");
  });

  it("simulates a group with admins, and replies quoting the bot's message", async () => {
    const { client, events } = await linked(world);
    const { jid } = await client.createGroup("Demo group", [
      { number: BOT_NUMBER, admin: "admin" },
      { number: USER, admin: "superadmin" },
      { number: "6281355500002" },
    ]);
    await client.send({ to: BOT_NUMBER, from: { number: USER }, group: jid, text: ".tagall hello" });
    const tagged = await next(events, 0);
    expect(tagged.chat).toBe(jid);
    expect(tagged.mentions).toEqual(expect.arrayContaining([USER, "6281355500002"]));

    // An ordinary member is refused the admin command.
    await client.send({ to: BOT_NUMBER, from: { number: "6281355500002" }, group: jid, text: ".kick @6281355500001" });
    expect((await next(events, 1)).text).toMatch(/admin/i);

    await client.send({ to: BOT_NUMBER, from: { number: USER }, text: ".qr hello" });
    const qr = await waitFor("the QR image", async () => events.find((e) => e.kind === "image"));
    await client.send({ to: BOT_NUMBER, from: { number: USER }, text: ".ping", quotedId: qr.id });
    expect((await waitFor("the pong", async () => events.find((e) => /pong/i.test(e.text ?? ""))))?.kind).toBe("text");
  });

  it("refuses what a phone could not do, naming what is wrong", async () => {
    const { client } = await botAndPhones(world);
    const refusal = (promise: Promise<unknown>) =>
      promise.then(
        () => expect.unreachable("the call succeeded"),
        (error: unknown) => {
          if (!(error instanceof PhoneApiError)) throw error;
          return { status: error.status, code: error.code, message: error.message };
        },
      );
    expect(await refusal(client.send({ to: BOT_NUMBER, from: { number: USER }, text: "hi" }))).toMatchObject({
      status: 404,
      code: "bot_not_connected",
    });
    expect(await refusal(client.send({ to: "12", from: { number: USER } }))).toMatchObject({
      status: 400,
      code: "invalid_request",
      message: expect.stringMatching(/^to: must be a phone number/),
    });
    expect(await refusal(client.send({ to: BOT_NUMBER, from: { number: USER } }))).toMatchObject({
      status: 400,
      message: expect.stringMatching(/needs text, an image .* or a sticker/),
    });
    expect(await refusal(client.link("2@not-a-shown-code", USER))).toMatchObject({ status: 404, code: "qr_not_found" });
  });
});
