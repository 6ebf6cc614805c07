import { defineCommand } from "../command.ts";
import { mentionText } from "./targets.ts";

/** WhatsApp's own limits, checked here so the user hears which one they hit. */
export const MAX_SUBJECT = 100;
export const MAX_DESCRIPTION = 2_048;
const INVITE_BASE = "https://chat.whatsapp.com/";

export const tagall = defineCommand({
  name: "tagall",
  aliases: ["everyone"],
  category: "group",
  usage: "{prefix}tagall [message]",
  examples: ["{prefix}tagall meeting at 7"],
  summary: { en: "Mention every member, listed.", id: "Sebut semua anggota, dalam daftar." },
  chat: "group",
  access: "admin",
  // Pinging a whole group is loud: once a minute at most.
  cooldownMs: 60_000,
  async run({ message, services, reply, rest, t }) {
    const group = await services.group.metadata(message.chat);
    const members = group.participants.map((p) => p.id);
    const list = members.map((jid) => `• ${mentionText(jid)}`).join("\n");
    await reply(`${rest || t("group.tagall_header", { group: group.subject })}\n\n${list}`, { mentions: members });
  },
});

export const hidetag = defineCommand({
  name: "hidetag",
  aliases: ["announce"],
  category: "group",
  usage: "{prefix}hidetag <message>",
  examples: ["{prefix}hidetag the shop opens at 9 tomorrow"],
  summary: {
    en: "Send a message that notifies every member, without listing them.",
    id: "Kirim pesan yang memberi tahu semua anggota, tanpa daftar.",
  },
  chat: "group",
  access: "admin",
  cooldownMs: 60_000,
  async run({ message, services, reply, rest, t, prefix }) {
    const text = rest || message.quoted?.text;
    if (!text) return reply(t("group.hidetag_needs_text", { prefix }));
    const group = await services.group.metadata(message.chat);
    await reply(text, { mentions: group.participants.map((p) => p.id), quote: false });
  },
});

export const link = defineCommand({
  name: "link",
  aliases: ["invite"],
  category: "group",
  usage: "{prefix}link",
  summary: { en: "The group's invite link.", id: "Tautan undangan grup." },
  chat: "group",
  access: "admin",
  botAdmin: true,
  async run({ message, services, reply, t }) {
    const [group, code] = await Promise.all([
      services.group.metadata(message.chat),
      services.group.inviteCode(message.chat),
    ]);
    if (!code) throw new Error("WhatsApp returned no invite code");
    await reply(t("group.link", { group: group.subject, link: `${INVITE_BASE}${code}` }));
  },
});

export const revoke = defineCommand({
  name: "revoke",
  aliases: ["resetlink"],
  category: "group",
  usage: "{prefix}revoke",
  summary: {
    en: "Make a new invite link; the old one stops working.",
    id: "Buat tautan undangan baru; yang lama tidak berlaku.",
  },
  chat: "group",
  access: "admin",
  botAdmin: true,
  cooldownMs: 10_000,
  async run({ message, services, reply, t }) {
    const code = await services.group.revokeInvite(message.chat);
    if (!code) throw new Error("WhatsApp returned no invite code");
    await reply(t("group.revoked", { link: `${INVITE_BASE}${code}` }));
  },
});

export const setname = defineCommand({
  name: "setname",
  aliases: ["setsubject"],
  category: "group",
  usage: "{prefix}setname <new name>",
  examples: ["{prefix}setname Shop updates"],
  summary: { en: "Rename the group.", id: "Ganti nama grup." },
  chat: "group",
  access: "admin",
  botAdmin: true,
  cooldownMs: 10_000,
  async run({ message, services, reply, rest, t, prefix }) {
    if (!rest || [...rest].length > MAX_SUBJECT) return reply(t("group.name_invalid", { prefix, max: MAX_SUBJECT }));
    await services.group.setSubject(message.chat, rest);
    await reply(t("group.name_set", { name: rest }));
  },
});

export const setdesc = defineCommand({
  name: "setdesc",
  aliases: ["setdescription"],
  category: "group",
  usage: "{prefix}setdesc <new description>",
  examples: ["{prefix}setdesc Open 9-17, Monday to Saturday"],
  summary: { en: "Change the group's description.", id: "Ganti deskripsi grup." },
  chat: "group",
  access: "admin",
  botAdmin: true,
  cooldownMs: 10_000,
  async run({ message, services, reply, rest, t, prefix }) {
    const text = rest || message.quoted?.text || "";
    if (!text || [...text].length > MAX_DESCRIPTION) {
      return reply(t("group.desc_invalid", { prefix, max: MAX_DESCRIPTION }));
    }
    await services.group.setDescription(message.chat, text);
    await reply(t("group.desc_set"));
  },
});

export const groupCommands = [tagall, hidetag, link, revoke, setname, setdesc];
