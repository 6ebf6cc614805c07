import { defineCommand } from "../command.ts";

export const antilink = defineCommand({
  name: "antilink",
  category: "group",
  usage: "{prefix}antilink on [warnings before removal, 1-10] | off",
  examples: ["{prefix}antilink on", "{prefix}antilink on 2", "{prefix}antilink off"],
  summary: {
    en: "Delete links to other groups; remove who keeps posting them.",
    id: "Hapus tautan ke grup lain; keluarkan yang terus mengirimnya.",
  },
  chat: "group",
  access: "admin",
  // Enforcing it deletes messages and removes people: only an admin bot can.
  botAdmin: true,
  // Admins are trusted with their group's settings; the rate limits still apply.
  cooldownMs: 0,
  async run({ message, services, reply, args, t, prefix }) {
    const choice = args[0]?.toLowerCase();
    const warnings = args[1] === undefined ? undefined : Number(args[1]);
    if (
      (choice !== "on" && choice !== "off") ||
      (warnings !== undefined && !(Number.isInteger(warnings) && warnings >= 1 && warnings <= 10))
    ) {
      return reply(t("group.antilink_usage", { prefix }));
    }
    const updated = await services.groupSettings.update(message.chat, (current) => ({
      ...current,
      antilink: { enabled: choice === "on", kickAfter: warnings ?? current.antilink.kickAfter },
      // Switching it on starts everyone with a clean slate.
      warnings: choice === "on" ? {} : current.warnings,
    }));
    await reply(
      updated.antilink.enabled
        ? t("group.antilink_on", { warnings: updated.antilink.kickAfter })
        : t("group.antilink_off"),
    );
  },
});
