import { derivedId } from "@whatsdex/core";
import type { aiJobs } from "@whatsdex/core/jobs";
import type { z } from "zod";
import { type CommandContext, defineCommand } from "../command.ts";
import { quotedRaw } from "../inbound-message.ts";
import { downloadOrTell } from "../maker/media-input.ts";

type AnswerJob = z.input<(typeof aiJobs)["ai.answer"]>;

/**
 * Hands a prompt to AIProcessor (Gemini) with the bot's persona and model; the answer comes back
 * through the outbox, so a slow model never holds up the bot. One job per command message, named
 * after it, so a redelivered message asks once.
 */
async function ask(
  context: CommandContext,
  prompt: string,
  extra: Pick<AnswerJob, "memory" | "speaker" | "imageMediaId"> = {},
): Promise<void> {
  const { services, message, settings, reply, t, command, typing } = context;
  const queue = services.queues.ai;
  if (!queue) return reply(t("ai.unavailable"));
  await typing();
  await queue.add(
    "ai.answer",
    {
      ...services.bot,
      to: message.chat,
      prompt,
      persona: settings.ai.persona,
      model: settings.ai.model,
      language: settings.language,
      ...extra,
    },
    { jobId: `${command}:${message.chat}:${message.id}`, attempts: 3, backoff: { type: "exponential", delay: 2_000 } },
  );
}

/** The text to work on: what follows the command, else the quoted message. */
const subject = ({ rest, message }: CommandContext) => rest || message.quoted?.text || "";

/** The image the question is about: the message's own, or the one it replies to. */
function imageOf({ message, raw }: CommandContext) {
  if (message.media?.kind === "image") return { source: raw, mimetype: message.media.mimetype };
  if (message.quoted?.media?.kind === "image")
    return { source: quotedRaw(raw), mimetype: message.quoted.media.mimetype };
  return undefined;
}

export const ai = defineCommand({
  name: "ai",
  needs: ["gemini"],
  aliases: ["ask", "gpt"],
  category: "ai",
  usage: "{prefix}ai <question> (also as an image's caption, or replying to an image)",
  examples: ["{prefix}ai what should I name my bakery?", "(replying to a photo) {prefix}ai what plant is this?"],
  summary: {
    en: "Ask the AI anything, also about an image; it remembers this chat until cleared.",
    id: "Tanya apa saja ke AI, juga tentang gambar; ia mengingat chat ini sampai dihapus.",
  },
  cooldownMs: 5_000,
  async run(context) {
    const { services, message, t, prefix, reply } = context;
    const image = imageOf(context);
    // With an image, only the words typed with the command are the question (a quoted caption is not).
    const question = image ? context.rest || t("ai.describe_image") : subject(context);
    if (!question) return reply(t("ai.needs_question", { prefix }));
    const extra = { memory: true, ...(message.pushName ? { speaker: message.pushName } : {}) };
    if (!image?.source) return ask(context, question, extra);
    if (!services.queues.ai) return reply(t("ai.unavailable"));
    const data = await downloadOrTell(context, image.source);
    if (!data) return;
    const imageMediaId = derivedId("in", `ai:${message.chat}:${message.id}`);
    await services.media.put(services.bot, imageMediaId, { mimetype: image.mimetype ?? "image/jpeg", data });
    await ask(context, question, { ...extra, imageMediaId });
  },
});

export const clear = defineCommand({
  name: "clear",
  aliases: ["forget", "reset"],
  category: "ai",
  usage: "{prefix}clear",
  summary: { en: "Make the AI forget this chat.", id: "Buat AI melupakan chat ini." },
  cooldownMs: 5_000,
  async run({ services, message, reply, t }) {
    const forgot = await services.aiMemory.clear(services.bot, message.chat);
    await reply(t(forgot ? "ai.cleared" : "ai.nothing_to_clear"));
  },
});

export const translate = defineCommand({
  name: "translate",
  needs: ["gemini"],
  aliases: ["tr"],
  category: "ai",
  usage: "{prefix}translate <language> [text, or reply to a message]",
  examples: ["{prefix}translate english selamat pagi", "(replying) {prefix}tr indonesian"],
  summary: { en: "Translate text into a language.", id: "Terjemahkan teks ke suatu bahasa." },
  cooldownMs: 5_000,
  async run(context) {
    const [language, ...words] = context.args;
    const text = words.join(" ") || context.message.quoted?.text || "";
    if (!language) return context.reply(context.t("ai.needs_language", { prefix: context.prefix }));
    if (!text) return context.reply(context.t("ai.needs_text", { prefix: context.prefix, command: context.command }));
    await ask(context, `Translate the following text into ${language}. Reply with the translation only.\n\n${text}`);
  },
});

export const summarize = defineCommand({
  name: "summarize",
  needs: ["gemini"],
  aliases: ["summary", "ringkas"],
  category: "ai",
  usage: "{prefix}summarize (replying to a message, or followed by the text)",
  summary: { en: "Summarise a long message.", id: "Ringkas pesan yang panjang." },
  cooldownMs: 5_000,
  async run(context) {
    const text = subject(context);
    if (!text) return context.reply(context.t("ai.needs_text", { prefix: context.prefix, command: context.command }));
    await ask(
      context,
      `Summarise the following in a few short sentences, in the language it is written in.\n\n${text}`,
    );
  },
});

export const aiCommands = [ai, clear, translate, summarize];
