import { type Command, defineCommand } from "../command.ts";
import { mentionText, targetsOf } from "../group/targets.ts";
import { isOwner } from "../permissions.ts";

function banCommand(action: "ban" | "unban"): Command {
  return defineCommand({
    name: action,
    category: "owner",
    usage: `{prefix}${action} @user (or reply to their message, or their number)`,
    examples: [`{prefix}${action} @6281234567890`, `{prefix}${action} 6281234567890`],
    summary:
      action === "ban"
        ? { en: "Stop answering someone (this bot only).", id: "Berhenti menjawab seseorang (bot ini saja)." }
        : { en: "Answer someone again.", id: "Jawab seseorang lagi." },
    access: "owner",
    cooldownMs: 0,
    async run(context) {
      const { services, reply, t, prefix, settings, sender, self } = context;
      const targets = targetsOf(context);
      if (targets.length === 0) return reply(t("owner.ban_needs_target", { prefix, command: action }));
      const lines: string[] = [];
      const mentions: string[] = [];
      for (const person of targets) {
        const jid = person.lid ?? person.pn ?? person.id;
        const user = mentionText(jid);
        mentions.push(jid);
        if (action === "ban" && (isOwner(settings, person) || person.id === self.id)) {
          lines.push(t("owner.cannot_ban", { user }));
        } else if (action === "ban") {
          lines.push(
            t((await services.bans.ban(person, sender.id)) ? "owner.banned" : "owner.already_banned", { user }),
          );
        } else {
          lines.push(
            t((await services.bans.unban(person, sender.id)) ? "owner.unbanned" : "owner.not_banned", { user }),
          );
        }
      }
      await reply(lines.join("\n"), { mentions });
    },
  });
}

export const banCommands = [banCommand("ban"), banCommand("unban")];
