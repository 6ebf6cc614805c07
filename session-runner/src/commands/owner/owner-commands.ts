import { ValidationError } from "@whatsdex/core";
import { defineCommand } from "../command.ts";
import { formatDuration } from "../info/info-commands.ts";

const MODES = ["public", "self", "group"] as const;
const isMode = (value: string | undefined): value is (typeof MODES)[number] => MODES.some((mode) => mode === value);

export const setprefix = defineCommand({
  name: "setprefix",
  category: "owner",
  usage: "{prefix}setprefix <prefix> [more prefixes]",
  examples: ["{prefix}setprefix !", "{prefix}setprefix . # /"],
  summary: { en: "Change the bot's command prefixes.", id: "Ganti awalan perintah bot." },
  access: "owner",
  // Owners are trusted; the rate limits still apply.
  cooldownMs: 0,
  async run({ args, services, reply, t, prefix, sender }) {
    if (args.length === 0) {
      await reply(t("owner.prefix_invalid", { prefix }));
      return;
    }
    try {
      const settings = await services.updateSettings({ prefixes: [...new Set(args)] }, sender);
      await reply(t("owner.prefix_set", { prefixes: settings.prefixes.join(" ") }));
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      await reply(t("owner.prefix_invalid", { prefix }));
    }
  },
});

export const mode = defineCommand({
  name: "mode",
  category: "owner",
  usage: "{prefix}mode public|self|group",
  examples: ["{prefix}mode self"],
  summary: { en: "Who the bot answers: everyone, its owners, or groups.", id: "Siapa yang dijawab bot." },
  access: "owner",
  // Owners are trusted; the rate limits still apply.
  cooldownMs: 0,
  async run({ args, services, reply, t, prefix, sender }) {
    const wanted = args[0]?.toLowerCase();
    if (!isMode(wanted)) {
      await reply(t("owner.mode_invalid", { prefix }));
      return;
    }
    await services.updateSettings({ mode: wanted }, sender);
    await reply(t("owner.mode_set", { mode: wanted }));
  },
});

export const stats = defineCommand({
  name: "stats",
  category: "owner",
  usage: "{prefix}stats",
  summary: { en: "How the bot has been used since it connected.", id: "Pemakaian bot sejak terhubung." },
  access: "owner",
  // Owners are trusted; the rate limits still apply.
  cooldownMs: 0,
  async run({ services, reply, t, now, startedAt }) {
    const counts = services.stats();
    const refused = Object.entries(counts)
      .filter(([outcome]) => outcome !== "ok" && outcome !== "error")
      .reduce((sum, [, count]) => sum + count, 0);
    await reply(
      t("owner.stats", {
        since: formatDuration(now() - startedAt),
        ok: counts.ok ?? 0,
        refused,
        errors: counts.error ?? 0,
      }),
    );
  },
});

export const ownerCommands = [setprefix, mode, stats];
