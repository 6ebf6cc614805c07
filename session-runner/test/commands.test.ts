import { defaultBotSettings } from "@whatsdex/core";
import { testFirebase, waitFor } from "@whatsdex/core/testing";
import type { WAMessage } from "baileys";
import fc from "fast-check";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { CommandRegistry } from "../src/commands/command.ts";
import { infoCommands } from "../src/commands/info/info-commands.ts";
import { ownerCommands } from "../src/commands/owner/owner-commands.ts";
import type { Supervisor } from "../src/runner/supervisor.ts";
import { type SimulatedSocket, SimulatedWhatsApp } from "../src/transport/simulator/simulator.ts";
import { tenantWithBots, testSupervisor } from "./support/fleet.ts";
import { offlineEngine } from "./support/offline-engine.ts";

const firebase = testFirebase();
const db = firebase.firestore;
const started: Supervisor[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) await s.stop();
});
afterAll(() => firebase.close());
const commands = new CommandRegistry([...infoCommands, ...ownerCommands]);

const USER_LID = "200000000009@lid";
const USER_PN = "6281200000009@s.whatsapp.net";
const GROUP = "120363000000000077@g.us";
const OTHER_GROUP = "120363000000000078@g.us";

/** A linked bot answering commands through the real pipeline, and a WhatsApp user to talk to it. */
async function botWithUser() {
  const { tenantId, botIds } = await tenantWithBots(db, 1);
  const botId = botIds[0] ?? "";
  const whatsapp = new SimulatedWhatsApp();
  for (const group of [GROUP, OTHER_GROUP]) {
    whatsapp.addGroup({
      id: group,
      subject: "Shop",
      owner: undefined,
      participants: [
        { id: USER_LID, phoneNumber: USER_PN, admin: null },
        { id: "200000000010@lid", admin: null },
      ],
    });
  }
  const supervisor = testSupervisor(db, { whatsapp, tenantIds: [tenantId], commands, version: "1.2.3" });
  started.push(supervisor);
  supervisor.start();
  const qr = await waitFor("a QR code", async () => whatsapp.liveSockets.find((s) => s.state === "qr"));
  qr.link("6281234567890");
  const socket = await waitFor("an open socket", async () => whatsapp.liveSockets.find((s) => s.state === "open"));
  let n = 0;
  const say = (text: string, options: { chat?: string; participant?: string; id?: string } = {}) => {
    n += 1;
    const chat = options.chat ?? USER_LID;
    return socket.deliver({
      key: {
        remoteJid: chat,
        id: options.id ?? `IN${n}`,
        fromMe: false,
        ...(chat.endsWith("@g.us")
          ? options.participant
            ? { participant: options.participant }
            : { participant: USER_LID, participantAlt: USER_PN }
          : { remoteJidAlt: USER_PN }),
      },
      message: { conversation: text },
      messageTimestamp: Math.floor(Date.now() / 1000),
      pushName: "Ayu",
    });
  };
  const replies = (after = 0) =>
    socket.sent
      .slice(after)
      .map((s) => s.message.message?.extendedTextMessage?.text ?? s.message.message?.conversation);
  const reply = async (after: number) => {
    await waitFor("a reply", async () => (socket.sent.length > after ? true : undefined));
    return replies(after)[0];
  };
  const settings = (patch: Partial<typeof defaultBotSettings>) =>
    db.doc(`tenants/${tenantId}/bots/${botId}`).update({ settings: { ...defaultBotSettings, ...patch } });
  return { socket, say, reply, replies, settings };
}

/** Lets in-flight handling finish, so "no reply" is checked after the bot had its chance. */
const settle = async (socket: SimulatedSocket, marker: () => WAMessage) => {
  const before = socket.sent.length;
  marker();
  await waitFor("the marker's reply", async () => (socket.sent.length > before ? true : undefined));
};

