import { testFirebase, waitFor } from "@whatsdex/core/testing";
import type { GroupMetadata } from "baileys";
import { Timestamp } from "firebase-admin/firestore";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { CommandRegistry } from "../src/commands/command.ts";
import { antilink } from "../src/commands/group/antilink.ts";
import { groupCommands } from "../src/commands/group/group-commands.ts";
import { participantCommands } from "../src/commands/group/participant-commands.ts";
import { welcome } from "../src/commands/group/welcome.ts";
import { infoCommands } from "../src/commands/info/info-commands.ts";
import { banCommands } from "../src/commands/owner/ban-commands.ts";
import { BOT_LID, BOT_PN, linkedBot, type Speaker } from "./support/linked-bot.ts";

const firebase = testFirebase();
const db = firebase.firestore;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => firebase.close());

const commands = new CommandRegistry([
  ...infoCommands,
  ...participantCommands,
  ...groupCommands,
  welcome,
  antilink,
  ...banCommands,
]);

const person = (n: number, name: string): Speaker => ({
  lid: `2000000000${n}@lid`,
  pn: `62812000000${n}@s.whatsapp.net`,
  name,
});
const ADMIN = person(11, "Ayu");
const MEMBER = person(12, "Budi");
const CREATOR = person(13, "Citra");
const OUTSIDER = person(14, "Dewi");
const GROUP = "120363000000000091@g.us";
/** A group where the bot is only a member. */
const PLAIN_GROUP = "120363000000000092@g.us";

function groups(): GroupMetadata[] {
  const entry = (p: Speaker, admin: "admin" | "superadmin" | null) => ({ id: p.lid, phoneNumber: p.pn, admin });
  return [
    {
      id: GROUP,
      subject: "Shop",
      owner: CREATOR.lid,
      participants: [
        { id: BOT_LID, phoneNumber: BOT_PN, admin: "admin" },
        entry(ADMIN, "admin"),
        entry(MEMBER, null),
        entry(CREATOR, "superadmin"),
      ],
    },
    {
      id: PLAIN_GROUP,
      subject: "Neighbours",
      owner: CREATOR.lid,
      participants: [{ id: BOT_LID, phoneNumber: BOT_PN, admin: null }, entry(ADMIN, "admin"), entry(MEMBER, null)],
    },
  ];
}

const groupBot = (settings: { owners?: string[] } = {}) =>
  linkedBot(db, { commands, groups: groups(), defaultSpeaker: ADMIN, cleanups, settings });

const inGroup = { chat: GROUP };
const memberIds = (bot: Awaited<ReturnType<typeof groupBot>>, jid = GROUP) =>
  bot.whatsapp.group(jid)?.participants.map((p) => p.id);

