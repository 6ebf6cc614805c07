import type { GroupMetadata } from "baileys";
import type { Person } from "../../identity/person.ts";
import type { Translate } from "../catalog.ts";
import { defineCommand } from "../command.ts";
import { participantOf } from "../permissions.ts";
import { type GroupSettingsStore, WELCOME_TEMPLATE_MAX } from "./group-settings.ts";
import { mentionText } from "./targets.ts";

/** `{user}` → the new members (mentioned), `{group}` → the group's name. Nothing else is interpreted. */
export function renderWelcome(template: string, users: string[], group: string): string {
  return template.replaceAll("{user}", users.map(mentionText).join(" ")).replaceAll("{group}", group);
}

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

export interface WelcomeDeps {
  groupSettings: GroupSettingsStore;
  metadata(jid: string): Promise<GroupMetadata>;
  t(): Translate;
  self(): Person;
  send(chat: string, text: string, mentions: string[]): Promise<void>;
}

/** People joined a group: greet them if the group's admins switched welcome on (never the bot itself). */
export async function welcomeNewMembers(
  deps: WelcomeDeps,
  update: { id: string; action: string; participants: ReadonlyArray<{ id: string }> },
): Promise<void> {
  if (update.action !== "add") return;
  const settings = await deps.groupSettings.get(update.id);
  if (!settings.welcome.enabled) return;
  const self = deps.self();
  const group = await deps.metadata(update.id);
  const selfEntry = participantOf(group, self);
  const users = update.participants
    .map((p) => p.id)
    .filter((id) => id !== selfEntry?.id && id !== self.lid && id !== self.pn);
  if (users.length === 0) return;
  const template = settings.welcome.template ?? deps.t()("group.welcome_default");
  await deps.send(update.id, renderWelcome(template, users, group.subject), users);
}
