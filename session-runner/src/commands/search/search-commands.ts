import { WikiUnavailableError } from "../../search/wiki-provider.ts";
import { defineCommand } from "../command.ts";

/** A WhatsApp message shows about this much before "Read more"; a lead paragraph fits. */
const MAX_EXTRACT = 1_500;

export const search = defineCommand({
  name: "search",
  needs: ["gemini"],
  aliases: ["google", "cari"],
  category: "search",
  usage: "{prefix}search <question>",
  examples: ["{prefix}search who won the 2026 world cup?"],
  summary: {
    en: "Answer from a Google search, with sources.",
    id: "Jawaban dari pencarian Google, dengan sumbernya.",
  },
  cooldownMs: 10_000,
  async run({ services, message, settings, rest, reply, t, prefix, typing }) {
    const query = rest || message.quoted?.text || "";
    if (!query) return reply(t("search.needs_query", { prefix }));
    const queue = services.queues.ai;
    if (!queue) return reply(t("ai.unavailable"));
    await typing();
    await queue.add(
      "ai.search",
      {
        ...services.bot,
        to: message.chat,
        query: query.slice(0, 1_000),
        persona: settings.ai.persona,
        model: settings.ai.model,
        language: settings.language,
      },
      { jobId: `search:${message.chat}:${message.id}`, attempts: 3, backoff: { type: "exponential", delay: 2_000 } },
    );
  },
});

export const wiki = defineCommand({
  name: "wiki",
  aliases: ["wikipedia"],
  category: "search",
  usage: "{prefix}wiki <topic>",
  examples: ["{prefix}wiki borobudur"],
  summary: { en: "The Wikipedia summary of a topic.", id: "Ringkasan Wikipedia tentang suatu topik." },
  cooldownMs: 5_000,
  async run({ services, rest, reply, t, prefix, language }) {
    const topic = rest.slice(0, 300);
    if (!topic) return reply(t("wiki.needs_topic", { prefix }));
    let result: Awaited<ReturnType<typeof services.wiki.lookup>>;
    try {
      result = await services.wiki.lookup(topic, language);
    } catch (error) {
      if (!(error instanceof WikiUnavailableError)) throw error;
      return reply(t("wiki.unavailable"));
    }
    if ("missing" in result) return reply(t("wiki.not_found", { topic }));
    if ("ambiguous" in result) return reply(t("wiki.ambiguous", { topic: result.ambiguous }));
    const { title, extract, url } = result.found;
    const lead = extract.length > MAX_EXTRACT ? `${extract.slice(0, MAX_EXTRACT - 1)}…` : extract;
    await reply(`*${title}*\n${lead}\n\n${url}`);
  },
});

export const searchCommands = [search, wiki];
