import { type BotSettings, defaultBotSettings } from "@whatsdex/core";
import { manualClock, testFirebase } from "@whatsdex/core/testing";
import { afterAll, describe, expect, it } from "vitest";
import { CommandRegistry, defineCommand } from "../src/commands/command.ts";
import { infoCommands } from "../src/commands/info/info-commands.ts";
import { SenderCaps } from "../src/commands/sender-caps.ts";
import { offlineEngine } from "./support/offline-engine.ts";

const firebase = testFirebase();
afterAll(() => firebase.close());

const limits = { commandsPerSenderPerDay: 3, aiPerSenderPerDay: 1 };

describe("SenderCaps", () => {
  it("counts commands and AI commands per sender, tells each cap once, and starts over on the next UTC day", () => {
    const clock = manualClock(Date.parse("2026-12-01T23:00:00Z"));
    const caps = new SenderCaps({ now: clock.now });
    expect(caps.take("lid:1", true, limits)).toBeUndefined();
    expect(caps.take("lid:1", true, limits)).toEqual({ cap: "ai", limit: 1, tell: true });
    expect(caps.take("lid:1", true, limits)).toEqual({ cap: "ai", limit: 1, tell: false });
    // A refused AI command took nothing from the sender's commands.
    expect(caps.take("lid:1", false, limits)).toBeUndefined();
    expect(caps.take("lid:1", false, limits)).toBeUndefined();
    expect(caps.take("lid:1", false, limits)).toEqual({ cap: "commands", limit: 3, tell: true });
    expect(caps.take("lid:1", false, limits)).toEqual({ cap: "commands", limit: 3, tell: false });
    // Someone else has their own counts.
    expect(caps.take("lid:2", true, limits)).toBeUndefined();
    clock.advance(60 * 60 * 1000);
    expect(caps.take("lid:1", true, limits)).toBeUndefined();
  });

  it("remembers at most maxSenders senders, forgetting the longest known first", () => {
    const caps = new SenderCaps({ now: manualClock().now, maxSenders: 100 });
    const one = { commandsPerSenderPerDay: 1, aiPerSenderPerDay: 1 };
    for (let i = 0; i < 1_000; i++) {
      caps.take(`lid:${i}`, false, one);
      expect(caps.size).toBeLessThanOrEqual(100);
    }
    // Forgotten a sixteenth at a time: never fewer than the last 94.
    expect(caps.size).toBeGreaterThanOrEqual(94);
    // The most recent ones are still capped; the first ones were forgotten.
    expect(caps.take("lid:999", false, one)?.cap).toBe("commands");
    expect(caps.take("lid:0", false, one)).toBeUndefined();
  });
});

describe("per-sender caps in the command engine", () => {
  const STRANGER = "200000000031@lid";
  const OTHER = "200000000032@lid";
  const OWNER = "200000000033@lid";

  /** The engine alone on a manual clock: replies are recorded with the chat they went to. */
  function engine(settings: BotSettings) {
    const clock = manualClock(Date.parse("2026-12-01T10:00:00Z"));
    // An AI command that needs no backend: what is capped is the category, not Gemini.
    const ask = defineCommand({
      name: "ask",
      category: "ai",
      usage: "{prefix}ask",
      summary: { en: "Ask.", id: "Tanya." },
      cooldownMs: 0,
      run: (context) => context.reply("answer"),
    });
    const { say: handle, sent } = offlineEngine(firebase.firestore, new CommandRegistry([...infoCommands, ask]), {
      settings,
      // Token buckets out of the way: what is under test is the daily cap.
      limits: { user: { capacity: 1_000, refillPerSecond: 1 }, chat: { capacity: 1_000, refillPerSecond: 1 } },
      now: clock.now,
    });
    const say = (from: string, text: string): Promise<string> => {
      // Past every command's cooldown.
      clock.advance(10_000);
      return handle(text, from);
    };
    return { say, sent, clock };
  }

  it("answers a stranger up to the bot's daily cap, tells them once, then stays silent; others are unaffected", async () => {
    const bot = engine({ ...defaultBotSettings, owners: [OWNER], limits });
    expect(await bot.say(STRANGER, ".about")).toBe("ok");
    expect(await bot.say(STRANGER, ".ask hi")).toBe("ok");
    expect(await bot.say(STRANGER, ".ask again")).toBe("quota");
    expect(await bot.say(STRANGER, ".ask and again")).toBe("quota");
    expect(await bot.say(STRANGER, ".ping")).toBe("ok");
    expect(await bot.say(STRANGER, ".about")).toBe("quota");
    expect(await bot.say(STRANGER, ".about")).toBe("quota");
    expect(await bot.say(STRANGER, ".ping")).toBe("quota");
    expect(bot.sent.filter((s) => s.chat === STRANGER).map((s) => s.text)).toEqual([
      expect.stringMatching(/^WhatsDeX test/),
      "answer",
      "You have used your 1 AI questions for today on this bot. Try again tomorrow.",
      expect.stringMatching(/^Pong!/),
      "You have used your 3 commands for today on this bot. Try again tomorrow.",
    ]);
    expect(await bot.say(OTHER, ".ask hi")).toBe("ok");
    // Owners are never capped.
    for (let i = 0; i < 5; i++) expect(await bot.say(OWNER, ".ask hi")).toBe("ok");
    // The next UTC day starts afresh.
    bot.clock.advance(24 * 60 * 60 * 1000);
    expect(await bot.say(STRANGER, ".ask hi")).toBe("ok");
  });

  it("refuses in the bot's language", async () => {
    const bot = engine({ ...defaultBotSettings, language: "id", limits: { ...limits, aiPerSenderPerDay: 0 } });
    expect(await bot.say(STRANGER, ".ask hi")).toBe("quota");
    expect(bot.sent.map((s) => s.text)).toEqual([
      "Kamu sudah memakai 0 pertanyaan AI untuk hari ini di bot ini. Coba lagi besok.",
    ]);
  });

  it("defaults cap a stranger well below the free plan's messages and AI calls", () => {
    const { commandsPerSenderPerDay, aiPerSenderPerDay } = defaultBotSettings.limits;
    expect(commandsPerSenderPerDay).toBeLessThan(250);
    expect(aiPerSenderPerDay).toBeLessThan(50);
  });
});
