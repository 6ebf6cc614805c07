import { type BotSettings, defaultBotSettings } from "@whatsdex/core";
import { testFirebase } from "@whatsdex/core/testing";
import { afterAll, describe, expect, it } from "vitest";
import { aiCommands } from "../src/commands/ai/ai-commands.ts";
import { type Backend, CommandRegistry } from "../src/commands/command.ts";
import { infoCommands } from "../src/commands/info/info-commands.ts";
import { searchCommands } from "../src/commands/search/search-commands.ts";
import { offlineEngine } from "./support/offline-engine.ts";

const firebase = testFirebase();
afterAll(() => firebase.close());

/** An engine on a runner lacking `unavailable`. */
function engineWithout(unavailable: Backend[], settings: BotSettings = defaultBotSettings) {
  const commands = new CommandRegistry([...infoCommands, ...aiCommands, ...searchCommands], { unavailable });
  return offlineEngine(firebase.firestore, commands, { settings });
}

describe("a runner without Gemini", () => {
  it("answers .ai, .translate, .summarize and .search as unavailable, in the bot's language, and queues nothing", async () => {
    const bot = engineWithout(["gemini"]);
    // Different senders: each refusal is told once per person, and cooldowns are per person.
    expect(await bot.say(".ai hello", "200000000001@lid")).toBe("unavailable");
    expect(await bot.say(".translate english pagi", "200000000002@lid")).toBe("unavailable");
    expect(await bot.say(".summarize a long text", "200000000003@lid")).toBe("unavailable");
    expect(await bot.say(".search bakeries", "200000000004@lid")).toBe("unavailable");
    expect(bot.texts()).toEqual([
      ".ai is not available on this bot right now.",
      ".translate is not available on this bot right now.",
      ".summarize is not available on this bot right now.",
      ".search is not available on this bot right now.",
    ]);

    const indonesian = engineWithout(["gemini"], { ...defaultBotSettings, language: "id" });
    await indonesian.say(".ai halo");
    expect(indonesian.texts()).toEqual([".ai sedang tidak tersedia di bot ini."]);
  });

  it("leaves those commands out of .menu, and keeps the ones that need nothing", async () => {
    const without = engineWithout(["gemini"]);
    await without.say(".menu");
    const menu = without.texts()[0] ?? "";
    for (const missing of [".ai:", ".translate:", ".summarize:", ".search:"]) expect(menu).not.toContain(missing);
    for (const kept of [".ping:", ".clear:", ".wiki:"]) expect(menu).toContain(kept);

    const withGemini = engineWithout([]);
    await withGemini.say(".menu");
    expect(withGemini.texts()[0]).toContain(".ai:");
  });
});
