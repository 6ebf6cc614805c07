import { GoogleGenAI } from "@google/genai";
import { defaultBotSettings, MediaStore, OutboxWriter, UsageService } from "@whatsdex/core";
import { aiJobs } from "@whatsdex/core/jobs";
import { testBucket, testFirebase, waitFor } from "@whatsdex/core/testing";
import type { proto } from "baileys";
import { pino } from "pino";
import sharp from "sharp";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { ChatMemory, type MemoryLimits } from "../src/bot/chat-memory.ts";
import { aiCommands } from "../src/commands/ai/ai-commands.ts";
import { CommandRegistry } from "../src/commands/command.ts";
import { searchCommands } from "../src/commands/search/search-commands.ts";
import { aiProcessors } from "../src/jobs/ai-processor.ts";
import { type WikiProvider, wikipedia } from "../src/search/wiki-provider.ts";
import { SimulatedWhatsApp } from "../src/transport/simulator/simulator.ts";
import { tenantWithBots, testSupervisor } from "./support/fleet.ts";
import { type GeminiReply, geminiGrounded, geminiText, startGeminiServer } from "./support/gemini-server.ts";
import { testJobQueue } from "./support/jobs.ts";
import { startWikipediaServer } from "./support/wikipedia-server.ts";

const firebase = testFirebase();
const db = firebase.firestore;
const logger = pino({ level: "silent" });
const GROUP = "120363000000000055@g.us";
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => firebase.close());