describe("group admin commands", () => {
  it("kick removes a mentioned member and says so with a mention; WhatsApp's group changes", async () => {
    const bot = await groupBot();
    bot.say(".kick @200000000012", { ...inGroup, mentions: [MEMBER.lid] });
    expect(await bot.reply(0)).toBe("Removed @200000000012.");
    expect(bot.socket.sent[0]?.message.message?.extendedTextMessage?.contextInfo?.mentionedJid).toEqual([MEMBER.lid]);
    expect(memberIds(bot)).not.toContain(MEMBER.lid);
    // The group event reached the cache: kicking them again is answered from it.
    const queries = bot.whatsapp.groupMetadataQueries;
    bot.say(".kick", { ...inGroup, from: CREATOR, mentions: [MEMBER.lid] });
    expect(await bot.reply(1)).toBe("@200000000012 is not in this group.");
    expect(bot.whatsapp.groupMetadataQueries).toBe(queries);
  });

  it("refuses members, a bot that is not admin, private chats, missing targets, itself and the creator", async () => {
    const bot = await groupBot();
    bot.say(".kick", { ...inGroup, from: MEMBER, mentions: [ADMIN.lid] });
    expect(await bot.reply(0)).toBe("Only group admins can use .kick.");
    bot.say(".promote", { chat: PLAIN_GROUP, mentions: [MEMBER.lid] });
    expect(await bot.reply(1)).toBe("Make me a group admin first: .promote needs it.");
    bot.say(".kick");
    expect(await bot.reply(2)).toBe(".kick works in groups only.");
    bot.say(".demote", inGroup);
    expect(await bot.reply(3)).toBe("Who? Mention them, reply to their message, or give their number: .demote @user");
    bot.say(".kick", { ...inGroup, from: CREATOR, mentions: [BOT_LID] });
    expect(await bot.reply(4)).toBe("I cannot use .kick on myself.");
    bot.say(".demote", { ...inGroup, from: CREATOR, mentions: [CREATOR.lid] });
    expect(await bot.reply(5)).toBe("@200000000013 created the group; that cannot be changed.");
    expect(memberIds(bot)).toHaveLength(4);
  });

  it("add takes numbers and reports each one's answer: added, already in, invitation only", async () => {
    const bot = await groupBot();
    bot.whatsapp.inviteOnly.add("6281299999998");
    bot.say(".add +62 812-9999-9999 6281299999998 6281200000012", inGroup);
    expect(await bot.reply(0)).toBe(
      [
        "Added @6281299999999.",
        "@6281299999998 only joins by invitation: send them the group link (.link).",
        "@6281200000012 is already in the group.",
      ].join("\n"),
    );
    expect(memberIds(bot)).toContain("6281299999999@s.whatsapp.net");
  });

  it("promote and demote the author of a quoted message", async () => {
    const bot = await groupBot();
    const theirs = bot.say("hello", { ...inGroup, from: MEMBER });
    bot.say(".promote", { ...inGroup, quoted: theirs });
    expect(await bot.reply(0)).toBe("@200000000012 can now manage the group.");
    expect(bot.whatsapp.group(GROUP)?.participants.find((p) => p.id === MEMBER.lid)?.admin).toBe("admin");
    // Now an admin, they may use admin commands (the cached metadata followed the event).
    bot.say(".demote", { ...inGroup, from: MEMBER, mentions: [ADMIN.lid] });
    expect(await bot.reply(1)).toBe("@200000000011 no longer manage the group.");
  });

  it("tagall lists and mentions everyone; hidetag notifies everyone without quoting or listing", async () => {
    const bot = await groupBot();
    bot.say(".tagall stock take at 5", inGroup);
    expect(await bot.reply(0)).toBe(
      "stock take at 5\n\n• @567890628123456\n• @200000000011\n• @200000000012\n• @200000000013",
    );
    bot.say(".hidetag", inGroup);
    expect(await bot.reply(1)).toBe("Write the message: .hidetag <message>, or reply to one with .hidetag.");
    bot.say(".hidetag closed tomorrow", { ...inGroup, from: CREATOR });
    expect(await bot.reply(2)).toBe("closed tomorrow");
    const context = bot.socket.sent[2]?.message.message?.extendedTextMessage?.contextInfo;
    expect(context?.mentionedJid).toEqual([BOT_LID, ADMIN.lid, MEMBER.lid, CREATOR.lid]);
    expect(context?.stanzaId).toBeFalsy();
    bot.say(".tagall", { ...inGroup, from: MEMBER });
    expect(await bot.reply(3)).toBe("Only group admins can use .tagall.");
  });

  it("link shows the invite link, revoke replaces it", async () => {
    const bot = await groupBot();
    bot.say(".link", inGroup);
    const first = await bot.reply(0);
    expect(first).toMatch(/^Invite link for Shop: https:\/\/chat\.whatsapp\.com\/[\w-]{22}$/);
    bot.say(".revoke", inGroup);
    const second = await bot.reply(1);
    expect(second).toMatch(
      /^The old invite link no longer works\. New link: https:\/\/chat\.whatsapp\.com\/[\w-]{22}$/,
    );
    expect(second?.slice(-22)).not.toBe(first?.slice(-22));
    bot.say(".link", { chat: PLAIN_GROUP });
    expect(await bot.reply(2)).toBe("Make me a group admin first: .link needs it.");
  });

  it("setname and setdesc change the group, within WhatsApp's limits", async () => {
    const bot = await groupBot();
    bot.say(".setname Toko Ayu <&> updates", inGroup);
    expect(await bot.reply(0)).toBe("The group is now called Toko Ayu <&> updates.");
    expect(bot.whatsapp.group(GROUP)?.subject).toBe("Toko Ayu <&> updates");
    bot.say(`.setname ${"x".repeat(101)}`, { ...inGroup, from: CREATOR });
    expect(await bot.reply(1)).toBe("Give the new name, at most 100 characters: .setname <name>");
    bot.say(".setdesc", inGroup);
    expect(await bot.reply(2)).toBe("Give the new description, at most 2048 characters: .setdesc <text>");
    bot.say(".setdesc Open 9-17", { ...inGroup, from: CREATOR });
    expect(await bot.reply(3)).toBe("The group description is updated.");
    expect(bot.whatsapp.group(GROUP)?.desc).toBe("Open 9-17");
  });
});

describe("welcome", () => {
  it("greets people who join with the group's template, and stops when switched off", async () => {
    const bot = await groupBot();
    bot.say(".welcome maybe", inGroup);
    expect(await bot.reply(0)).toBe(".welcome on [message with {user} and {group}], or .welcome off");
    bot.say(".welcome on Hi {user}, this is {group}. Prices in the description.", inGroup);
    expect(await bot.reply(1)).toBe(
      "New members will be greeted like this:\nHi @200000000011, this is Shop. Prices in the description.",
    );
    bot.socket.changeParticipants(GROUP, [{ id: OUTSIDER.lid, phoneNumber: OUTSIDER.pn }], "add");
    expect(await bot.reply(2)).toBe("Hi @200000000014, this is Shop. Prices in the description.");
    expect(bot.socket.sent[2]?.message.message?.extendedTextMessage?.contextInfo?.mentionedJid).toEqual([OUTSIDER.lid]);
    const stored = await db.doc(`tenants/${bot.tenantId}/bots/${bot.botId}/groups/120363000000000091`).get();
    expect(stored.get("welcome")).toEqual({
      enabled: true,
      template: "Hi {user}, this is {group}. Prices in the description.",
    });

    bot.say(".welcome off", inGroup);
    expect(await bot.reply(3)).toBe("New members will not be greeted.");
    bot.socket.changeParticipants(GROUP, [{ id: "200000000015@lid" }], "add");
    await bot.settle(() => bot.say(".ping", inGroup));
    expect(bot.replies(4)).toHaveLength(1);
  });
});

