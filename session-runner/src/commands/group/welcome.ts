import { WELCOME_TEMPLATE_MAX } from "../../bot/group-settings.ts";
import { renderWelcome } from "../../group-rules/welcome-members.ts";
import { defineCommand } from "../command.ts";

export const welcome = defineCommand({
  name: "welcome",
  category: "group",
  usage: "{prefix}welcome on [message with {user} and {group}] | off",
  examples: ["{prefix}welcome on", "{prefix}welcome on Hi {user}, welcome to {group}! Read the description first."],
  summary: { en: "Greet people who join the group.", id: "Sambut orang yang bergabung ke grup." },
  chat: "group",
  access: "admin",
  // Admins are trusted with their group's settings; the rate limits still apply.
  cooldownMs: 0,
  async run({ message, services, reply, args, rest, t, prefix, sender }) {
    const choice = args[0]?.toLowerCase();
    if (choice !== "on" && choice !== "off") return reply(t("group.welcome_usage", { prefix }));
    const template = rest.slice(choice.length).trim() || null;
    if (template && template.length > WELCOME_TEMPLATE_MAX) {
      return reply(t("group.welcome_too_long", { max: WELCOME_TEMPLATE_MAX }));
    }
    const updated = await services.groupSettings.update(message.chat, (current) => ({
      ...current,
      welcome:
        choice === "on"
          ? { enabled: true, template: template ?? current.welcome.template }
          : { ...current.welcome, enabled: false },
    }));
    if (!updated.welcome.enabled) return reply(t("group.welcome_off"));
    const group = await services.group.metadata(message.chat);
    const preview = renderWelcome(
      updated.welcome.template ?? t("group.welcome_default"),
      [sender.lid ?? message.sender],
      group.subject,
    );
    await reply(t("group.welcome_on", { preview }));
  },
});
