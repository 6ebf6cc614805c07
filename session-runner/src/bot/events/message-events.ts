import type { EventContent, EventData, PersonRef } from "@whatsdex/core";
import { getContentType, normalizeMessageContent, type proto, type WAMessage } from "baileys";
import type { Identity } from "../../identity/person.ts";
import { userOf } from "../../identity/person.ts";

/** A message's media, as an event names it before (and whether) its bytes are kept. */
export interface InboundMedia {
  kind: "image" | "video" | "audio" | "document" | "sticker";
  mimetype: string | null;
  bytes: number | null;
}

/** A received message as the `message.received` event carries it, and its media to keep, if any. */
export interface ReceivedMessage {
  data: EventData<"message.received">;
  media: InboundMedia | undefined;
  /** Unique per message in the bot's WhatsApp: the event's natural key. */
  key: string;
}

/** What is not a message someone sent the bot: edits, deletes, key shares, votes, pins. */
const NOT_MESSAGES = new Set<string>([
  "protocolMessage",
  "pollUpdateMessage",
  "keepInChatMessage",
  "pinInChatMessage",
  "encReactionMessage",
  "senderKeyDistributionMessage",
  "messageContextInfo",
]);

/** Text is capped as the API caps what it sends; WhatsApp allows more, and events stay small. */
const MAX_TEXT = 4_096;
const MAX_VCARD = 8_192;
const clip = (text: string | null | undefined, max = MAX_TEXT): string | null =>
  text === null || text === undefined ? null : text.slice(0, max);

const bytesOf = (length: number | Long | null | undefined): number | null =>
  length === null || length === undefined ? null : Number(length);

type Long = { toNumber(): number };

function contentOf(content: proto.IMessage, type: string): { content: EventContent; media?: InboundMedia } {
  const media = (
    kind: InboundMedia["kind"],
    inner: { mimetype?: string | null; fileLength?: number | Long | null },
  ) => ({
    kind,
    mimetype: inner.mimetype ?? null,
    bytes: bytesOf(inner.fileLength),
  });
  const ref = (m: InboundMedia) => ({ mediaId: null, mimetype: m.mimetype, bytes: m.bytes });
  if (content.conversation !== null && content.conversation !== undefined) {
    return { content: { type: "text", text: clip(content.conversation) ?? "" } };
  }
  if (content.extendedTextMessage) {
    return { content: { type: "text", text: clip(content.extendedTextMessage.text) ?? "" } };
  }
  if (content.imageMessage) {
    const m = media("image", content.imageMessage);
    return { content: { type: "image", caption: clip(content.imageMessage.caption), ...ref(m) }, media: m };
  }
  if (content.videoMessage) {
    const m = media("video", content.videoMessage);
    return { content: { type: "video", caption: clip(content.videoMessage.caption), ...ref(m) }, media: m };
  }
  if (content.audioMessage) {
    const m = media("audio", content.audioMessage);
    const seconds = content.audioMessage.seconds;
    return {
      content: {
        type: "audio",
        voiceNote: content.audioMessage.ptt === true,
        seconds: seconds === null || seconds === undefined ? null : seconds,
        ...ref(m),
      },
      media: m,
    };
  }
  const document = content.documentMessage ?? content.documentWithCaptionMessage?.message?.documentMessage;
  if (document) {
    const m = media("document", document);
    return {
      content: {
        type: "document",
        fileName: clip(document.fileName, 255),
        caption: clip(document.caption),
        ...ref(m),
      },
      media: m,
    };
  }
  if (content.stickerMessage) {
    const m = media("sticker", content.stickerMessage);
    return { content: { type: "sticker", animated: content.stickerMessage.isAnimated === true, ...ref(m) }, media: m };
  }
  const location = content.locationMessage ?? content.liveLocationMessage;
  if (location) {
    const place = content.locationMessage;
    return {
      content: {
        type: "location",
        latitude: location.degreesLatitude ?? 0,
        longitude: location.degreesLongitude ?? 0,
        name: clip(place?.name, 256),
        address: clip(place?.address, 512),
      },
    };
  }
  if (content.contactMessage) {
    return {
      content: {
        type: "contact",
        displayName: clip(content.contactMessage.displayName, 256),
        vcard: clip(content.contactMessage.vcard, MAX_VCARD) ?? "",
      },
    };
  }
  if (content.reactionMessage) {
    return {
      content: {
        type: "reaction",
        emoji: clip(content.reactionMessage.text, 32) ?? "",
        targetId: content.reactionMessage.key?.id ?? "",
      },
    };
  }
  return { content: { type: "other", kind: type } };
}