describe("antilink", () => {
  it("deletes group links from members, warns, and removes them at the limit; admins are exempt", async () => {
    const bot = await groupBot();
    bot.say(".antilink on 11", inGroup);
    expect(await bot.reply(0)).toBe(".antilink on [warnings before removal, 1-10], or .antilink off");
    bot.say(".antilink on 2", inGroup);
    expect(await bot.reply(1)).toBe(
      "Links to other groups and channels will be deleted; after 2 warnings the sender is removed.",
    );

    const spam = bot.say("join us https://chat.whatsapp.com/AbCdEfGhIjKlMnOpQrStUv", { ...inGroup, from: MEMBER });
    await waitFor("the warning", async () => (bot.socket.sent.length >= 4 ? true : undefined));
    const revoke = bot.socket.sent[2]?.message.message?.protocolMessage;
    expect(revoke?.type).toBe(0); // REVOKE
    expect(revoke?.key?.id).toBe(spam.key.id);
    expect(revoke?.key?.participant).toBe(MEMBER.lid);
    expect(bot.replies(3)).toEqual(["@200000000012, links to other groups are not allowed here (warning 1 of 2)."]);

    // An admin's link stays.
    bot.say("our other group: chat.whatsapp.com/ZyXwVuTsRqPoNmLk", inGroup);
    await bot.settle(() => bot.say(".ping", inGroup));
    expect(bot.socket.sent[4]?.message.message?.protocolMessage).toBeFalsy();

    bot.say("again whatsapp.com/channel/0029VaAbCdEfGhIjKl", { ...inGroup, from: MEMBER });
    await waitFor("the removal", async () => (memberIds(bot)?.includes(MEMBER.lid) ? undefined : true));
    await waitFor("the notice", async () =>
      bot.replies().includes("@200000000012 was removed for posting links to other groups.") ? true : undefined,
    );
    const stored = await db.doc(`tenants/${bot.tenantId}/bots/${bot.botId}/groups/120363000000000091`).get();
    expect(stored.get("warnings")).toEqual({});
  });
});

describe("ban and unban", () => {
  it("an owner bans a user by number or mention: the bot ignores them until unbanned", async () => {
    const bot = await groupBot({ owners: ["6281200000011"] });
    bot.say(".ban 6281200000012", inGroup);
    expect(await bot.reply(0)).toBe("@6281200000012 is banned: I will not answer them.");
    const bans = await db.collection(`tenants/${bot.tenantId}/bots/${bot.botId}/bans`).get();
    // The bot had not seen them yet: banned by number.
    expect(bans.docs.map((d) => d.id)).toEqual(["pn:6281200000012"]);

    // Their messages arrive from their LID, with the number alongside: the ban holds.
    bot.say(".ping", { ...inGroup, from: MEMBER });
    await bot.settle(() => bot.say(".ping", inGroup));
    expect(bot.replies(1)).toHaveLength(1);
    bot.say(".ban @200000000012", { ...inGroup, mentions: [MEMBER.lid] });
    expect(await bot.reply(2)).toBe("@200000000012 is banned already.");
    bot.say(".ban @200000000011", { ...inGroup, mentions: [ADMIN.lid] });
    expect(await bot.reply(3)).toBe("@200000000011 owns this bot and cannot be banned.");
    bot.say(".unban", { ...inGroup, from: MEMBER, mentions: [MEMBER.lid] });
    bot.say(".unban", { ...inGroup, mentions: [MEMBER.lid] });
    expect(await bot.reply(4)).toBe("@200000000012 can use the bot again.");
    bot.say(".ping", { ...inGroup, from: MEMBER });
    expect(await bot.reply(5)).toMatch(/^Pong!/);
  });

  it("refuses anyone but the owners, and holds bans stored before the bot started", async () => {
    const bot = await linkedBot(db, {
      commands,
      groups: groups(),
      defaultSpeaker: ADMIN,
      cleanups,
      beforeStart: async ({ tenantId, botId }) => {
        await db.doc(`tenants/${tenantId}/bots/${botId}/bans/pn:6281200000012`).set({
          lid: null,
          pn: MEMBER.pn,
          bannedBy: "lid:200000000011",
          createdAt: Timestamp.now(),
        });
      },
    });
    bot.say(".ban 6281200000013", inGroup);
    expect(await bot.reply(0)).toBe("Only this bot's owners can use .ban.");
    // Known to the bot by their number only, they write from their LID with the number alongside.
    bot.say(".ping", { ...inGroup, from: MEMBER });
    await bot.settle(() => bot.say(".ping", inGroup));
    expect(bot.replies(1)).toHaveLength(1);
  });
});
