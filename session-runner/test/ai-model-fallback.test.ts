import { GoogleGenAI } from "@google/genai";
import { MediaStore, OutboxWriter, UsageService } from "@whatsdex/core";
import { aiJobs } from "@whatsdex/core/jobs";
import { testBucket, testFirebase, waitFor } from "@whatsdex/core/testing";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { ChatMemory } from "../src/bot/chat-memory.ts";
import { aiProcessors } from "../src/jobs/ai-processor.ts";
import { tenantWithBots } from "./support/fleet.ts";
import { geminiText, startGeminiServer } from "./support/gemini-server.ts";
import { testJobQueue } from "./support/jobs.ts";

const firebase = testFirebase();
const db = firebase.firestore;
afterAll(() => firebase.close());

describe("the AI model a bot asks", () => {
  it("is the bot's own while the plan has it, and the plan's default once it does not (after a downgrade)", async () => {
    const gemini = await startGeminiServer([geminiText("Hi.")]);
    const jobs = testJobQueue(
      db,
      aiJobs,
      aiProcessors({
        genai: new GoogleGenAI({ apiKey: "k", httpOptions: { baseUrl: gemini.url } }),
        usage: new UsageService(db),
        outbox: new OutboxWriter(db),
        memory: new ChatMemory(db),
        media: new MediaStore(testBucket()),
        logger: pino({ level: "silent" }),
        timeoutMs: 5_000,
        retryAttempts: 1,
        retryInitialDelayS: 0.05,
      }),
    );
    try {
      const { tenantId, botIds } = await tenantWithBots(db, 1, "business");
      const botId = botIds[0] ?? "";
      // What a bot's settings say once the plan changed under them: the stored model is kept.
      const ask = (jobId: string, kind: "ai.answer" | "ai.search") =>
        kind === "ai.answer"
          ? jobs.queue.add(
              kind,
              { tenantId, botId, to: "200000000051@lid", prompt: "hi", persona: "", model: "gemini-2.5-pro" },
              { jobId },
            )
          : jobs.queue.add(
              kind,
              { tenantId, botId, to: "200000000051@lid", query: "hi", persona: "", model: "gemini-2.5-pro" },
              { jobId },
            );
      const modelAsked = async (n: number) => {
        const request = await waitFor(`Gemini request ${n}`, async () => gemini.requests[n]);
        return /\/models\/([^/:]+):generateContent/.exec(request.path)?.[1];
      };

      await ask("pro-1", "ai.answer");
      expect(await modelAsked(0)).toBe("gemini-2.5-pro");

      await db.doc(`tenants/${tenantId}`).update({ plan: "free" });
      await ask("pro-2", "ai.answer");
      expect(await modelAsked(1)).toBe("gemini-2.5-flash");
      await ask("pro-3", "ai.search");
      expect(await modelAsked(2)).toBe("gemini-2.5-flash");
    } finally {
      await jobs.close();
      await gemini.close();
    }
  });
});
