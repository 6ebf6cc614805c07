import type { ParticipantAction } from "baileys";
import type { MessageKey } from "../../i18n/messages.ts";
import type { Person } from "../../identity/person.ts";
import { type Command, defineCommand } from "../command.ts";
import { participantOf } from "../permissions.ts";
import { mentionText, targetsOf } from "./targets.ts";

/** Mass adds and removes are what gets numbers banned: a handful per command. */
export const MAX_TARGETS = 10;

const STATUS_KEYS: Readonly<Record<string, MessageKey>> = {
  "403": "group.status_403",
  "404": "group.status_404",
  "406": "group.status_406",
  "408": "group.status_408",
  "409": "group.status_409",
};

interface ParticipantCommandSpec {
  name: string;
  aliases: string[];
  action: Exclude<ParticipantAction, "modify">;
  summary: Command["summary"];
  done: MessageKey;
}

const isSame = (a: Person, b: Person) =>
  a.id === b.id || Boolean(a.lid && a.lid === b.lid) || Boolean(a.pn && a.pn === b.pn);

/**
 * kick, add, promote, demote: the same shape. Targets are mentioned, quoted or typed; each gets
 * WhatsApp's own answer (added, already in, invite only, …) in one reply that mentions them.
 */
function participantCommand(spec: ParticipantCommandSpec): Command {
  const target = spec.action === "add" ? "<number>" : "@user";
  return defineCommand({
    name: spec.name,
    aliases: spec.aliases,
    category: "group",
    usage: `{prefix}${spec.name} ${target} (or reply to their message)`,
    examples: spec.action === "add" ? ["{prefix}add 6281234567890"] : [`{prefix}${spec.name} @6281234567890`],
    summary: spec.summary,
    chat: "group",
    access: "admin",
    botAdmin: true,
    cooldownMs: 3_000,
    async run(context) {
      const { message, services, reply, t, prefix, self } = context;
      const usage = `${prefix}${spec.name} ${target}`;
      const targets = targetsOf(context);
      if (targets.length === 0) return reply(t("group.needs_target", { usage }));
      if (targets.length > MAX_TARGETS) return reply(t("group.too_many", { max: MAX_TARGETS }));
      if (spec.action !== "add" && targets.some((person) => isSame(person, self))) {
        return reply(t("group.not_self", { command: `${prefix}${spec.name}` }));
      }
      const group = await services.group.metadata(message.chat);
      const results: Array<{ jid: string; status: string }> = [];
      const asked: string[] = [];
      for (const person of targets) {
        // Changing a member uses the id the group lists them by (LID or PN); adding needs their number.
        const jid = spec.action === "add" ? (person.pn ?? person.lid) : participantOf(group, person)?.id;
        if (jid) asked.push(jid);
        else results.push({ jid: person.lid ?? person.pn ?? person.id, status: "404" });
      }
      if (asked.length > 0) results.push(...(await services.group.participants(message.chat, asked, spec.action)));
      const done = results.filter((r) => r.status === "200").map((r) => mentionText(r.jid));
      const lines = done.length > 0 ? [t(spec.done, { users: done.join(" ") })] : [];
      for (const result of results.filter((r) => r.status !== "200")) {
        const key = STATUS_KEYS[result.status] ?? "group.status_other";
        lines.push(t(key, { user: mentionText(result.jid), status: result.status, prefix }));
      }
      await reply(lines.join("\n"), { mentions: results.map((r) => r.jid) });
    },
  });
}

export const kick = participantCommand({
  name: "kick",
  aliases: ["remove"],
  action: "remove",
  summary: { en: "Remove people from the group.", id: "Keluarkan orang dari grup." },
  done: "group.kicked",
});

export const add = participantCommand({
  name: "add",
  aliases: [],
  action: "add",
  summary: { en: "Add people to the group by number.", id: "Tambahkan orang ke grup dengan nomornya." },
  done: "group.added",
});

export const promote = participantCommand({
  name: "promote",
  aliases: [],
  action: "promote",
  summary: { en: "Make people group admins.", id: "Jadikan orang admin grup." },
  done: "group.promoted",
});

export const demote = participantCommand({
  name: "demote",
  aliases: [],
  action: "demote",
  summary: { en: "Take group admin away from people.", id: "Cabut status admin grup." },
  done: "group.demoted",
});

export const participantCommands = [kick, add, promote, demote];
