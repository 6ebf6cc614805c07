import { LRUCache } from "lru-cache";
import { type CommandRegistry, categories, defineCommand } from "../command.ts";

export function formatDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const parts: Array<[number, string]> = [
    [Math.floor(seconds / 86_400), "d"],
    [Math.floor((seconds % 86_400) / 3_600), "h"],
    [Math.floor((seconds % 3_600) / 60), "m"],
    [seconds % 60, "s"],
  ];
  const shown = parts.filter(([value], index) => value > 0 || index === parts.length - 1);
  return shown.map(([value, unit]) => `${value}${unit}`).join(" ");
}

export const ping = defineCommand({
  name: "ping",
  category: "info",
  usage: "{prefix}ping",
  summary: { en: "Check that the bot answers, and how fast.", id: "Cek bot merespons, dan seberapa cepat." },
  cooldownMs: 1_000,
  async run({ reply, t, now, receivedAt }) {
    await reply(t("info.pong", { ms: Math.max(0, now() - receivedAt) }));
  },
});

export const uptime = defineCommand({
  name: "uptime",
  aliases: ["runtime"],
  category: "info",
  usage: "{prefix}uptime",
  summary: { en: "How long the bot has been connected.", id: "Berapa lama bot sudah aktif." },
  async run({ reply, t, now, startedAt }) {
    await reply(t("info.uptime", { duration: formatDuration(now() - startedAt) }));
  },
});

export const about = defineCommand({
  name: "about",
  aliases: ["info"],
  category: "info",
  usage: "{prefix}about",
  summary: { en: "What this bot is.", id: "Tentang bot ini." },
  async run({ reply, t, version, prefix }) {
    await reply(t("info.about", { version, prefix }));
  },
});

/** Rendered menus by registry (one per runner), then by language, prefix and disabled commands. */
const menus = new WeakMap<CommandRegistry, LRUCache<string, string>>();

export const menu = defineCommand({
  name: "menu",
  aliases: ["commands", "list"],
  category: "info",
  usage: "{prefix}menu",
  summary: { en: "Every command, by category.", id: "Semua perintah, per kategori." },
  async run({ reply, t, prefix, commands, settings, language }) {
    // The registry (with what its runner lacks) and the catalog never change: one rendering per
    // language, prefix and disabled set.
    const key = `${language}|${prefix}|${settings.disabledCommands.join(",")}`;
    let rendered = menus.get(commands)?.get(key);
    if (rendered === undefined) {
      const disabled = new Set(settings.disabledCommands);
      const sections = categories.flatMap((category) => {
        const shown = commands
          .inCategory(category)
          .filter((command) => !disabled.has(command.name) && commands.available(command));
        if (shown.length === 0) return [];
        const lines = shown.map((command) => `• ${prefix}${command.name}: ${command.summary[language]}`);
        return [[`*${t(`category.${category}`)}*`, ...lines].join("\n")];
      });
      rendered = [t("menu.title", { prefix }), ...sections, t("menu.footer", { prefix })].join("\n\n");
      const cache = menus.get(commands) ?? new LRUCache<string, string>({ max: 256 });
      cache.set(key, rendered);
      menus.set(commands, cache);
    }
    await reply(rendered);
  },
});

export const help = defineCommand({
  name: "help",
  category: "info",
  usage: "{prefix}help <command>",
  examples: ["{prefix}help sticker"],
  summary: { en: "How to use one command.", id: "Cara memakai satu perintah." },
  // A lookup in memory: the rate limits are protection enough.
  cooldownMs: 0,
  async run(context) {
    const { reply, t, prefix, commands, args, language } = context;
    const name = args[0]?.replace(/^[^\p{L}\p{N}]+/u, "");
    if (!name) {
      await menu.run(context);
      return;
    }
    const command = commands.find(name);
    if (!command) {
      await reply(t("refuse.unknown", { command: name, prefix }));
      return;
    }
    const fill = (text: string) => text.replaceAll("{prefix}", prefix);
    const lines = [
      `*${prefix}${command.name}*: ${command.summary[language]}`,
      t("help.usage", { usage: fill(command.usage) }),
    ];
    if (command.aliases.length > 0)
      lines.push(t("help.aliases", { aliases: command.aliases.map((a) => prefix + a).join(", ") }));
    if (command.examples.length > 0) lines.push(t("help.examples"), ...command.examples.map((e) => `  ${fill(e)}`));
    await reply(lines.join("\n"));
  },
});

export const infoCommands = [menu, help, ping, uptime, about];