describe("command engine", () => {
  it("answers ping, quoting the command, in the chat it came from", async () => {
    const bot = await botWithUser();
    const asked = bot.say(".ping");
    expect(await bot.reply(0)).toMatch(/^Pong! \d+ ms$/);
    const sent = bot.socket.sent[0];
    expect(sent?.jid).toBe(USER_LID);
    expect(sent?.message.message?.extendedTextMessage?.contextInfo?.stanzaId).toBe(asked.key.id);
  });

  it("lists commands by category and explains one", async () => {
    const bot = await botWithUser();
    bot.say(".menu");
    const menu = await bot.reply(0);
    expect(menu?.startsWith("*Commands* (prefix .)\n\n*Info*\n• .menu: Every command, by category.")).toBe(true);
    expect(menu).toContain("• .ping: Check that the bot answers, and how fast.");
    expect(menu?.endsWith("Send .help <command> for details.")).toBe(true);
    bot.say("!HELP uptime");
    expect(await bot.reply(1)).toBe("*!uptime*: How long the bot has been connected.\nUsage: !uptime\nAlso: !runtime");
    bot.say('/help "about"');
    expect(await bot.reply(2)).toBe("*/about*: What this bot is.\nUsage: /about\nAlso: /info");
    bot.say(".about");
    expect(await bot.reply(3)).toBe("WhatsDeX 1.2.3: a WhatsApp bot platform. Send .menu to see what I can do.");
  });

  it("says an unknown command is unknown in private, and stays silent in groups", async () => {
    const bot = await botWithUser();
    bot.say(".nope");
    expect(await bot.reply(0)).toBe("There is no command called .nope. Send .menu for the list.");
    bot.say(".nope", { chat: GROUP });
    await settle(bot.socket, () => bot.say(".ping", { chat: GROUP }));
    expect(bot.replies(1)).toHaveLength(1);
    expect(bot.replies(1)[0]).toMatch(/^Pong!/);
  });

  it("refuses a disabled command and a command in cooldown, each explained once", async () => {
    const bot = await botWithUser();
    bot.say(".uptime");
    expect(await bot.reply(0)).toMatch(/^Up for \d+s\.$/);
    bot.say(".uptime");
    expect(await bot.reply(1)).toBe("Easy there: .uptime again in 2 s.");
    // Asked again at once: not told twice.
    await settle(bot.socket, () => bot.say(".about"));
    expect(bot.replies(2)).toEqual(["WhatsDeX 1.2.3: a WhatsApp bot platform. Send .menu to see what I can do."]);

    await bot.settings({ disabledCommands: ["ping"] });
    await waitFor("the setting to reach the bot", async () => {
      const before = bot.socket.sent.length;
      bot.say(".ping");
      await waitFor("a reply", async () => (bot.socket.sent.length > before ? true : undefined));
      return bot.replies(before)[0] === "The .ping command is turned off for this bot." ? true : undefined;
    });
  });

  it("speaks the bot's language, and in self mode answers its owners only, matched LID-first", async () => {
    const bot = await botWithUser();
    // The owner is configured by phone number; the message comes from their LID, with the PN alongside.
    await bot.settings({ language: "id", mode: "self", owners: ["6281200000009"] });
    await waitFor("the owner to be answered in Indonesian", async () => {
      const before = bot.socket.sent.length;
      bot.say(".ping");
      await waitFor("a reply", async () => (bot.socket.sent.length > before ? true : undefined));
      return /^Pong! \d+ md$/.test(bot.replies(before)[0] ?? "") ? true : undefined;
    });
    const before = bot.socket.sent.length;
    bot.say(".ping", { chat: OTHER_GROUP, participant: "200000000010@lid" });
    await settle(bot.socket, () => bot.say(".about"));
    expect(bot.replies(before)).toEqual([
      "WhatsDeX 1.2.3: platform bot WhatsApp. Kirim .menu untuk melihat yang bisa saya lakukan.",
    ]);
  });

  it("lets its owners change prefixes and mode from WhatsApp, validated, and refuses everyone else", async () => {
    const bot = await botWithUser();
    bot.say(".setprefix !");
    expect(await bot.reply(0)).toBe("Only this bot's owners can use .setprefix.");
    await bot.settings({ owners: ["6281200000009"] });
    await waitFor("the owner setting to reach the bot", async () => {
      const before = bot.socket.sent.length;
      bot.say(".mode nonsense");
      await waitFor("a reply", async () => (bot.socket.sent.length > before ? true : undefined));
      return bot.replies(before)[0]?.startsWith("Modes: public (everyone)") ? true : undefined;
    });
    let at = bot.socket.sent.length;
    bot.say(".setprefix toolong");
    expect(await bot.reply(at)).toBe("Prefixes are 1-3 characters without spaces, at most 5: .setprefix . ! /");
    at = bot.socket.sent.length;
    bot.say(".setprefix ! #");
    expect(await bot.reply(at)).toBe("Prefixes are now: ! #");
    // The bot document changed, and the bot follows it.
    await waitFor("the new prefix to work", async () => {
      const before = bot.socket.sent.length;
      bot.say("#about");
      await waitFor("a reply", async () => (bot.socket.sent.length > before ? true : undefined), { timeoutMs: 2_000 });
      return true;
    });
    at = bot.socket.sent.length;
    bot.say(".ping");
    await settle(bot.socket, () => bot.say("!stats"));
    const [stats] = bot.replies(at);
    expect(stats).toMatch(/^Since \d+s ago: \d+ commands answered, \d+ refused, 0 failed\.$/);
  });

  it("ignores status updates, newsletters, its own messages and a redelivered message", async () => {
    const bot = await botWithUser();
    bot.socket.deliver({
      key: { remoteJid: "status@broadcast", participant: USER_LID, id: "S1", fromMe: false },
      message: { conversation: ".ping" },
    });
    bot.socket.deliver({
      key: { remoteJid: "1203630000@newsletter", id: "N1", fromMe: false },
      message: { conversation: ".ping" },
    });
    bot.socket.deliver({ key: { remoteJid: USER_LID, id: "F1", fromMe: true }, message: { conversation: ".ping" } });
    bot.say(".about", { id: "DUP" });
    bot.say(".about", { id: "DUP" });
    await settle(bot.socket, () => bot.say(".ping"));
    expect(bot.replies()).toHaveLength(2);
  });
});

