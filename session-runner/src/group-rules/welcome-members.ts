import type { GroupMetadata } from "baileys";
import type { GroupSettingsStore } from "../bot/group-settings.ts";
import { mentionText } from "../commands/group/targets.ts";
import { participantOf } from "../commands/permissions.ts";
import type { Translate } from "../i18n/messages.ts";
import type { Person } from "../identity/person.ts";

/** `{user}` → the new members (mentioned), `{group}` → the group's name. Nothing else is interpreted. */
export function renderWelcome(template: string, users: string[], group: string): string {
  return template.replaceAll("{user}", users.map(mentionText).join(" ")).replaceAll("{group}", group);
}

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
