import { ApiError, type Content, type GenerateContentResponse, type GoogleGenAI, type Part } from "@google/genai";
import { derivedId, type MediaStore, type OutboxWriter, type UsageService } from "@whatsdex/core";
import { type aiJobs, type Processors, UnrecoverableError } from "@whatsdex/core/jobs";
import type { Logger } from "pino";
import type { ChatMemory, Memory } from "../bot/chat-memory.ts";
import { translator } from "../i18n/messages.ts";

export interface AiProcessorDeps {
  genai: GoogleGenAI;
  usage: UsageService;
  outbox: OutboxWriter;
  memory: ChatMemory;
  media: MediaStore;
  logger: Logger;
  /** One Gemini request (each retry included) may take this long. */
  timeoutMs: number;
  /** Retries of 429 / 503 inside one attempt, with exponential backoff from `retryInitialDelayS`. */
  retryAttempts: number;
  retryInitialDelayS: number;
}

/** WhatsApp's practical limit for one text message. */
const MAX_REPLY = 4_096;
const MAX_SOURCES = 5;

const clip = (text: string) => (text.length > MAX_REPLY ? `${text.slice(0, MAX_REPLY - 1)}…` : text);

function instruction(persona: string, memory: Memory | undefined): string | undefined {
  const parts = [persona, memory?.summary ? `Earlier in this chat (a summary): ${memory.summary}` : ""];
  const text = parts.filter(Boolean).join("\n\n");
  return text || undefined;
}

function history(memory: Memory | undefined): Content[] {
  return (memory?.turns ?? []).flatMap((turn) => [
    { role: "user", parts: [{ text: turn.user }] },
    { role: "model", parts: [{ text: turn.model }] },
  ]);
}

/** Sources Gemini's Google Search grounding cited, each once, in order. */
function sourcesOf(response: GenerateContentResponse): Array<{ title: string; uri: string }> {
  const seen = new Set<string>();
  const sources: Array<{ title: string; uri: string }> = [];
  for (const chunk of response.candidates?.[0]?.groundingMetadata?.groundingChunks ?? []) {
    const uri = chunk.web?.uri;
    if (!uri || seen.has(uri)) continue;
    seen.add(uri);
    sources.push({ title: chunk.web?.title || uri, uri });
  }
  return sources.slice(0, MAX_SOURCES);
}

const blocked = (response: GenerateContentResponse) => {
  const finish = response.candidates?.[0]?.finishReason;
  return Boolean(response.promptFeedback?.blockReason) || finish === "SAFETY" || finish === "PROHIBITED_CONTENT";
};

/**
 * AIProcessor: asks Gemini (through @google/genai, whose own retry handles 429 and 503 with
 * backoff) and queues the answer in the bot's outbox. The tenant's daily AI calls are reserved
 * before each call; token usage is recorded after. A refusal (quota, safety) is a reply, not a
 * failure. Idempotent: an answer already queued, or already remembered, is not asked for again.
 */
