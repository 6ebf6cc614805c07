import { ApiError, type GoogleGenAI } from "@google/genai";
import { derivedId, type OutboxWriter, type UsageService } from "@whatsdex/core";
import { type aiJobs, type Processors, UnrecoverableError } from "@whatsdex/core/jobs";
import type { Logger } from "pino";

export interface AiProcessorDeps {
  genai: GoogleGenAI;
  usage: UsageService;
  outbox: OutboxWriter;
  logger: Logger;
  /** One Gemini request (each retry included) may take this long. */
  timeoutMs: number;
  /** Retries of 429 / 503 inside one attempt, with exponential backoff from `retryInitialDelayS`. */
  retryAttempts: number;
  retryInitialDelayS: number;
}

/** WhatsApp's practical limit for one text message. */
const MAX_REPLY = 4_096;

/**
 * AIProcessor: asks Gemini (through @google/genai, whose own retry handles 429 and 503 with
 * backoff) and queues the answer in the bot's outbox. The tenant's daily AI calls are reserved
 * before each call; token usage is recorded after. A refusal (quota, safety) is a reply, not a
 * failure; an answer already queued by an earlier run is not asked for again.
 */
export function aiProcessors(deps: AiProcessorDeps): Processors<typeof aiJobs> {
  return {
    "ai.answer": async (job) => {
      const { tenantId, botId, to, prompt, persona, model } = job.data;
      const bot = { tenantId, botId };
      const itemId = derivedId("ai", job.id);
      if (await deps.outbox.has(bot, itemId)) return { itemId, already: true };
      const reply = (text: string) =>
        deps.outbox.queueSend(bot, itemId, { to, content: { type: "text", text }, requestedBy: `job:${job.name}` });

      const reservation = await deps.usage.reserveAiCall(tenantId);
      if (!reservation.allowed) {
        await reply(`Today's AI answers are used up (${reservation.limit} a day on this plan). Try again tomorrow.`);
        return { itemId, refused: "quota" };
      }
      let response: Awaited<ReturnType<GoogleGenAI["models"]["generateContent"]>>;
      try {
        response = await deps.genai.models.generateContent({
          model,
          contents: prompt,
          config: {
            ...(persona ? { systemInstruction: persona } : {}),
            httpOptions: {
              timeout: deps.timeoutMs,
              retryOptions: {
                attempts: deps.retryAttempts,
                initialDelay: deps.retryInitialDelayS,
                maxDelay: 30,
                httpStatusCodes: [429, 503],
              },
            },
          },
        });
      } catch (error) {
        // A request Gemini refuses as malformed will be refused again: do not retry it.
        if (error instanceof ApiError && error.status >= 400 && error.status < 500 && error.status !== 429) {
          throw new UnrecoverableError(`Gemini refused the request (${error.status}): ${error.message}`, {
            cause: error,
          });
        }
        throw error;
      }
      const usage = response.usageMetadata;
      await deps.usage.recordAiTokens(tenantId, {
        input: usage?.promptTokenCount ?? 0,
        output: usage?.candidatesTokenCount ?? 0,
      });
      const finish = response.candidates?.[0]?.finishReason;
      if (response.promptFeedback?.blockReason || finish === "SAFETY" || finish === "PROHIBITED_CONTENT") {
        await reply("I can't help with that one.");
        return { itemId, refused: "safety" };
      }
      const text = response.text?.trim();
      if (!text) throw new Error(`Gemini returned no text (finish reason ${finish ?? "none"})`);
      await reply(text.length > MAX_REPLY ? `${text.slice(0, MAX_REPLY - 1)}…` : text);
      return { itemId, tokens: usage?.totalTokenCount ?? 0 };
    },
  };
}
