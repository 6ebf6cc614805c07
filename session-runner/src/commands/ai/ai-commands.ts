import { type CommandContext, defineCommand } from "../command.ts";

/**
 * Hands a prompt to AIProcessor (Gemini) with the bot's persona and model; the answer comes back
 * through the outbox, so a slow model never holds up the bot. One job per command message.
 */
async function ask(context: CommandContext, prompt: string): Promise<void> {
  const { services, message, settings, reply, t, command } = context;
  const queue = services.queues.ai;
  if (!queue) {
    await reply(t("ai.unavailable"));
    return;
  }
  await queue.add(
    "ai.answer",
    { ...services.bot, to: message.chat, prompt, persona: settings.ai.persona, model: settings.ai.model },
    { jobId: `${command}:${message.chat}:${message.id}`, attempts: 3, backoff: { type: "exponential", delay: 2_000 } },
  );
}

/** The text to work on: what follows the command, else the quoted message. */
const subject = ({ rest, message }: CommandContext) => rest || message.quoted?.text || "";

export const ai = defineCommand({
  name: "ai",
  aliases: ["ask", "gpt"],
  category: "ai",
  usage: "{prefix}ai <question>",
  examples: ["{prefix}ai what should I name my bakery?"],
  summary: { en: "Ask the AI anything.", id: "Tanya apa saja ke AI." },
  cooldownMs: 5_000,
  async run(context) {
    const question = subject(context);
    if (!question) {
      await context.reply(context.t("ai.needs_question", { prefix: context.prefix }));
      return;
    }
    await ask(context, question);
  },
});

export const translate = defineCommand({
  name: "translate",
  aliases: ["tr"],
  category: "ai",
  usage: "{prefix}translate <language> [text, or reply to a message]",
  examples: ["{prefix}translate english selamat pagi", "(replying) {prefix}tr indonesian"],
  summary: { en: "Translate text into a language.", id: "Terjemahkan teks ke suatu bahasa." },
  cooldownMs: 5_000,
  async run(context) {
    const [language, ...words] = context.args;
    const text = words.join(" ") || context.message.quoted?.text || "";
    if (!language) {
      await context.reply(context.t("ai.needs_language", { prefix: context.prefix }));
      return;
    }
    if (!text) {
      await context.reply(context.t("ai.needs_text", { prefix: context.prefix, command: context.command }));
      return;
    }
    await ask(context, `Translate the following text into ${language}. Reply with the translation only.\n\n${text}`);
  },
});

export const summarize = defineCommand({
  name: "summarize",
  aliases: ["summary", "ringkas"],
  category: "ai",
  usage: "{prefix}summarize (replying to a message, or followed by the text)",
  summary: { en: "Summarise a long message.", id: "Ringkas pesan yang panjang." },
  cooldownMs: 5_000,
  async run(context) {
    const text = subject(context);
    if (!text) {
      await context.reply(context.t("ai.needs_text", { prefix: context.prefix, command: context.command }));
      return;
    }
    await ask(
      context,
      `Summarise the following in a few short sentences, in the language it is written in.\n\n${text}`,
    );
  },
});

export const aiCommands = [ai, translate, summarize];