function contextOf(content: proto.IMessage, type: string): proto.IContextInfo | null | undefined {
  const inner = content[type as keyof proto.IMessage];
  return typeof inner === "object" && inner !== null && "contextInfo" in inner
    ? (inner.contextInfo as proto.IContextInfo | null | undefined)
    : undefined;
}

/**
 * A message's content as events and the message store name it, its media and its context (reply,
 * mentions); undefined for what is not a message (protocol messages, key shares, empty).
 */
export function describeMessage(
  message: proto.IMessage | null | undefined,
): { content: EventContent; media?: InboundMedia; context: proto.IContextInfo | null | undefined } | undefined {
  const content = normalizeMessageContent(message);
  const type = content ? getContentType(content) : undefined;
  if (!content || !type || NOT_MESSAGES.has(type)) return undefined;
  return { ...contentOf(content, type), context: contextOf(content, type) };
}

/** LID first, the phone number when known (from the person store, else the alternate form WhatsApp sent). */
export function personRef(
  jid: string,
  alt: string | null | undefined,
  known: Identity | undefined,
  name: string | null,
): PersonRef {
  const forms = [jid, alt].filter((form): form is string => Boolean(form));
  const lidForm = forms.find((form) => form.endsWith("@lid"));
  const pnForm = forms.find((form) => form.endsWith("@s.whatsapp.net"));
  return {
    lid: known?.lid ?? (lidForm ? `${userOf(lidForm)}@lid` : null),
    pn: known?.pn ?? (pnForm ? `${userOf(pnForm)}@s.whatsapp.net` : null),
    name,
  };
}

/**
 * A message someone sent the bot → its `message.received` event, or undefined for what is not one:
 * the bot's own messages (they are `message.sent`), status updates, newsletters, broadcast lists,
 * stubs and protocol messages. Reactions are messages here (the tenant wants to hear them), unlike
 * for the command engine. Never throws on a shape it does not know: that becomes `other`.
 */
export function receivedMessageOf(
  raw: WAMessage,
  botId: string,
  resolve: (jid: string) => Identity | undefined,
): ReceivedMessage | undefined {
  const { key } = raw;
  const chat = key.remoteJid;
  if (!chat || !key.id || key.fromMe) return undefined;
  if (chat === "status@broadcast" || chat.endsWith("@newsletter") || chat.endsWith("@broadcast")) return undefined;
  if (raw.messageStubType) return undefined;
  const described = describeMessage(raw.message);
  if (!described) return undefined;
  const isGroup = chat.endsWith("@g.us");
  const sender = isGroup ? key.participant : chat;
  if (!sender) return undefined;
  const senderAlt = isGroup ? key.participantAlt : key.remoteJidAlt;
  const { context, ...mapped } = described;
  const seconds = Number(raw.messageTimestamp ?? 0);
  return {
    key: `${chat}/${sender}/${key.id}`,
    media: mapped.media,
    data: {
      botId,
      messageId: key.id,
      chat,
      chatType: isGroup ? "group" : "private",
      from: personRef(sender, senderAlt, resolve(sender), clip(raw.pushName, 100)),
      sentAt: new Date(seconds > 0 ? seconds * 1_000 : Date.now()).toISOString(),
      quotedId: context?.stanzaId ?? null,
      mentions: (context?.mentionedJid ?? []).filter((jid): jid is string => typeof jid === "string").slice(0, 50),
      content: mapped.content,
    },
  };
}
