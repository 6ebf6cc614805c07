import type { Guard } from "../commands/engine.ts";
import { mentionText } from "../commands/group/targets.ts";
import { isAdminIn } from "../commands/permissions.ts";

/** Invitations to other groups and channels: what group spam is made of. Personal wa.me links are not. */
const GROUP_LINK = /(?:chat\.whatsapp\.com\/(?:invite\/)?[A-Za-z0-9]{10,}|whatsapp\.com\/channel\/[A-Za-z0-9]{10,})/i;

export function hasGroupLink(text: string): boolean {
  return GROUP_LINK.test(text);
}

/**
 * Enforces antilink on every group message: deletes a message with a group or channel link from
 * anyone but owners and admins, warns them, and removes them at the group's limit. Costs nothing
 * for messages without such a link (the regex runs before any settings are read).
 */
export const antilinkGuard: Guard = async ({ message, raw, sender, self, services, t, privileged, send }) => {
  if (!message.isGroup || !hasGroupLink(message.text)) return false;
  const settings = await services.groupSettings.get(message.chat);
  if (!settings.antilink.enabled || (await privileged())) return false;
  const group = await services.group.metadata(message.chat);
  // Demoted since it was switched on: the bot cannot delete or remove, so it does nothing.
  if (!isAdminIn(group, self)) return false;
  await services.group.deleteMessage(message.chat, raw.key);
  const { kickAfter } = settings.antilink;
  const updated = await services.groupSettings.update(message.chat, (current) => ({
    ...current,
    warnings: { ...current.warnings, [sender.id]: (current.warnings[sender.id] ?? 0) + 1 },
  }));
  const count = updated.warnings[sender.id] ?? 0;
  const user = mentionText(message.sender);
  if (count < kickAfter) {
    await send(t("group.antilink_warning", { user, count, max: kickAfter }), {
      mentions: [message.sender],
      quote: false,
    });
    return true;
  }
  await services.group.participants(message.chat, [message.sender], "remove");
  await services.groupSettings.update(message.chat, (current) => ({
    ...current,
    warnings: Object.fromEntries(Object.entries(current.warnings).filter(([id]) => id !== sender.id)),
  }));
  await send(t("group.antilink_kicked", { user }), { mentions: [message.sender], quote: false });
  return true;
};
