import { randomBytes } from "node:crypto";
import { GoogleGenAI } from "@google/genai";
import { MediaStore, OutboxWriter, outboxItemPath, UsageService, usageDay, usagePath } from "@whatsdex/core";
import { aiJobs, deadLetterId, type JobDefinitions, mediaJobs, type Processors } from "@whatsdex/core/jobs";
import { testBucket, testFirebase, uniqueId, waitFor } from "@whatsdex/core/testing";
import { pino } from "pino";
import sharp from "sharp";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { ChatMemory } from "../src/bot/chat-memory.ts";
import { aiProcessors } from "../src/jobs/ai-processor.ts";
import { apologizeForFailedJobs } from "../src/jobs/apology.ts";
import { mediaProcessors } from "../src/jobs/media-processor.ts";
import { SimulatedWhatsApp } from "../src/transport/simulator/simulator.ts";
import { tenantWithBots, testSupervisor } from "./support/fleet.ts";
import { geminiBlocked, geminiRateLimited, geminiText, startGeminiServer } from "./support/gemini-server.ts";
import { testJobQueue } from "./support/jobs.ts";

const firebase = testFirebase();
const db = firebase.firestore;
const logger = pino({ level: process.env.DEBUG_JOBS ? "debug" : "silent" });
const media = new MediaStore(testBucket());
const outbox = new OutboxWriter(db);
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => firebase.close());

/** The processors behind a real BullMQ queue and worker, closed after the test. */
function worker<D extends JobDefinitions>(definitions: D, processors: Processors<D>) {
  // As the runner wires its media and AI workers: the user hears of a job that failed for good.
  const running = testJobQueue(db, definitions, processors, { onFailedForGood: apologizeForFailedJobs(outbox) });
  cleanups.push(() => running.close());
  return running.queue;
}

const item = async (tenantId: string, botId: string, id: string) =>
  (await db.doc(outboxItemPath(tenantId, botId, id)).get()).data();
const outboxItems = async (tenantId: string, botId: string) =>
  (await db.collection(`tenants/${tenantId}/bots/${botId}/outbox`).where("kind", "==", "send").get()).docs;

describe("MediaProcessor", () => {
  it("makes a sticker the bot's runner sends, once, and removes the image it came from", async () => {
    const { tenantId, botIds } = await tenantWithBots(db, 1);
    const botId = botIds[0] ?? "";
    const bot = { tenantId, botId };
    // The bot's runner, connected through the simulator, consumes the outbox.
    const whatsapp = new SimulatedWhatsApp();
    const supervisor = testSupervisor(db, { whatsapp, tenantIds: [tenantId], capacity: 1, ttlMs: 5_000 });
    supervisor.start();
    cleanups.push(() => supervisor.stop());
    const qr = await waitFor("a QR code", async () => whatsapp.liveSockets.find((s) => s.state === "qr"));
    qr.link("6281234567890");
    const open = await waitFor("an open socket", async () => whatsapp.liveSockets.find((s) => s.state === "open"));

    const photo = await sharp({ create: { width: 640, height: 480, channels: 3, background: "#3366ff" } })
      .jpeg()
      .toBuffer();
    await media.put(bot, "in-1", { mimetype: "image/jpeg", data: photo });
    const queue = await worker(mediaJobs, mediaProcessors({ media, outbox }));
    const job = { tenantId, botId, to: "123456789012@lid", inputMediaId: "in-1", pack: "Toko Ayu", author: "Ayu" };
    await queue.add("media.sticker", job, { jobId: "msg-ABC:sticker" });

    const sent = await waitFor("the sticker to be sent", async () =>
      open.sent.find((s) => s.message.message?.stickerMessage),
    );
    expect(sent.jid).toBe("123456789012@lid");
    expect(sent.message.message?.stickerMessage?.mimetype).toBe("image/webp");
    expect(sent.message.message?.stickerMessage?.isAnimated).toBeFalsy();
    const [queued] = await outboxItems(tenantId, botId);
    await waitFor("the outbox item to be done", async () =>
      (await item(tenantId, botId, queued?.id ?? ""))?.status === "done" ? true : undefined,
    );
    // The input and the sent sticker are gone from Firestore.
    await waitFor("the media to be cleaned up", async () =>
      (await db.collection(`tenants/${tenantId}/bots/${botId}/media`).get()).empty ? true : undefined,
    );

    // The same job again (a redelivery): nothing new is queued or sent.
    const processors = mediaProcessors({ media, outbox });
    const again = await processors["media.sticker"]({
      id: "msg-ABC:sticker",
      name: "media.sticker",
      data: { ...job, language: "en" },
      attemptsMade: 0,
      timestamp: Date.now(),
      opts: {},
    });
    expect(again).toMatchObject({ already: true });
    expect(await outboxItems(tenantId, botId)).toHaveLength(1);
  });

  it("answers a file that is not an image with a reply instead of a sticker", async () => {
    const { tenantId, botIds } = await tenantWithBots(db, 1);
    const botId = botIds[0] ?? "";
    await media.put({ tenantId, botId }, "in-bad", { mimetype: "image/png", data: randomBytes(2_000) });
    const queue = await worker(mediaJobs, mediaProcessors({ media, outbox }));
    await queue.add("media.sticker", {
      tenantId,
      botId,
      to: "1234567@lid",
      inputMediaId: "in-bad",
      pack: "",
      author: "",
    });
    const [reply] = await waitFor("a reply", async () => {
      const docs = await outboxItems(tenantId, botId);
      return docs.length > 0 ? docs : undefined;
    });
    expect(reply?.get("content")).toEqual({ type: "text", text: "That file is not an image I can read." });
    expect(await media.get({ tenantId, botId }, "in-bad")).toBeUndefined();
  });
});

