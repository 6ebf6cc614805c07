import { auditEntryDocSchema } from "@whatsdex/core";
import { testFirebase } from "@whatsdex/core/testing";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { CommandRegistry } from "../src/commands/command.ts";
import { infoCommands } from "../src/commands/info/info-commands.ts";
import { banCommands } from "../src/commands/owner/ban-commands.ts";
import { ownerCommands } from "../src/commands/owner/owner-commands.ts";
import { linkedBot, type Speaker } from "./support/linked-bot.ts";

const firebase = testFirebase();
const db = firebase.firestore;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => firebase.close());

const commands = new CommandRegistry([...infoCommands, ...banCommands, ...ownerCommands]);
const OWNER: Speaker = { lid: "200000000021@lid", pn: "6281200000021@s.whatsapp.net", name: "Owner" };
const USER: Speaker = { lid: "200000000022@lid", pn: "6281200000022@s.whatsapp.net", name: "User" };

describe("owner commands from WhatsApp are audited", () => {
  it("ban and unban each write one audit entry with the owner's person id, never their number", async () => {
    const bot = await linkedBot(db, {
      commands,
      defaultSpeaker: OWNER,
      cleanups,
      settings: { owners: ["6281200000021"] },
    });
    // The bot learns both of the user's ids from a message of theirs.
    bot.say(".ping", { from: USER });
    await bot.reply(0);
    bot.say(".ban @200000000022", { mentions: [USER.lid] });
    expect(await bot.reply(1)).toMatch(/is banned/);
    bot.say(".unban @200000000022", { mentions: [USER.lid] });
    expect(await bot.reply(2)).toMatch(/can use the bot again/);

    const snapshot = await db.collection(`tenants/${bot.tenantId}/audit`).orderBy("createdAt").get();
    const entries = snapshot.docs
      .map((doc) => auditEntryDocSchema.parse(doc.data()))
      .filter((entry) => entry.action.startsWith("person."));
    expect(entries.map((e) => [e.action, e.target, e.before, e.after])).toEqual([
      ["person.banned", "person:lid:200000000022", { banned: false }, { banned: true }],
      ["person.unbanned", "person:lid:200000000022", { banned: true }, { banned: false }],
    ]);
    for (const entry of entries) {
      expect(entry).toMatchObject({ actor: { kind: "whatsapp" }, botId: bot.botId, requestId: null });
      expect(entry.actor.id).toMatch(/^(lid|pn):\d+$/);
      expect(JSON.stringify(entry)).not.toContain("6281200000021");
    }
  });

  it("setprefix and mode each write one audit entry of the changed settings, with the owner as actor", async () => {
    const bot = await linkedBot(db, {
      commands,
      defaultSpeaker: OWNER,
      cleanups,
      settings: { owners: ["6281200000021"] },
    });
    bot.say(".setprefix ! .");
    expect(await bot.reply(0)).toMatch(/!/);
    bot.say("!mode group");
    expect(await bot.reply(1)).toBe("Mode is now group.");

    const snapshot = await db.collection(`tenants/${bot.tenantId}/audit`).orderBy("createdAt").get();
    const entries = snapshot.docs
      .map((doc) => auditEntryDocSchema.parse(doc.data()))
      .filter((entry) => entry.action === "bot.settings_changed");
    expect(entries.map((e) => [e.target, e.before, e.after])).toEqual([
      [`bot:${bot.botId}`, { "settings.prefixes": [".", "!", "/"] }, { "settings.prefixes": ["!", "."] }],
      [`bot:${bot.botId}`, { "settings.mode": "public" }, { "settings.mode": "group" }],
    ]);
    for (const entry of entries) {
      expect(entry).toMatchObject({ actor: { kind: "whatsapp" }, botId: bot.botId, requestId: null });
      expect(JSON.stringify(entry)).not.toContain("6281200000021");
    }
  });
});