/** A linked bot whose AI commands reach a local Gemini through the real AIProcessor on BullMQ. */
async function aiBot(
  options: { script?: GeminiReply[]; memory?: Partial<MemoryLimits>; wiki?: WikiProvider; tenantName?: string } = {},
) {
  const gemini = await startGeminiServer(options.script ?? [geminiText("We open at 9.")]);
  const jobs = testJobQueue(
    db,
    aiJobs,
    aiProcessors({
      genai: new GoogleGenAI({ apiKey: "k", httpOptions: { baseUrl: gemini.url } }),
      usage: new UsageService(db),
      outbox: new OutboxWriter(db),
      memory: new ChatMemory(db, options.memory),
      media: new MediaStore(testBucket()),
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
  whatsapp.addGroup({
    id: GROUP,
    subject: "Kitchen",
    owner: undefined,
    participants: [1, 2, 3].map((user) => ({ id: `20000000020${user}@lid`, admin: null })),
  });
  const supervisor = testSupervisor(db, {
    whatsapp,
    tenantIds: [tenantId],
    commands: new CommandRegistry([...aiCommands, ...searchCommands]),
    queues: { ai: jobs.queue },
    ...(options.wiki ? { wiki: options.wiki } : {}),
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
  /** Someone in the group writes: the group's conversation is one memory, whoever speaks. */
  const sayInGroup = (user: number, message: proto.IMessage, name = `User ${user}`) => {
    n += 1;
    return socket.deliver({
      key: { remoteJid: GROUP, participant: `20000000020${user}@lid`, id: `G${n}`, fromMe: false },
      message,
      pushName: name,
    });
  };
  const reply = (index: number) =>
    waitFor(`reply ${index}`, async () => {
      const sent = socket.sent[index]?.message.message;
      return sent ? (sent.extendedTextMessage?.text ?? sent.conversation ?? "") : undefined;
    });
  return { gemini, say, sayInGroup, reply, tenantId, botId: botIds[0] ?? "", socket, whatsapp };
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

describe("AI memory", () => {
  const memoryDocs = (bot: { tenantId: string; botId: string }) =>
    db.collection(`tenants/${bot.tenantId}/bots/${bot.botId}/aiMemory`).get();

  it("remembers a group's conversation, who said what, and forgets it on .clear", async () => {
    const bot = await aiBot({ script: [geminiText("Nice to meet you, Ayu."), geminiText("You are Ayu.")] });
    bot.sayInGroup(1, { conversation: ".ai my name is Ayu" }, "Ayu");
    expect(await bot.reply(0)).toBe("Nice to meet you, Ayu.");
    bot.sayInGroup(2, { conversation: ".ai what is her name?" }, "Budi");
    expect(await bot.reply(1)).toBe("You are Ayu.");
    expect(bot.gemini.requests[1]?.body.contents).toEqual([
      { role: "user", parts: [{ text: "Ayu: my name is Ayu" }] },
      { role: "model", parts: [{ text: "Nice to meet you, Ayu." }] },
      { role: "user", parts: [{ text: "Budi: what is her name?" }] },
    ]);
    const [memory] = (await memoryDocs(bot)).docs;
    expect(memory?.get("turns")).toHaveLength(2);

    bot.sayInGroup(3, { conversation: ".clear" });
    expect(await bot.reply(2)).toBe("Done: I have forgotten our conversation in this chat.");
    expect((await memoryDocs(bot)).size).toBe(0);
    bot.sayInGroup(1, { conversation: ".forget" });
    expect(await bot.reply(3)).toBe("There was nothing to forget in this chat.");
    // Translations and summaries are one-offs: not remembered.
    bot.sayInGroup(2, { conversation: ".tr english selamat pagi" });
    await bot.reply(4);
    expect((await memoryDocs(bot)).size).toBe(0);
  });

  it("summarises older exchanges once the memory grows, and answers from the summary after", async () => {
    const bot = await aiBot({
      memory: { keep: 1, compactAfterTurns: 2 },
      script: [
        geminiText("Noted: Ayu."),
        geminiText("Noted: nasi goreng."),
        geminiText("Noted: Bandung."),
        geminiText("Ayu likes nasi goreng and lives in Bandung."),
        geminiText("Bandung."),
      ],
    });
    const asks = ["my name is Ayu", "I like nasi goreng", "I live in Bandung"];
    for (const [i, question] of asks.entries()) {
      bot.sayInGroup(i + 1, { conversation: `.ai ${question}` });
      await bot.reply(i);
    }
    // The third answer made the memory too long: the 4th request summarised the first two exchanges.
    await waitFor("the summary", async () => {
      const [doc] = (await memoryDocs(bot)).docs;
      return doc?.get("summary") ? doc : undefined;
    });
    expect(JSON.stringify(bot.gemini.requests[3]?.body.contents)).toContain("Summarise this conversation");
    const [doc] = (await memoryDocs(bot)).docs;
    expect(doc?.get("summary")).toBe("Ayu likes nasi goreng and lives in Bandung.");
    expect(doc?.get("turns").map((t: { model: string }) => t.model)).toEqual(["Noted: Bandung."]);

    bot.sayInGroup(4, { conversation: ".ai where do I live?" });
    expect(await bot.reply(3)).toBe("Bandung.");
    const last = bot.gemini.requests[4]?.body;
    expect(JSON.stringify(last?.systemInstruction)).toContain("Ayu likes nasi goreng and lives in Bandung.");
    expect(last?.contents).toHaveLength(3);
    // Every call, summaries included, counts against the plan.
    const usage = await db.collection(`tenants/${bot.tenantId}/usage`).get();
    expect(usage.docs[0]?.get("aiCalls")).toBe(5);
  });

  it("never shares memory between two tenants' bots in the same group", async () => {
    const first = await aiBot({ script: [geminiText("Secret noted.")] });
    const second = await aiBot({ script: [geminiText("I know nothing.")] });
    first.sayInGroup(1, { conversation: ".ai the code is 4711" });
    await first.reply(0);
    second.sayInGroup(1, { conversation: ".ai what is the code?" });
    expect(await second.reply(0)).toBe("I know nothing.");
    expect(second.gemini.requests[0]?.body.contents).toEqual([
      { role: "user", parts: [{ text: "User 1: what is the code?" }] },
    ]);
  });

  it("answers about an image it is sent or that is quoted, and lets go of the image after", async () => {
    const bot = await aiBot({ script: [geminiText("A red square.")] });
    const image = await sharp({ create: { width: 8, height: 8, channels: 3, background: "red" } })
      .png()
      .toBuffer();
    const photo = bot.socket.deliverImage(
      { remoteJid: GROUP, participant: "200000000201@lid", id: "IMG1", fromMe: false },
      image,
      {
        caption: ".ai what is this?",
        mimetype: "image/png",
      },
    );
    expect(await bot.reply(0)).toBe("A red square.");
    const [turn] = (bot.gemini.requests[0]?.body.contents ?? []) as Array<{ parts: unknown[] }>;
    expect(turn?.parts).toEqual([
      { text: "what is this?" },
      { inlineData: { mimeType: "image/png", data: image.toString("base64") } },
    ]);
    await waitFor("the image to be deleted", async () =>
      (await testBucket().getFiles({ prefix: `transit/${bot.tenantId}/${bot.botId}/` }))[0].length === 0
        ? true
        : undefined,
    );

    // Replying to the image with just ".ai": the bot is asked to describe it.
    bot.sayInGroup(2, {
      extendedTextMessage: {
        text: ".ai",
        contextInfo: {
          stanzaId: "IMG1",
          participant: "200000000201@lid",
          quotedMessage: { imageMessage: photo.message?.imageMessage ?? null },
        },
      },
    });
    await bot.reply(1);
    const asked = ((bot.gemini.requests[1]?.body.contents ?? []) as Array<{ parts: Array<{ text?: string }> }>).at(-1);
    expect(asked?.parts[0]?.text).toBe("User 2: Describe this image.");
    expect(asked?.parts).toHaveLength(2);
  });
});

describe("search and wiki", () => {
  it("answers .search with Google-grounded Gemini and lists its sources", async () => {
    const bot = await aiBot({
      script: [
        geminiGrounded("Toko Ayu opens at 9.", [
          { title: "Toko Ayu", uri: "https://tokoayu.example/hours" },
          { title: "Toko Ayu", uri: "https://tokoayu.example/hours" },
          { title: "Maps", uri: "https://maps.example/toko-ayu" },
        ]),
        geminiText("No idea."),
      ],
    });
    bot.say({ conversation: ".search" });
    expect(await bot.reply(0)).toBe("What should I look up? .search <question>");
    bot.say({ conversation: ".search when does toko ayu open" });
    expect(await bot.reply(1)).toBe(
      "Toko Ayu opens at 9.\n\n*Sources*\n1. Toko Ayu: https://tokoayu.example/hours\n2. Maps: https://maps.example/toko-ayu",
    );
    expect(bot.gemini.requests[0]?.body).toMatchObject({ tools: [{ googleSearch: {} }] });
    bot.say({ conversation: ".cari something obscure" });
    expect(await bot.reply(2)).toBe("No idea.\n\n(No sources were found for this answer.)");
  });

  it("answers .wiki from Wikipedia in the bot's language, and says when it cannot", async () => {
    const server = await startWikipediaServer({
      en: {
        Borobudur: { title: "Borobudur", extract: "Borobudur is a Mahayana Buddhist temple in Central Java." },
        Java_disambiguation: { title: "Java (disambiguation)", extract: "Java may refer to:", type: "disambiguation" },
      },
      id: { Borobudur: { title: "Borobudur", extract: "Borobudur adalah candi Buddha di Jawa Tengah." } },
    });
    cleanups.push(() => server.close());
    const wiki = wikipedia({ urlTemplate: server.urlTemplate, timeoutMs: 2_000, userAgent: "WhatsDeX/test" });
    const bot = await aiBot({ wiki });
    bot.say({ conversation: ".wiki" });
    expect(await bot.reply(0)).toBe("Which topic? .wiki <topic>");
    bot.say({ conversation: ".wiki borobudur" });
    expect(await bot.reply(1)).toBe(
      "*Borobudur*\nBorobudur is a Mahayana Buddhist temple in Central Java.\n\nhttps://en.wikipedia.org/wiki/Borobudur",
    );
    expect(server.requests[0]?.userAgent).toBe("WhatsDeX/test");
    bot.say({ conversation: ".wiki java" });
    expect(await bot.reply(2)).toBe("Java (disambiguation) can mean several things; be more specific.");
    bot.say({ conversation: ".wiki atlantis" });
    expect(await bot.reply(3)).toBe("Wikipedia has no article about atlantis.");
    server.state.down = true;
    bot.say({ conversation: ".wiki borobudur" });
    expect(await bot.reply(4)).toBe("Wikipedia is not answering right now; try again in a moment.");
    server.state.down = false;
    await db.doc(`tenants/${bot.tenantId}/bots/${bot.botId}`).update({ "settings.language": "id" });
    await waitFor("the Indonesian article", async () => {
      const before = bot.socket.sent.length;
      bot.say({ conversation: ".wikipedia borobudur" });
      const text = await bot.reply(before);
      return text.includes("candi Buddha") ? text : undefined;
    });
  });
});