describe("AIProcessor", () => {
  async function setup(
    script: Parameters<typeof startGeminiServer>[0],
    options: { timeoutMs?: number; plan?: "free" | "business" } = {},
  ) {
    const gemini = await startGeminiServer(script);
    cleanups.push(() => gemini.close());
    const { tenantId, botIds } = await tenantWithBots(db, 1, options.plan ?? "business");
    const botId = botIds[0] ?? "";
    const genai = new GoogleGenAI({ apiKey: "test-key", httpOptions: { baseUrl: gemini.url } });
    const queue = await worker(
      aiJobs,
      aiProcessors({
        genai,
        usage: new UsageService(db),
        outbox,
        memory: new ChatMemory(db),
        media: new MediaStore(testBucket()),
        logger,
        timeoutMs: options.timeoutMs ?? 5_000,
        retryAttempts: 3,
        retryInitialDelayS: 0.05,
      }),
    );
    const ask = (prompt: string, jobId = uniqueId("ai")) =>
      queue.add(
        "ai.answer",
        {
          tenantId,
          botId,
          to: "123456789012@lid",
          prompt,
          persona: "You are Ayu's shop assistant.",
          model: "gemini-2.5-flash",
        },
        { jobId },
      );
    const replies = () =>
      waitFor("a reply", async () => {
        const docs = await outboxItems(tenantId, botId);
        return docs.length > 0 ? docs.map((doc) => doc.get("content")) : undefined;
      });
    const usage = async () => (await db.doc(usagePath(tenantId, usageDay())).get()).data();
    return { gemini, tenantId, botId, ask, replies, usage };
  }

  it("answers through Gemini, with the persona, and records the call and its tokens", async () => {
    const t = await setup([geminiText("We open at 9.", { prompt: 12, candidates: 5 })]);
    await t.ask("When do you open?");
    expect(await t.replies()).toEqual([{ type: "text", text: "We open at 9." }]);
    expect(t.gemini.requests[0]?.path).toMatch(/^\/v1(beta)?\/models\/gemini-2.5-flash:generateContent/);
    expect(t.gemini.requests[0]?.apiKey).toBe("test-key");
    expect(JSON.stringify(t.gemini.requests[0]?.body.systemInstruction)).toContain("shop assistant");
    expect(await t.usage()).toMatchObject({ aiCalls: 1, aiInputTokens: 12, aiOutputTokens: 5 });
  });

  it("retries a 429 with backoff, then answers", async () => {
    const t = await setup([geminiRateLimited, geminiText("Yes, we deliver.")]);
    await t.ask("Do you deliver?");
    expect(await t.replies()).toEqual([{ type: "text", text: "Yes, we deliver." }]);
    expect(t.gemini.requests).toHaveLength(2);
  });

  it("replies politely when Gemini blocks the prompt", async () => {
    const t = await setup([geminiBlocked]);
    await t.ask("something harmful");
    expect(await t.replies()).toEqual([{ type: "text", text: "I can't help with that one." }]);
  });

  it("gives up on a Gemini that does not answer in time, and dead-letters the job", async () => {
    const t = await setup([{ ...geminiText("too late"), delayMs: 3_000 }], { timeoutMs: 300 });
    const jobId = uniqueId("slow");
    const { id } = await t.ask("Are you there?", jobId);
    const dead = await waitFor("the dead letter", async () => {
      const docs = (await db.collection(`tenants/${t.tenantId}/deadLetters`).get()).docs;
      return docs.find((doc) => doc.get("jobId") === id);
    });
    expect(dead.get("error.code")).toBe("attempts_exhausted");
    expect(dead.id).toBe(deadLetterId(dead.get("queue"), `${t.tenantId}/${t.botId}`, id));
    // No answer, but the user is not left waiting in silence: one apology, in the bot's language.
    expect(await t.replies()).toEqual([
      { type: "text", text: "Sorry, I could not finish that request. Please try again later." },
    ]);
  });

  it("apologises once per failed job, in the bot's language, however often the failure is reported", async () => {
    const { tenantId, botIds } = await tenantWithBots(db, 1);
    const botId = botIds[0] ?? "";
    const apologize = apologizeForFailedJobs(outbox);
    const failed = {
      queue: "media",
      id: "sticker:123456789012@lid:3EB0AA",
      name: "media.sticker",
      data: { tenantId, botId, to: "123456789012@lid", language: "id" },
      code: "attempts_exhausted",
    };
    await apologize(failed);
    await apologize(failed);
    // Nothing says whom to tell: nothing is sent.
    await apologize({ ...failed, id: "other", data: { tenantId, botId } });
    const items = await outboxItems(tenantId, botId);
    expect(items.map((doc) => doc.get("content"))).toEqual([
      { type: "text", text: "Maaf, permintaan itu tidak bisa saya selesaikan. Silakan coba lagi nanti." },
    ]);
    expect(items[0]?.get("to")).toBe("123456789012@lid");
  });

  it("refuses once the plan's daily AI calls are used, without calling Gemini", async () => {
    const t = await setup([geminiText("never")], { plan: "free" });
    await db.doc(usagePath(t.tenantId, usageDay())).set({ day: usageDay(), aiCalls: 50 });
    await t.ask("one more?");
    const [reply] = await t.replies();
    expect(reply?.text).toMatch(/used up \(50 a day/);
    expect(t.gemini.requests).toHaveLength(0);
  });
});