describe("owners", () => {
  it("matches a LID owner on any of its devices, and never a phone number that only shares its digits", async () => {
    const { engine, sent } = offlineEngine(db, commands, {
      settings: { ...defaultBotSettings, mode: "self", owners: ["200000000009@lid"] },
    });
    const from = (jid: string, id: string): WAMessage => ({
      key: { remoteJid: jid, id, fromMe: false },
      message: { conversation: ".about" },
    });
    expect(await engine.handle(from("200000000009:3@lid", "O1"))).toBe("ok");
    expect(await engine.handle(from("200000000009@s.whatsapp.net", "O2"))).toBe("ignored");
    expect(sent.map((s) => s.chat)).toEqual(["200000000009:3@lid"]);
  });
});

describe("command pipeline under arbitrary input", () => {
  const jid = fc.constantFrom(
    "status@broadcast",
    "1203630000@newsletter",
    "123@broadcast",
    "6281200000009@s.whatsapp.net",
    "200000000009@lid",
    "200000000009:3@lid",
    "120363000000000001@g.us",
    "",
    "garbage",
  );
  const text = fc.oneof(
    fc.string(),
    fc.constantFrom(".ping", ".menu", "!help", "/help ping", ". ping", ".", ".nope x y", '.help "un'),
  );
  const content = fc.oneof(
    text.map((t) => ({ conversation: t })),
    text.map((t) => ({
      extendedTextMessage: {
        text: t,
        contextInfo: { stanzaId: "Q", quotedMessage: { conversation: "q" }, mentionedJid: ["1@lid"] },
      },
    })),
    text.map((t) => ({ imageMessage: { caption: t, mimetype: "image/jpeg" } })),
    text.map((t) => ({ ephemeralMessage: { message: { conversation: t } } })),
    fc.constant({ protocolMessage: { type: 0 } }),
    fc.constant({ reactionMessage: { text: "👍" } }),
    fc.constant({}),
    fc.constant(null),
    fc.object({ maxDepth: 3 }),
  );
  const message = fc.record({
    key: fc.record({
      remoteJid: jid,
      fromMe: fc.boolean(),
      id: fc.oneof(fc.string({ minLength: 1 }), fc.constant("")),
      participant: fc.option(jid, { nil: undefined }),
    }),
    message: content,
    messageStubType: fc.option(fc.integer({ min: 0, max: 200 }), { nil: undefined }),
    messageTimestamp: fc.oneof(fc.integer(), fc.constant(undefined)),
    pushName: fc.option(fc.string(), { nil: undefined }),
  });

  it("never throws, never leaves a rejection, and never answers what it must ignore", async () => {
    const { engine, sent } = offlineEngine(db, commands);
    await fc.assert(
      fc.asyncProperty(message, async (raw) => {
        const before = sent.length;
        // Arbitrary objects stand in for whatever a socket might deliver, valid or not.
        const outcome = await engine.handle(raw as unknown as WAMessage);
        const chat = raw.key.remoteJid;
        const mustIgnore =
          raw.key.fromMe ||
          chat === "status@broadcast" ||
          chat.endsWith("@newsletter") ||
          chat.endsWith("@broadcast") ||
          Boolean(raw.messageStubType);
        if (mustIgnore) {
          expect(outcome).toBe("ignored");
          expect(sent.length).toBe(before);
        }
      }),
      { numRuns: 3_000 },
    );
  });
});
