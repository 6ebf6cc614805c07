import { UsageService, usageDay, usagePath } from "@whatsdex/core";
import { testFirebase } from "@whatsdex/core/testing";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { MessageAllowance } from "../src/bot/message-allowance.ts";
import { CommandRegistry } from "../src/commands/command.ts";
import { infoCommands } from "../src/commands/info/info-commands.ts";
import { tenantWithBots } from "./support/fleet.ts";
import { linkedBot } from "./support/linked-bot.ts";

const firebase = testFirebase();
const db = firebase.firestore;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => firebase.close());

const messagesUsed = async (tenantId: string) =>
  Number((await db.doc(usagePath(tenantId, usageDay())).get()).get("messages") ?? 0);

describe("messages per day", () => {
  it("instances drawing from one tenant's allowance at once never grant more than the plan's limit", async () => {
    // Free plan: 250 messages a day, shared by every bot and instance of the tenant.
    const { tenantId } = await tenantWithBots(db, 0, "free");
    const usage = new UsageService(db);
    const instances = [7, 20, 33].map((block) => new MessageAllowance({ usage, tenantId, block }));
    // Each instance asks more often than the whole allowance, so none is left holding an unspent block.
    const takes = await Promise.all(Array.from({ length: 750 }, (_, i) => instances[i % 3]?.take()));
    expect(takes.filter(Boolean)).toHaveLength(250);
    expect(await messagesUsed(tenantId)).toBe(250);
    expect(await instances[0]?.take()).toBe(false);
  });

  it("starts afresh on a new UTC day", async () => {
    const { tenantId } = await tenantWithBots(db, 0, "free");
    let now = Date.parse("2026-12-01T23:59:59Z");
    const usage = new UsageService(db, { now: () => now });
    const allowance = new MessageAllowance({ usage, tenantId, block: 250, now: () => now });
    let granted = 0;
    while (await allowance.take()) granted += 1;
    expect(granted).toBe(250);
    now += 2_000;
    expect(await allowance.take()).toBe(true);
    // Blocks on the new day start at an eighth of its allowance.
    expect((await db.doc(usagePath(tenantId, "2026-12-02")).get()).get("messages")).toBe(32);
  });

  it("a bot whose tenant used up today's messages says so instead of answering", async () => {
    const speaker = { lid: "200000000041@lid", pn: "6281200000041@s.whatsapp.net", name: "Eka" };
    const bot = await linkedBot(db, {
      commands: new CommandRegistry(infoCommands),
      defaultSpeaker: speaker,
      cleanups,
      beforeStart: async ({ tenantId }) => {
        await db.doc(`tenants/${tenantId}`).update({ plan: "free" });
        await db.doc(usagePath(tenantId, usageDay())).set({ day: usageDay(), messages: 249 });
      },
    });
    bot.say(".ping");
    expect(await bot.reply(0)).toMatch(/^Pong!/);
    bot.say(".about");
    expect(await bot.reply(1)).toBe(
      "This bot has sent all of today's messages (250 a day on its plan). Try again tomorrow.",
    );
    expect(await messagesUsed(bot.tenantId)).toBe(250);
  });
});
