import { MessageStore } from "@whatsdex/core";
import { testFirebase, waitFor } from "@whatsdex/core/testing";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { CommandRegistry } from "../src/commands/command.ts";
import { infoCommands } from "../src/commands/info/info-commands.ts";
import { linkedBot } from "./support/linked-bot.ts";

const firebase = testFirebase();
const db = firebase.firestore;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => firebase.close());

const commands = new CommandRegistry(infoCommands);
const USER = { lid: "200000000077@lid", pn: "6281200000077@s.whatsapp.net", name: "Sari" };
const store = new MessageStore(db);

describe("the bot's message store", () => {
  it("keeps what the bot received and what it answered, per chat, when the bot's settings ask for it", async () => {
    const bot = await linkedBot(db, {
      commands,
      defaultSpeaker: USER,
      settings: { messageStore: { enabled: true, retentionDays: 7 } },
      cleanups,
    });
    const asked = bot.say(".ping");
    await bot.reply(0);
    const answer = bot.socket.sent[0]?.message;
    const messages = await waitFor("two stored messages", async () => {
      const page = await store.listMessages(bot, USER.lid, { limit: 10 });
      return page.items.length >= 2 ? page.items.map((m) => m.data) : undefined;
    });
    const received = messages.find((m) => m.direction === "in");
    const sent = messages.find((m) => m.direction === "out");
    expect(received).toMatchObject({
      messageId: asked.key.id,
      from: { lid: USER.lid, pn: USER.pn, name: USER.name },
      content: { type: "text", text: ".ping" },
    });
    expect(sent).toMatchObject({ messageId: answer?.key.id, from: null, content: { type: "text" } });
    expect(sent?.content.type === "text" && sent.content.text).toMatch(/^Pong!/);
    // Retention is the bot's: deleted by the TTL policy 7 days after it was sent.
    const ttl = (received?.expiresAt.toMillis() ?? 0) - (received?.createdAt.toMillis() ?? 0);
    expect(ttl).toBe(7 * 86_400_000);
    const chats = await store.listChats(bot, { limit: 10 });
    expect(chats.items.map((c) => c.data.jid)).toEqual([USER.lid]);
  });

  it("keeps nothing while the store is off (the default)", async () => {
    const bot = await linkedBot(db, { commands, defaultSpeaker: USER, cleanups });
    await bot.settle(() => bot.say(".ping"));
    await bot.settle(() => bot.say(".ping"));
    const chats = await db.collection(`tenants/${bot.tenantId}/bots/${bot.botId}/chats`).get();
    expect(chats.size).toBe(0);
  });
});
