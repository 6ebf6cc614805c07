import { defaultBotSettings } from "@whatsdex/core";
import { captureLogs, testFirebase, waitFor } from "@whatsdex/core/testing";
import { Timestamp } from "firebase-admin/firestore";
import { pino } from "pino";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { CommandRegistry } from "../src/commands/command.ts";
import { infoCommands } from "../src/commands/info/info-commands.ts";
import { OPT_OUT_HANDLED } from "../src/commands/opt-out.ts";
import type { Supervisor } from "../src/runner/supervisor.ts";
import { SimulatedWhatsApp } from "../src/transport/simulator/simulator.ts";
import { tenantWithBots, testSupervisor } from "./support/fleet.ts";

const firebase = testFirebase();
const db = firebase.firestore;
const started: Supervisor[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) await s.stop();
});
afterAll(() => firebase.close());
const commands = new CommandRegistry(infoCommands);

const USER_LID = "200000000019@lid";
const USER_PN = "6281200000019@s.whatsapp.net";
const GROUP = "120363000000000177@g.us";

const STOPPED_EN = "You will not get broadcast messages from us any more. Reply START to subscribe again.";
const STARTED_EN = "You are subscribed again and may get our broadcast messages. Reply STOP to stop them.";
const STOPPED_ID = "Anda tidak akan menerima pesan siaran dari kami lagi. Balas MULAI untuk berlangganan kembali.";

/** A linked bot with the real pipeline, and one WhatsApp user (LID, with their phone number alongside). */
async function botWithUser(settings: Partial<typeof defaultBotSettings> = {}) {
  const { tenantId, botIds } = await tenantWithBots(db, 1);
  const botId = botIds[0] ?? "";
  if (Object.keys(settings).length > 0) {
    await db.doc(`tenants/${tenantId}/bots/${botId}`).update({ settings: { ...defaultBotSettings, ...settings } });
  }
  const whatsapp = new SimulatedWhatsApp();
  whatsapp.addGroup({
    id: GROUP,
    subject: "Shop",
    owner: undefined,
    participants: [{ id: USER_LID, phoneNumber: USER_PN, admin: null }],
  });
  const logs = captureLogs();
  const logger = pino({ level: "info" }, logs.stream);
  const supervisor = testSupervisor(db, { whatsapp, tenantIds: [tenantId], commands, version: "1.2.3", logger });
  started.push(supervisor);
  supervisor.start();
  const qr = await waitFor("a QR code", async () => whatsapp.liveSockets.find((s) => s.state === "qr"));
  qr.link("6281234567890");
  const socket = await waitFor("an open socket", async () => whatsapp.liveSockets.find((s) => s.state === "open"));
  let n = 0;
  const say = (text: string, options: { group?: boolean } = {}) => {
    n += 1;
    socket.deliver({
      key: {
        remoteJid: options.group ? GROUP : USER_LID,
        id: `OPT${n}`,
        fromMe: false,
        ...(options.group ? { participant: USER_LID, participantAlt: USER_PN } : { remoteJidAlt: USER_PN }),
      },
      message: { conversation: text },
      messageTimestamp: Math.floor(Date.now() / 1000),
      pushName: "Ayu",
    });
  };
  const replies = () =>
    socket.sent.map((s) => s.message.message?.extendedTextMessage?.text ?? s.message.message?.conversation ?? "");
  /** Sends `.ping` and waits for its pong: whatever was sent before it has been handled by then. */
  const settle = async (options: { group?: boolean } = {}) => {
    const pongs = replies().filter((r) => r.startsWith("Pong!")).length;
    say(".ping", options);
    await waitFor("the pong", async () =>
      replies().filter((r) => r.startsWith("Pong!")).length > pongs ? true : undefined,
    );
  };
  const contact = async (personId: string) => (await db.doc(`tenants/${tenantId}/contacts/${personId}`).get()).data();
  const nonPong = () => replies().filter((r) => !r.startsWith("Pong!"));
  /** The keywords handled so far (logged once any answer was sent). */
  const handled = () => logs.lines().filter((line) => line.msg === OPT_OUT_HANDLED);
  /** Waits for the `count`th keyword to be handled: its answer, if any, has been sent by then. */
  const handledCount = (count: number) =>
    waitFor(`keyword ${count} handled`, async () => (handled().length >= count ? handled() : undefined));
  return { tenantId, botId, say, settle, replies, nonPong, contact, handled, handledCount };
}

