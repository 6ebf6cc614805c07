import { GoogleGenAI } from "@google/genai";
import { defaultBotSettings, OutboxWriter, UsageService } from "@whatsdex/core";
import { aiJobs } from "@whatsdex/core/jobs";
import { testFirebase, waitFor } from "@whatsdex/core/testing";
import type { proto } from "baileys";
import { pino } from "pino";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { aiCommands } from "../src/commands/ai/ai-commands.ts";
import { CommandRegistry } from "../src/commands/command.ts";
import { aiProcessors } from "../src/jobs/ai-processor.ts";
import { SimulatedWhatsApp } from "../src/transport/simulator.ts";
import { tenantWithBots, testSupervisor } from "./support/fleet.ts";
import { geminiText, startGeminiServer } from "./support/gemini-server.ts";
import { testJobQueue } from "./support/jobs.ts";

const firebase = testFirebase();
const db = firebase.firestore;
const logger = pino({ level: "silent" });
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => firebase.close());

/** A linked bot whose AI commands reach a local Gemini through the real AIProcessor on BullMQ. */
async function aiBot() {
  const gemini = await startGeminiServer([geminiText("We open at 9.")]);
  const jobs = testJobQueue(
    db,
    aiJobs,
    aiProcessors({
      genai: new GoogleGenAI({ apiKey: "k", httpOptions: { baseUrl: gemini.url } }),
      usage: new UsageService(db),
      outbox: new OutboxWriter(db),
      logger,
      timeoutMs: 5_000,
      retryAttempts: 1,
      retryInitialDelayS: 0.05,
    }),
  );
  const { tenantId, botIds } = await tenantWithBots(db, 1);
  await db.doc(`tenants/${tenantId}/bots/${botIds[0]}`).update({
    settings: {
      ...defaultBotSettings,
      ai: { persona: "You are the assistant of Toko Ayu.", model: "gemini-2.5-flash" },
    },
  });
  const whatsapp = new SimulatedWhatsApp();
  const supervisor = testSupervisor(db, {
    whatsapp,
    tenantIds: [tenantId],
    commands: new CommandRegistry(aiCommands),
    queues: { ai: jobs.queue },
  });
  supervisor.start();
  cleanups.push(async () => {
    await supervisor.stop();
    await jobs.close();
    await gemini.close();
  });
  (await waitFor("a QR code", async () => whatsapp.liveSockets.find((s) => s.state === "qr"))).link("6281234567890");
  const socket = await waitFor("an open socket", async () => whatsapp.liveSockets.find((s) => s.state === "open"));
  let n = 0;
  const say = (message: proto.IMessage) => {
    n += 1;
    // Each message from another user: AI commands have a cooldown per user.
    socket.deliver({
      key: { remoteJid: `2000000001${String(n).padStart(2, "0")}@lid`, id: `AI${n}`, fromMe: false },
      message,
    });
  };
  const reply = (index: number) =>
    waitFor(`reply ${index}`, async () => {
      const sent = socket.sent[index]?.message.message;
      return sent ? (sent.extendedTextMessage?.text ?? sent.conversation ?? "") : undefined;
    });
  return { gemini, say, reply };
}

describe("AI commands", () => {
  it("answers .ai with Gemini, using the bot's persona", async () => {
    const bot = await aiBot();
    bot.say({ conversation: ".ai when do you open?" });
    expect(await bot.reply(0)).toBe("We open at 9.");
    const request = JSON.stringify(bot.gemini.requests[0]?.body);
    expect(request).toContain("when do you open?");
    expect(request).toContain("You are the assistant of Toko Ayu.");
  });

  it("translates and summarises the text given or quoted, and says what is missing", async () => {
    const bot = await aiBot();
    bot.say({ conversation: ".ai" });
    expect(await bot.reply(0)).toBe("Ask me something: .ai <your question>.");
    bot.say({ conversation: ".tr" });
    expect(await bot.reply(1)).toBe(
      "Which language? .translate <language> <text>, e.g. .translate english selamat pagi.",
    );
    bot.say({ conversation: ".summarize" });
    expect(await bot.reply(2)).toBe("Reply to a message with .summarize, or write the text after it.");
    expect(bot.gemini.requests).toHaveLength(0);

    bot.say({ conversation: ".translate english selamat pagi" });
    await bot.reply(3);
    expect(JSON.stringify(bot.gemini.requests[0]?.body)).toContain("into english");
    expect(JSON.stringify(bot.gemini.requests[0]?.body)).toContain("selamat pagi");
    bot.say({
      extendedTextMessage: {
        text: ".ringkas",
        contextInfo: {
          stanzaId: "Q1",
          participant: "1@lid",
          quotedMessage: { conversation: "A very long story about bread." },
        },
      },
    });
    await bot.reply(4);
    expect(JSON.stringify(bot.gemini.requests[1]?.body)).toContain("A very long story about bread.");
  });
});
