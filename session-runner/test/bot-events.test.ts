import { eventDataSchemas } from "@whatsdex/core";
import { testFirebase, waitFor } from "@whatsdex/core/testing";
import type { proto } from "baileys";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type SimulatedSocket, SimulatedWhatsApp } from "../src/transport/simulator/simulator.ts";
import { EventRecorder } from "./support/event-recorder.ts";
import { tenantWithBots, testSupervisor } from "./support/fleet.ts";

const firebase = testFirebase();
const db = firebase.firestore;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => firebase.close());

const ALICE = { lid: "111222333444555@lid", pn: "6281111111111@s.whatsapp.net" };

async function botWithEvents(keep?: Array<{ mediaId: string; data: Buffer }>) {
  const { tenantId, botIds } = await tenantWithBots(db, 1);
  const whatsapp = new SimulatedWhatsApp();
  const sink = new EventRecorder();
  const supervisor = testSupervisor(db, {
    whatsapp,
    tenantIds: [tenantId],
    eventSink: sink,
    ...(keep
      ? {
          keepInboundMedia: async (_bot, mediaId, media) => {
            keep.push({ mediaId, data: media.data });
          },
        }
      : {}),
  });
  supervisor.start();
  cleanups.push(() => supervisor.stop());
  const qr = await waitFor("a QR code", async () => whatsapp.liveSockets.find((s) => s.state === "qr"));
  await waitFor("the QR event", async () => sink.of("bot.qr").length > 0 || undefined);
  qr.link("6281234567890");
  const socket: SimulatedSocket = await waitFor("an open socket", async () =>
    whatsapp.liveSockets.find((s) => s.state === "open"),
  );
  await waitFor("the open event", async () => sink.of("bot.status").some((e) => e.data.state === "open") || undefined);
  return { tenantId, botId: botIds[0] ?? "", whatsapp, sink, socket };
}

function fromAlice(id: string, message: proto.IMessage): Parameters<SimulatedSocket["deliver"]>[0] {
  return {
    key: { remoteJid: ALICE.lid, remoteJidAlt: ALICE.pn, id, fromMe: false },
    pushName: "Alice",
    messageTimestamp: 1_790_000_000,
    message,
  };
}