describe("opt-out by WhatsApp reply", () => {
  it("STOP opts the contact out with one answer; STOP again is not answered; START clears it with one answer", async () => {
    const bot = await botWithUser();
    bot.say("STOP");
    await waitFor("the answer", async () => (bot.replies().length > 0 ? true : undefined));
    expect(bot.replies()).toEqual([STOPPED_EN]);
    const stopped = await bot.contact("lid:200000000019");
    expect(stopped).toMatchObject({
      lid: USER_LID,
      pn: USER_PN,
      name: null,
      tags: [],
      fields: {},
      importId: null,
      optOut: { via: "whatsapp", botId: bot.botId, reason: "STOP" },
    });
    expect(stopped?.optOut.at).toBeInstanceOf(Timestamp);

    bot.say(" stop. ");
    expect((await bot.handledCount(2))[1]).toMatchObject({ intent: "opt_out", changed: false, answered: false });
    expect(bot.nonPong()).toEqual([STOPPED_EN]);

    bot.say("Start");
    await waitFor("the second answer", async () => (bot.nonPong().length > 1 ? true : undefined));
    expect(bot.nonPong()).toEqual([STOPPED_EN, STARTED_EN]);
    expect((await bot.contact("lid:200000000019"))?.optOut).toBeNull();

    // START again, now subscribed: nothing to change, nothing said.
    bot.say("START");
    expect((await bot.handledCount(4))[3]).toMatchObject({ intent: "opt_in", changed: false, answered: false });
    expect(bot.nonPong()).toEqual([STOPPED_EN, STARTED_EN]);
  });

  it("ignores STOP in a group, and a message that only contains the word", async () => {
    const bot = await botWithUser();
    bot.say("STOP", { group: true });
    bot.say("please stop sending me these");
    // (One settle only: .ping has a cooldown per sender.)
    await bot.settle();
    expect(bot.nonPong()).toEqual([]);
    expect(bot.handled()).toEqual([]);
    expect(await bot.contact("lid:200000000019")).toBeUndefined();
  });

  it("takes BERHENTI for an Indonesian bot and answers in Indonesian", async () => {
    const bot = await botWithUser({ language: "id" });
    bot.say("Berhenti");
    await waitFor("the answer", async () => (bot.nonPong().length > 0 ? true : undefined));
    expect(bot.nonPong()).toEqual([STOPPED_ID]);
    expect(await bot.contact("lid:200000000019")).toMatchObject({ optOut: { reason: "Berhenti" } });
  });

  it("takes PARAR and ARRÊT whatever the bot's language (accents and case ignored)", async () => {
    const bot = await botWithUser();
    bot.say("PARAR");
    await waitFor("the answer", async () => (bot.nonPong().length > 0 ? true : undefined));
    expect(bot.nonPong()).toEqual([STOPPED_EN]);
    expect(await bot.contact("lid:200000000019")).toMatchObject({ optOut: { reason: "PARAR" } });

    const idBot = await botWithUser({ language: "id" });
    idBot.say("Arrêt");
    await waitFor("the answer", async () => (idBot.nonPong().length > 0 ? true : undefined));
    expect(idBot.nonPong()).toEqual([STOPPED_ID]);
  });

  it("opts out the contact imported by phone number, folded into the LID's, and owners too", async () => {
    const bot = await botWithUser({ owners: ["6281200000019"] });
    const now = Timestamp.now();
    await db.doc(`tenants/${bot.tenantId}/contacts/pn:6281200000019`).set({
      lid: null,
      pn: USER_PN,
      name: "Ayu",
      tags: ["vip"],
      fields: { city: "Bandung" },
      optOut: null,
      importId: "import-1",
      createdAt: now,
      updatedAt: now,
    });
    bot.say("unsubscribe");
    await waitFor("the answer", async () => (bot.nonPong().length > 0 ? true : undefined));
    expect(bot.nonPong()).toEqual([STOPPED_EN]);
    // The message paired their LID with the number: the imported contact is folded into the LID's
    // (one person, one contact), opted out, with what the import gave it.
    const folded = await waitFor("the contact under the LID, opted out", async () => {
      const [contact, byNumber] = await Promise.all([bot.contact("lid:200000000019"), bot.contact("pn:6281200000019")]);
      return contact?.optOut && contact.tags?.length > 0 && byNumber === undefined ? contact : undefined;
    });
    expect(folded).toMatchObject({
      lid: USER_LID,
      pn: USER_PN,
      name: "Ayu",
      tags: ["vip"],
      fields: { city: "Bandung" },
      optOut: { via: "whatsapp", reason: "unsubscribe" },
    });
    expect(await bot.contact("pn:6281200000019")).toBeUndefined();
  });

  it("is answered after the sender's command limits ran out (never held back by them)", async () => {
    const bot = await botWithUser();
    for (let i = 0; i < 10; i++) bot.say(".ping");
    await waitFor("the rate-limit refusal", async () =>
      bot.replies().some((r) => r.startsWith("Too many commands")) ? true : undefined,
    );
    bot.say("STOP");
    await waitFor("the answer", async () => (bot.replies().includes(STOPPED_EN) ? true : undefined));
    expect(await bot.contact("lid:200000000019")).toMatchObject({ optOut: { via: "whatsapp" } });
  });
});
