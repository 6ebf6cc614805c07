import type { PhoneEvent } from "@whatsdex/core/phone-api";
import { isJidGroup, jidDecode, type proto } from "baileys";
import type { Directory } from "../accounts/directory.ts";
import type { PhoneInboxEntry, SimulatedPhone } from "../phone/simulated-phone.ts";

const numberOf = (jid: string | null | undefined) => jidDecode(jid ?? "")?.user ?? "";

function textOf(message: proto.IMessage): string | undefined {
  const location = message.locationMessage;
  return (
    message.conversation ??
    message.extendedTextMessage?.text ??
    message.imageMessage?.caption ??
    message.videoMessage?.caption ??
    message.documentMessage?.caption ??
    (location
      ? `${location.name ?? "location"} (${location.degreesLatitude}, ${location.degreesLongitude})`
      : undefined) ??
    message.contactMessage?.displayName ??
    message.reactionMessage?.text ??
    undefined
  );
}

function mediaOf(message: proto.IMessage) {
  return (
    (message.imageMessage && (["image", message.imageMessage] as const)) ||
    (message.stickerMessage && (["sticker", message.stickerMessage] as const)) ||
    (message.videoMessage && (["video", message.videoMessage] as const)) ||
    (message.audioMessage && (["audio", message.audioMessage] as const)) ||
    (message.documentMessage && (["document", message.documentMessage] as const)) ||
    undefined
  );
}

/** The URL of a media message's file (what `GET /v1/media?url=` takes). */
export function mediaUrlOf(message: proto.IMessage): string | undefined {
  return mediaOf(message)?.[1].url ?? undefined;
}

/**
 * A message a bot sent, as the phone API reports it (the same event the simulator's phones emit):
 * mentions and quoted ids resolved to what a person sees, media by the URL `/v1/media` fetches.
 */
export function phoneEventOf(phone: SimulatedPhone, entry: PhoneInboxEntry, directory: Directory): PhoneEvent {
  const content = entry.message;
  const media = mediaOf(content);
  const context = content.extendedTextMessage?.contextInfo ?? media?.[1].contextInfo ?? undefined;
  const mentioned = context?.mentionedJid ?? [];
  const personOf = (jid: string) => directory.resolve(jid)?.account.pn ?? numberOf(jid);
  // As a phone renders a mention: `@<LID>` in the text shows as the person, here their number.
  const text = mentioned.reduce<string | undefined>(
    (rendered, jid) => rendered?.replaceAll(`@${numberOf(jid)}`, `@${personOf(jid)}`),
    textOf(content),
  );
  const sender = directory.resolve(entry.from);
  const group = isJidGroup(entry.chat);
  const chat = group ? entry.chat : entry.from.endsWith("@lid") ? phone.account.lidJid : phone.account.pnJid;
  const kind: PhoneEvent["kind"] = media
    ? media[0]
    : content.locationMessage
      ? "location"
      : content.contactMessage
        ? "contact"
        : content.reactionMessage
          ? "reaction"
          : text === undefined
            ? "other"
            : "text";
  return {
    id: entry.id,
    bot: sender?.account.pn ?? numberOf(entry.from),
    chat,
    ...(group ? {} : { number: phone.account.pn }),
    kind,
    ...(text === undefined ? {} : { text }),
    ...(media?.[1].url ? { mediaUrl: media[1].url } : {}),
    ...(media?.[1].mimetype ? { mimetype: media[1].mimetype } : {}),
    mentions: mentioned.map(personOf),
    ...(context?.stanzaId ? { quotedId: context.stanzaId } : {}),
    ...(content.reactionMessage?.key?.id ? { quotedId: content.reactionMessage.key.id } : {}),
    at: new Date(entry.at).toISOString(),
  };
}