describe("the runner's events", () => {
  it("reports the bot's connection states and, as bot.qr, the QR code the phone scans", async () => {
    const { sink, botId } = await botWithEvents();
    const states = sink.of("bot.status").map((e) => e.data.state);
    expect(states).toEqual(expect.arrayContaining(["connecting", "qr", "open"]));
    expect(states.indexOf("qr")).toBeLessThan(states.lastIndexOf("open"));
    const opened = sink.of("bot.status").find((e) => e.data.state === "open");
    expect(opened?.data).toMatchObject({ botId, phoneNumber: "6281234567890" });
    const qr = sink.of("bot.qr")[0];
    expect(qr?.data.qr).toMatch(/^2@simulated-qr-/);
    // The status event never carries the QR code: only endpoints that ask for bot.qr get it.
    expect(JSON.stringify(sink.of("bot.status"))).not.toContain("simulated-qr");
    for (const event of sink.events) eventDataSchemas[event.type].parse(event.data);
  });

  it("turns a received text into message.received, sender LID first with the phone number, one key per message", async () => {
    const { sink, socket, botId } = await botWithEvents();
    const message = fromAlice("AAA1", {
      extendedTextMessage: {
        text: "hello there",
        contextInfo: { stanzaId: "QUOTED1", mentionedJid: ["6289999999999@s.whatsapp.net"] },
      },
    });
    socket.deliver(message);
    socket.deliver(message); // WhatsApp redelivers: the same natural key, so the publisher makes one event
    const received = await waitFor("two publications", async () =>
      sink.of("message.received").length >= 2 ? sink.of("message.received") : undefined,
    );
    expect(received[0]?.key).toBe(received[1]?.key);
    expect(received[0]?.data).toEqual({
      botId,
      messageId: "AAA1",
      chat: ALICE.lid,
      chatType: "private",
      from: { lid: ALICE.lid, pn: ALICE.pn, name: "Alice" },
      sentAt: new Date(1_790_000_000_000).toISOString(),
      quotedId: "QUOTED1",
      mentions: ["6289999999999@s.whatsapp.net"],
      content: { type: "text", text: "hello there" },
    });
    eventDataSchemas["message.received"].parse(received[0]?.data);
  });

  it("names every common content type, and reactions, but not the bot's own or protocol messages", async () => {
    const { sink, socket } = await botWithEvents();
    socket.deliver(
      fromAlice("LOC1", { locationMessage: { degreesLatitude: -6.2, degreesLongitude: 106.8, name: "Monas" } }),
    );
    socket.deliver(
      fromAlice("VC1", {
        contactMessage: { displayName: "Bob", vcard: "BEGIN:VCARD\nVERSION:3.0\nFN:Bob\nEND:VCARD" },
      }),
    );
    socket.deliver(
      fromAlice("RE1", { reactionMessage: { text: "👍", key: { id: "BOTMSG1", remoteJid: ALICE.lid, fromMe: true } } }),
    );
    socket.deliver(fromAlice("DOC1", { documentMessage: { fileName: "a.pdf", mimetype: "application/pdf" } }));
    socket.deliver(fromAlice("PROTO1", { protocolMessage: { type: 0, key: { id: "AAA1" } } }));
    socket.deliver({
      ...fromAlice("MINE1", { conversation: "sent from the phone" }),
      key: { ...fromAlice("x", {}).key, id: "MINE1", fromMe: true },
    });
    const contents = await waitFor("four events", async () => {
      const events = sink.of("message.received");
      return events.length >= 4 ? events.map((e) => e.data.content) : undefined;
    });
    expect(contents).toEqual([
      { type: "location", latitude: -6.2, longitude: 106.8, name: "Monas", address: null },
      { type: "contact", displayName: "Bob", vcard: "BEGIN:VCARD\nVERSION:3.0\nFN:Bob\nEND:VCARD" },
      { type: "reaction", emoji: "👍", targetId: "BOTMSG1" },
      { type: "document", fileName: "a.pdf", caption: null, mediaId: null, mimetype: "application/pdf", bytes: null },
    ]);
    const ids = sink.of("message.received").map((e) => e.data.messageId);
    expect(ids).not.toContain("PROTO1");
    expect(ids).not.toContain("MINE1");
  });

  it("keeps received media for the event only when someone listens to message.received", async () => {
    const kept: Array<{ mediaId: string; data: Buffer }> = [];
    const { sink, socket } = await botWithEvents(kept);
    const bytes = Buffer.from("not really a jpeg, but bytes all the same");
    socket.deliverImage({ remoteJid: ALICE.lid, id: "IMG1", fromMe: false }, bytes, { caption: "look" });
    const first = await waitFor("an image event", async () => sink.of("message.received")[0]);
    expect(first.data.content).toMatchObject({ type: "image", caption: "look", mediaId: null });
    expect(kept).toEqual([]);

    sink.listening.add("message.received");
    socket.deliverImage({ remoteJid: ALICE.lid, id: "IMG2", fromMe: false }, bytes);
    const second = await waitFor("the second image event", async () => sink.of("message.received")[1]);
    const content = second.data.content;
    expect(content.type === "image" && content.mediaId).toMatch(/^in-[0-9a-f]{32}$/);
    expect(kept).toEqual([{ mediaId: content.type === "image" ? content.mediaId : "", data: bytes }]);
  });

  it("reports group participant changes with each person LID first", async () => {
    const { sink, whatsapp, socket } = await botWithEvents();
    whatsapp.addGroup({
      id: "120363000000000001@g.us",
      subject: "Team",
      owner: undefined,
      participants: [{ id: "6281234567890@s.whatsapp.net", admin: "admin" }],
    });
    socket.changeParticipants(
      "120363000000000001@g.us",
      [{ id: ALICE.lid, phoneNumber: ALICE.pn, admin: null }],
      "add",
      "6281234567890@s.whatsapp.net",
    );
    const event = await waitFor("a participants event", async () => sink.of("group.participants")[0]);
    expect(event.data).toMatchObject({
      group: "120363000000000001@g.us",
      action: "add",
      author: { lid: null, pn: "6281234567890@s.whatsapp.net", name: null },
      participants: [{ lid: ALICE.lid, pn: ALICE.pn, name: null }],
    });
  });
});
