import { OutboxWriter } from "@whatsdex/core";
import { testFirebase, waitFor } from "@whatsdex/core/testing";
import { generateMessageIDV2, type WAMessage } from "baileys";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { CommandRegistry } from "../src/commands/command.ts";
import { infoCommands } from "../src/commands/info/info-commands.ts";
import { ownerCommands } from "../src/commands/owner/owner-commands.ts";
import { isPlatformMessageId, platformMessageId } from "../src/transport/platform-message-id.ts";
import { linkedBot } from "./support/linked-bot.ts";

const firebase = testFirebase();
const db = firebase.firestore;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => firebase.close());

const commands = new CommandRegistry([...infoCommands, ...ownerCommands]);
const USER = { lid: "200000000031@lid", pn: "6281200000031@s.whatsapp.net", name: "Ayu" };
/** Bot A's account as bot B sees it: bot B's owner, so B would obey A's commands. */
const BOT_A = { lid: "290000000001@lid", pn: "6289900000001@s.whatsapp.net", name: "Bot A" };

describe("messages between bots on the platform", () => {
  it("marks every message a bot sends, replies and outbox sends alike", async () => {
    const a = await linkedBot(db, { commands, defaultSpeaker: USER, cleanups });
    a.say(".ping");
    await a.reply(0);
    // A platform-made text that reads like a command, queued as jobs and the API queue theirs.
    await new OutboxWriter(db).queueSend({ tenantId: a.tenantId, botId: a.botId }, "generated-1", {
      to: USER.lid,
      content: { type: "text", text: ".mode self" },
      requestedBy: "job:ai.answer",
    });
    await a.reply(1);
    const ids = a.socket.sent.map((sent) => sent.message.key.id);
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(isPlatformMessageId(id)).toBe(true);
  });

  it("never takes another platform bot's message as a command, even from an owner", async () => {
    const b = await linkedBot(db, {
      commands,
      defaultSpeaker: USER,
      settings: { owners: ["6289900000001"] },
      cleanups,
    });
    const fromBotA = (text: string, id: string): WAMessage =>
      b.socket.deliver({
        key: { remoteJid: BOT_A.lid, remoteJidAlt: BOT_A.pn, id, fromMe: false },
        message: { conversation: text },
        messageTimestamp: Math.floor(Date.now() / 1000),
        pushName: BOT_A.name,
      });

    fromBotA(".mode self", platformMessageId());
    await b.settle(() => b.say(".ping"));
    expect(b.replies()).toHaveLength(1);
    expect(b.replies()[0]).toMatch(/^Pong!/);
    expect((await db.doc(`tenants/${b.tenantId}/bots/${b.botId}`).get()).get("settings.mode")).toBe("public");

    // The same owner typing on an ordinary WhatsApp client is obeyed: the mark is what made the difference.
    const sentBefore = b.socket.sent.length;
    fromBotA(".mode self", generateMessageIDV2(BOT_A.pn));
    expect(await b.reply(sentBefore)).toBe("Mode is now self.");
    await waitFor("the mode to be stored", async () =>
      (await db.doc(`tenants/${b.tenantId}/bots/${b.botId}`).get()).get("settings.mode") === "self" ? true : undefined,
    );
  });

  it("tells its own ids from ordinary ones", () => {
    const ours = platformMessageId();
    expect(ours).toMatch(/^3EB0[0-9A-F]{36}$/);
    expect(isPlatformMessageId(ours)).toBe(true);
    // One hex digit changed in the random part or the tag: not ours.
    const flipped = `${ours.slice(0, 10)}${ours[10] === "A" ? "B" : "A"}${ours.slice(11)}`;
    expect(isPlatformMessageId(flipped)).toBe(false);
    for (const other of [generateMessageIDV2(), `3EB0${"0".repeat(36)}`, "ABCDEF", "", null, undefined]) {
      expect(isPlatformMessageId(other)).toBe(false);
    }
  });
});