export function aiProcessors(deps: AiProcessorDeps): Processors<typeof aiJobs> {
  async function generate(
    tenantId: string,
    request: { model: string; contents: Content[] | string; system?: string | undefined; search?: boolean },
  ): Promise<GenerateContentResponse> {
    let response: GenerateContentResponse;
    try {
      response = await deps.genai.models.generateContent({
        model: request.model,
        contents: request.contents,
        config: {
          ...(request.system ? { systemInstruction: request.system } : {}),
          ...(request.search ? { tools: [{ googleSearch: {} }] } : {}),
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
    return response;
  }

  /** Older exchanges → one summary, when the chat's memory has grown; best effort (the next answer tries again). */
  async function compact(bot: { tenantId: string; botId: string }, chat: string, memory: Memory, model: string) {
    if (!deps.memory.needsCompaction(memory)) return;
    const older = deps.memory.olderTurns(memory);
    if (!(await deps.usage.reserveAiCall(bot.tenantId, model)).allowed) return;
    const transcript = older.map((t) => `User: ${t.user}\nAssistant: ${t.model}`).join("\n\n");
    const response = await generate(bot.tenantId, {
      model,
      contents: [
        "Summarise this conversation for the assistant's memory. Keep names, facts, preferences, decisions",
        "and open questions; drop greetings and small talk. At most 150 words, in the conversation's language.",
        memory.summary ? `\nSummary of what came before:\n${memory.summary}` : "",
        `\nConversation:\n${transcript}`,
      ].join("\n"),
    });
    const summary = response.text?.trim();
    if (summary && !blocked(response)) await deps.memory.compact(bot, chat, older, summary);
  }

  return {
    "ai.answer": async (job) => {
      const {
        tenantId,
        botId,
        to,
        prompt,
        persona,
        model,
        language,
        memory: remember,
        speaker,
        imageMediaId,
      } = job.data;
      const bot = { tenantId, botId };
      const t = translator(language);
      const itemId = derivedId("ai", job.id);
      if (await deps.outbox.has(bot, itemId)) return { itemId, already: true };
      const reply = (text: string) =>
        deps.outbox.queueSend(bot, itemId, { to, content: { type: "text", text }, requestedBy: `job:${job.name}` });
      const done = async () => {
        if (imageMediaId) await deps.media.delete(bot, imageMediaId);
      };

      const memory = remember ? await deps.memory.read(bot, to) : undefined;
      // Answered and remembered by an earlier run that stopped before queueing the reply.
      const earlier = memory?.turns.find((turn) => turn.id === job.id);
      if (earlier) {
        await reply(clip(earlier.model));
        await done();
        return { itemId, remembered: true };
      }

      // In a remembered conversation each turn says who spoke, as the stored ones do.
      const asked = `${imageMediaId ? "[sent an image] " : ""}${prompt}`;
      const parts: Part[] = [{ text: remember && speaker ? `${speaker}: ${prompt}` : prompt }];
      if (imageMediaId) {
        const image = await deps.media.get(bot, imageMediaId);
        if (!image) throw new UnrecoverableError(`The image ${imageMediaId} is gone; nothing to ask about.`);
        parts.push({ inlineData: { mimeType: image.mimetype, data: image.data.toString("base64") } });
      }
      // The plan decides the model: a stored one it no longer has (after a downgrade) becomes its default.
      const reservation = await deps.usage.reserveAiCall(tenantId, model);
      if (!reservation.allowed) {
        await reply(t("ai.quota", { limit: reservation.limit }));
        await done();
        return { itemId, refused: "quota" };
      }
      const response = await generate(tenantId, {
        model: reservation.model,
        system: instruction(persona, memory),
        contents: [...history(memory), { role: "user", parts }],
      });
      if (blocked(response)) {
        await reply(t("ai.blocked"));
        await done();
        return { itemId, refused: "safety" };
      }
      const text = response.text?.trim();
      if (!text)
        throw new Error(`Gemini returned no text (finish reason ${response.candidates?.[0]?.finishReason ?? "none"})`);
      let remembered: Memory | undefined;
      if (remember) {
        remembered = await deps.memory.append(bot, to, {
          id: job.id,
          user: speaker ? `${speaker}: ${asked}` : asked,
          model: text,
        });
      }
      await reply(clip(text));
      await done();
      if (remembered) {
        await compact(bot, to, remembered, reservation.model).catch((error: unknown) => {
          deps.logger.warn({ err: error, job: job.id }, "could not summarise the chat's AI memory");
        });
      }
      return { itemId, tokens: response.usageMetadata?.totalTokenCount ?? 0 };
    },

    "ai.search": async (job) => {
      const { tenantId, botId, to, query, persona, model, language } = job.data;
      const bot = { tenantId, botId };
      const t = translator(language);
      const itemId = derivedId("search", job.id);
      if (await deps.outbox.has(bot, itemId)) return { itemId, already: true };
      const reply = (text: string) =>
        deps.outbox.queueSend(bot, itemId, { to, content: { type: "text", text }, requestedBy: `job:${job.name}` });
      // The plan decides the model: a stored one it no longer has (after a downgrade) becomes its default.
      const reservation = await deps.usage.reserveAiCall(tenantId, model);
      if (!reservation.allowed) {
        await reply(t("ai.quota", { limit: reservation.limit }));
        return { itemId, refused: "quota" };
      }
      const response = await generate(tenantId, {
        model: reservation.model,
        system: [persona, "Answer briefly, from the search results; say so when they do not answer the question."]
          .filter(Boolean)
          .join("\n\n"),
        contents: query,
        search: true,
      });
      if (blocked(response)) {
        await reply(t("ai.blocked"));
        return { itemId, refused: "safety" };
      }
      const text = response.text?.trim();
      if (!text)
        throw new Error(`Gemini returned no text (finish reason ${response.candidates?.[0]?.finishReason ?? "none"})`);
      const sources = sourcesOf(response);
      const cited = sources.map((source, i) => `${i + 1}. ${source.title}: ${source.uri}`).join("\n");
      const footer = sources.length > 0 ? `\n\n*${t("search.sources")}*\n${cited}` : `\n\n${t("search.no_sources")}`;
      // The sources are what make a search answer checkable: the answer is shortened, never they.
      const room = MAX_REPLY - footer.length;
      await reply(`${text.length > room ? `${text.slice(0, room - 1)}…` : text}${footer}`);
      return { itemId, sources: sources.length };
    },
  };
}
