import {
  eventDataSchemas,
  MediaStore,
  messageStatusOf,
  type OutboxContent,
  outboxItemPath,
  outboxItemSchema,
  pendingSendItem,
  type SendItem,
  zodConverter,
} from "@whatsdex/core";
import { testBucket, testFirebase, uniqueId, waitFor } from "@whatsdex/core/testing";
import { proto, type WAMessage } from "baileys";
import { Timestamp } from "firebase-admin/firestore";
import { pino } from "pino";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type SentMessage, type SimulatedSocket, SimulatedWhatsApp } from "../src/transport/simulator/simulator.ts";
import { startSimulatorPhones } from "../src/transport/simulator/simulator-phones.ts";
import { EventRecorder } from "./support/event-recorder.ts";
import { tenantWithBots, testSupervisor } from "./support/fleet.ts";

const firebase = testFirebase();
const db = firebase.firestore;
const media = new MediaStore(testBucket());
const converter = zodConverter(outboxItemSchema);
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => firebase.close());

const ALICE = { lid: "111222333444555@lid", pn: "6281111111111@s.whatsapp.net" };
const BOB = { lid: "666777888999000@lid", pn: "6282222222222@s.whatsapp.net" };
const GROUP = "120363000000000001@g.us";
const VCARD =
  "BEGIN:VCARD\nVERSION:3.0\nFN:Budi Santoso\nTEL;type=CELL;waid=6281234500000:+62 812 3450 0000\nEND:VCARD";

/** A linked bot held by a real supervisor; every message it sends arrives at the simulated phones, decoded from the wire. */
async function botThatSends({ deliveryReceipts = true } = {}) {
  const { tenantId, botIds } = await tenantWithBots(db, 1);
  const bot = { tenantId, botId: botIds[0] ?? "" };
  const whatsapp = new SimulatedWhatsApp();
  whatsapp.deliveryReceipts = deliveryReceipts;
  whatsapp.addGroup({
    id: GROUP,
    subject: "Orders",
    owner: ALICE.lid,
    participants: [
      { id: ALICE.lid, phoneNumber: ALICE.pn, admin: "superadmin" },
      { id: BOB.lid, phoneNumber: BOB.pn, admin: null },
    ],
  });
  // What the phones receive: the message as it crossed the wire (encoded, then decoded as a phone would).
  const received: SentMessage[] = [];
  const stopListening = whatsapp.onSent((_socket, sent) => {
    const wire = proto.WebMessageInfo.encode(sent.message).finish();
    received.push({ jid: sent.jid, message: proto.WebMessageInfo.decode(wire) as WAMessage });
  });
  cleanups.push(async () => void stopListening());
  const sink = new EventRecorder();
  const supervisor = testSupervisor(db, { whatsapp, tenantIds: [tenantId], eventSink: sink });
  supervisor.start();
  cleanups.push(() => supervisor.stop());
  (await waitFor("a QR code", async () => whatsapp.liveSockets.find((s) => s.state === "qr"))).link("6281234567890");
  const socket: SimulatedSocket = await waitFor("an open socket", async () =>
    whatsapp.liveSockets.find((s) => s.state === "open"),
  );

  const ref = (itemId: string) => db.doc(outboxItemPath(tenantId, bot.botId, itemId)).withConverter(converter);
  const item = async (itemId: string): Promise<SendItem> => {
    const data = (await ref(itemId).get()).data();
    if (data?.kind !== "send") throw new Error(`${itemId} is not a send`);
    return data;
  };
  /** Queues a message as the API does and waits until the runner has finished with it. */
  const send = async (to: string, content: OutboxContent) => {
    const itemId = uniqueId("msg");
    await ref(itemId).create(pendingSendItem({ to, content, requestedBy: "apiKey:test" }, Timestamp.now()));
    const done = await waitFor(`${itemId} to be sent`, async () => {
      const current = await item(itemId);
      return current.status === "pending" || current.status === "processing" ? undefined : current;
    });
    const message = received.find((r) => r.message.key?.id === done.messageId)?.message.message ?? undefined;
    return { itemId, item: done, message };
  };
  const upload = async (data: Buffer, mimetype: string) => {
    const mediaId = uniqueId("media");
    await media.put(bot, mediaId, { mimetype, data });
    return mediaId;
  };
  /** Every receipt the socket relayed so far was applied and its events published. */
  const idle = async () => {
    const running = supervisor.running.get(`${tenantId}/${bot.botId}`);
    if (!running) throw new Error("the bot is not running here");
    await running.runtime.eventsIdle();
  };
  return { bot, whatsapp, socket, sink, received, send, item, upload, idle };
}

const fromAlice = (id: string, text: string) => ({
  key: { remoteJid: ALICE.lid, remoteJidAlt: ALICE.pn, id, fromMe: false },
  pushName: "Alice",
  messageTimestamp: Math.floor(Date.now() / 1000),
  message: { conversation: text },
});

describe("every message type, from the outbox to the phone", () => {
  it("sends text with a mention, a location, a contact card and replies to a received message", async () => {
    const bot = await botThatSends();
    const text = await bot.send(ALICE.pn, { type: "text", text: "Hi @6282222222222", mentions: [BOB.pn] });
    expect(text.item).toMatchObject({ status: "done", error: null });
    expect(text.message?.extendedTextMessage?.text).toBe("Hi @6282222222222");
    expect(text.message?.extendedTextMessage?.contextInfo?.mentionedJid).toEqual([BOB.pn]);

    const location = await bot.send(ALICE.pn, {
      type: "location",
      latitude: -6.2,
      longitude: 106.816666,
      name: "Monas",
      address: "Gambir, Jakarta",
    });
    expect(location.message?.locationMessage).toMatchObject({
      degreesLatitude: -6.2,
      degreesLongitude: 106.816666,
      name: "Monas",
      address: "Gambir, Jakarta",
    });

    const contact = await bot.send(ALICE.pn, { type: "contact", displayName: "Budi Santoso", vcard: VCARD });
    expect(contact.message?.contactMessage).toMatchObject({ displayName: "Budi Santoso", vcard: VCARD });

    bot.socket.deliver(fromAlice("3EB0ALICEASKS01", "Where is my order?"));
    const reply = await bot.send(ALICE.pn, { type: "text", text: "On its way", quotedId: "3EB0ALICEASKS01" });
    const context = reply.message?.extendedTextMessage?.contextInfo;
    expect(context?.stanzaId).toBe("3EB0ALICEASKS01");
    expect(context?.quotedMessage?.conversation).toBe("Where is my order?");

    // The bot's own earlier send can be quoted too.
    const own = await bot.send(ALICE.pn, { type: "text", text: "As I said", quotedId: text.item.messageId ?? "" });
    expect(own.message?.extendedTextMessage?.contextInfo?.stanzaId).toBe(text.item.messageId);
  });

  it("sends image, video, voice note, document and sticker bytes from the bot's media, deleting each copy once sent", async () => {
    const bot = await botThatSends();
    const bytes = (label: string) => Buffer.concat([Buffer.from(label), Buffer.alloc(2_000, label.length)]);

    const imageId = await bot.upload(bytes("png"), "image/png");
    const image = await bot.send(ALICE.pn, { type: "image", mediaId: imageId, caption: "Your receipt", mentions: [] });
    expect(image.message?.imageMessage).toMatchObject({ caption: "Your receipt", mimetype: "image/png" });
    expect(bot.whatsapp.media(image.message?.imageMessage?.url)).toEqual(bytes("png"));

    const videoId = await bot.upload(bytes("mp4"), "video/mp4");
    const video = await bot.send(ALICE.pn, { type: "video", mediaId: videoId, caption: null, gifPlayback: true });
    expect(video.message?.videoMessage).toMatchObject({ gifPlayback: true, mimetype: "video/mp4" });
    expect(bot.whatsapp.media(video.message?.videoMessage?.url)).toEqual(bytes("mp4"));

    const voiceId = await bot.upload(bytes("ogg"), "audio/ogg; codecs=opus");
    const voice = await bot.send(ALICE.pn, { type: "audio", mediaId: voiceId, voiceNote: true });
    expect(voice.message?.audioMessage).toMatchObject({ ptt: true, mimetype: "audio/ogg; codecs=opus" });
    expect(bot.whatsapp.media(voice.message?.audioMessage?.url)).toEqual(bytes("ogg"));

    const pdfId = await bot.upload(bytes("pdf"), "application/pdf");
    const pdf = await bot.send(ALICE.pn, {
      type: "document",
      mediaId: pdfId,
      fileName: "invoice-0042.pdf",
      caption: "Invoice",
    });
    expect(pdf.message?.documentMessage).toMatchObject({ fileName: "invoice-0042.pdf", mimetype: "application/pdf" });
    expect(bot.whatsapp.media(pdf.message?.documentMessage?.url)).toEqual(bytes("pdf"));

    const stickerId = await bot.upload(bytes("webp"), "image/webp");
    const sticker = await bot.send(ALICE.pn, { type: "sticker", mediaId: stickerId, animated: false });
    expect(sticker.message?.stickerMessage).toMatchObject({ mimetype: "image/webp" });
    expect(bot.whatsapp.media(sticker.message?.stickerMessage?.url)).toEqual(bytes("webp"));

    for (const mediaId of [imageId, videoId, voiceId, pdfId, stickerId]) {
      await waitFor(`${mediaId} deleted`, async () => ((await media.get(bot.bot, mediaId)) ? undefined : true));
    }
  });

  it("reacts with the full key of a received group message, and of the bot's own; an empty emoji removes it", async () => {
    const bot = await botThatSends();
    bot.socket.deliver({
      key: { remoteJid: GROUP, id: "3EB0BOBSAYS0001", fromMe: false, participant: BOB.lid, participantAlt: BOB.pn },
      messageTimestamp: Math.floor(Date.now() / 1000),
      message: { conversation: "Paid!" },
    });
    const react = await bot.send(GROUP, {
      type: "reaction",
      emoji: "👍",
      target: { id: "3EB0BOBSAYS0001", fromMe: false, participant: BOB.lid },
    });
    expect(react.message?.reactionMessage?.text).toBe("👍");
    expect(react.message?.reactionMessage?.key).toMatchObject({
      remoteJid: GROUP,
      id: "3EB0BOBSAYS0001",
      fromMe: false,
      participant: BOB.lid,
    });

    // A message the runner no longer remembers: the key as the API named it.
    const named = await bot.send(ALICE.pn, {
      type: "reaction",
      emoji: "",
      target: { id: "3EB0LONGAGO00001", fromMe: true },
    });
    expect(named.message?.reactionMessage).toMatchObject({
      text: "",
      key: { remoteJid: ALICE.pn, id: "3EB0LONGAGO00001", fromMe: true },
    });
  });

  it("fails a reply to a message the runner does not know, sending nothing", async () => {
    const bot = await botThatSends();
    const before = bot.received.length;
    const reply = await bot.send(ALICE.pn, { type: "text", text: "Re: ?", quotedId: "3EB0NOSUCHMSG001" });
    expect(reply.item).toMatchObject({ status: "failed", error: { code: "quoted_not_found" } });
    expect(bot.received).toHaveLength(before);
    await waitFor("the failed status event", async () =>
      bot.sink.of("message.status").find((e) => e.data.messageId === reply.itemId),
    );
    expect(bot.sink.of("message.status").find((e) => e.data.messageId === reply.itemId)?.data).toMatchObject({
      status: "failed",
      error: { code: "quoted_not_found" },
    });
  });
});

describe("what happened to a message", () => {
  it("moves queued → sent → delivered → read from the phone's receipts, never backwards, with one event each", async () => {
    const bot = await botThatSends({ deliveryReceipts: false });
    const queued = pendingSendItem(
      { to: ALICE.pn, content: { type: "text", text: "x" }, requestedBy: "apiKey:test" },
      Timestamp.now(),
    );
    expect(messageStatusOf(queued)).toBe("queued");

    const { itemId, item } = await bot.send(ALICE.pn, { type: "text", text: "Your order shipped" });
    expect(messageStatusOf(item)).toBe("sent");
    expect(item.sentAt).not.toBeNull();
    const key = { remoteJid: ALICE.pn, fromMe: true, id: item.messageId ?? "" };

    bot.socket.receipt(key, "delivered");
    const delivered = await waitFor("delivered", async () => {
      const current = await bot.item(itemId);
      return current.deliveredAt ? current : undefined;
    });
    expect(messageStatusOf(delivered)).toBe("delivered");

    bot.socket.receipt(key, "read");
    const read = await waitFor("read", async () => {
      const current = await bot.item(itemId);
      return current.readAt ? current : undefined;
    });
    expect(messageStatusOf(read)).toBe("read");

    // A late delivery receipt (and a repeated read) change nothing.
    bot.socket.receipt(key, "delivered");
    bot.socket.receipt(key, "read");
    await bot.idle();
    const after = await bot.item(itemId);
    expect(messageStatusOf(after)).toBe("read");
    expect(after.deliveredAt?.toMillis()).toBe(delivered.deliveredAt?.toMillis());
    expect(after.readAt?.toMillis()).toBe(read.readAt?.toMillis());

    const statuses = bot.sink
      .of("message.status")
      .filter((e) => e.data.messageId === itemId)
      .map((e) => e.data.status);
    expect(statuses).toEqual(["sent", "delivered", "read"]);
    const sent = bot.sink.of("message.sent").filter((e) => e.data.messageId === itemId);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.data).toMatchObject({ whatsappMessageId: item.messageId, to: ALICE.pn, contentType: "text" });
    for (const event of bot.sink.events) eventDataSchemas[event.type].parse(event.data);
  });

  it("takes the phone's automatic delivery receipt, and a group's from its first member", async () => {
    const bot = await botThatSends();
    const direct = await bot.send(ALICE.pn, { type: "text", text: "to Alice" });
    const group = await bot.send(GROUP, { type: "text", text: "to the group" });
    for (const { itemId } of [direct, group]) {
      const delivered = await waitFor(`${itemId} delivered`, async () => {
        const current = await bot.item(itemId);
        return current.deliveredAt ? current : undefined;
      });
      expect(messageStatusOf(delivered)).toBe("delivered");
    }
    bot.socket.receipt({ remoteJid: GROUP, fromMe: true, id: group.item.messageId ?? "" }, "read", BOB.lid);
    await waitFor("the group message read", async () => ((await bot.item(group.itemId)).readAt ? true : undefined));
    await waitFor("its read event", async () =>
      bot.sink.of("message.status").some((e) => e.data.messageId === group.itemId && e.data.status === "read")
        ? true
        : undefined,
    );
  });

  it("takes a read receipt a phone sends through the phone API", async () => {
    const bot = await botThatSends();
    const phones = await startSimulatorPhones(bot.whatsapp, {
      host: "127.0.0.1",
      port: 0,
      logger: pino({ level: "silent" }),
    });
    cleanups.push(() => phones.close());
    const { itemId, item } = await bot.send(ALICE.pn, { type: "text", text: "Did you see this?" });
    const post = (body: unknown) =>
      fetch(`${phones.url}/v1/receipts`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    expect((await post({ id: "3EB0NOTSENT00001" })).status).toBe(404);
    expect((await post({ id: item.messageId })).status).toBe(200);
    const read = await waitFor("read", async () => {
      const current = await bot.item(itemId);
      return current.readAt ? current : undefined;
    });
    expect(messageStatusOf(read)).toBe("read");
  });
});
