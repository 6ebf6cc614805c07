import { getContentType, normalizeMessageContent, type proto, type WAMessage } from "baileys";
import { z } from "zod";

export const mediaKindSchema = z.enum(["image", "video", "gif", "sticker", "audio", "document"]);
export type MediaKind = z.output<typeof mediaKindSchema>;

const mediaSchema = z.object({ kind: mediaKindSchema, mimetype: z.string().nullable() });

/** One WhatsApp message, as every command sees it, whatever shape Baileys delivered. */
export const inboundMessageSchema = z.object({
  id: z.string().min(1),
  /** Reply here, exactly as received (a group, a LID chat or a PN chat). */
  chat: z.string().min(1),
  isGroup: z.boolean(),
  /** Who sent it: the participant in a group, the chat in a private conversation. */
  sender: z.string().min(1),
  /** The other form of the sender (PN for a LID, or the reverse), when WhatsApp sent it. */
  senderAlt: z.string().nullable(),
  pushName: z.string().nullable(),
  text: z.string(),
  mentions: z.array(z.string()),
  media: mediaSchema.nullable(),
  quoted: z
    .object({ id: z.string(), sender: z.string().nullable(), text: z.string(), media: mediaSchema.nullable() })
    .nullable(),
  timestamp: z.number(),
});
export type InboundMessage = z.output<typeof inboundMessageSchema>;

type Content = proto.IMessage;

function textOf(content: Content | null | undefined): string {
  if (!content) return "";
  return (
    content.conversation ??
    content.extendedTextMessage?.text ??
    content.imageMessage?.caption ??
    content.videoMessage?.caption ??
    content.documentMessage?.caption ??
    ""
  );
}

function mediaOf(content: Content | null | undefined): InboundMessage["media"] {
  if (!content) return null;
  if (content.imageMessage) return { kind: "image", mimetype: content.imageMessage.mimetype ?? null };
  if (content.videoMessage) {
    return {
      kind: content.videoMessage.gifPlayback ? "gif" : "video",
      mimetype: content.videoMessage.mimetype ?? null,
    };
  }
  if (content.stickerMessage) return { kind: "sticker", mimetype: content.stickerMessage.mimetype ?? null };
  if (content.audioMessage) return { kind: "audio", mimetype: content.audioMessage.mimetype ?? null };
  if (content.documentMessage) return { kind: "document", mimetype: content.documentMessage.mimetype ?? null };
  return null;
}

function contextInfoOf(content: Content): proto.IContextInfo | null | undefined {
  const type = getContentType(content);
  if (!type) return undefined;
  const inner = content[type];
  return typeof inner === "object" && inner !== null && "contextInfo" in inner ? inner.contextInfo : undefined;
}

/** Messages about messages (deletes, edits, reactions, polls' votes, key material): never commands. */
const PROTOCOL_TYPES = new Set<string>([
  "protocolMessage",
  "reactionMessage",
  "pollUpdateMessage",
  "keepInChatMessage",
  "pinInChatMessage",
  "encReactionMessage",
]);

export type Ignored =
  | "no_content"
  | "from_me"
  | "status_broadcast"
  | "newsletter"
  | "broadcast_list"
  | "stub"
  | "protocol"
  | "no_id";

/**
 * A Baileys message → the one shape the command engine works on, or why it is ignored: the bot's
 * own messages, status updates, newsletters and broadcast lists, stubs (decrypt failures, group
 * notifications) and protocol messages (deletes, edits, key shares). Never throws: a shape it does
 * not know is "no_content".
 */
export function normalizeInbound(message: WAMessage): { message: InboundMessage } | { ignored: Ignored } {
  const { key } = message;
  const chat = key.remoteJid;
  if (!chat || !key.id) return { ignored: "no_id" };
  if (key.fromMe) return { ignored: "from_me" };
  if (chat === "status@broadcast") return { ignored: "status_broadcast" };
  if (chat.endsWith("@newsletter")) return { ignored: "newsletter" };
  if (chat.endsWith("@broadcast")) return { ignored: "broadcast_list" };
  if (message.messageStubType) return { ignored: "stub" };
  const content = normalizeMessageContent(message.message);
  if (!content) return { ignored: "no_content" };
  const type = getContentType(content);
  if (!type) return { ignored: "no_content" };
  if (PROTOCOL_TYPES.has(type)) return { ignored: "protocol" };
  const isGroup = chat.endsWith("@g.us");
  const sender = isGroup ? key.participant : chat;
  if (!sender) return { ignored: "no_id" };
  const context = contextInfoOf(content);
  const quotedContent = normalizeMessageContent(context?.quotedMessage);
  const candidate = {
    id: key.id,
    chat,
    isGroup,
    sender,
    senderAlt: (isGroup ? key.participantAlt : key.remoteJidAlt) ?? null,
    pushName: message.pushName ?? null,
    text: textOf(content).trim(),
    mentions: (context?.mentionedJid ?? []).filter((jid): jid is string => typeof jid === "string"),
    media: mediaOf(content),
    quoted:
      context?.stanzaId && quotedContent
        ? {
            id: context.stanzaId,
            sender: context.participant ?? null,
            text: textOf(quotedContent),
            media: mediaOf(quotedContent),
          }
        : null,
    timestamp: Number(message.messageTimestamp ?? 0),
  };
  const parsed = inboundMessageSchema.safeParse(candidate);
  return parsed.success ? { message: parsed.data } : { ignored: "no_content" };
}

/** The message a reply quotes, as a WAMessage Baileys can download media from. */
export function quotedRaw(raw: WAMessage): WAMessage | undefined {
  const content = normalizeMessageContent(raw.message);
  const context = content ? contextInfoOf(content) : undefined;
  if (!context?.stanzaId || !context.quotedMessage || !raw.key.remoteJid) return undefined;
  return {
    key: {
      remoteJid: raw.key.remoteJid,
      id: context.stanzaId,
      fromMe: false,
      ...(context.participant ? { participant: context.participant } : {}),
    },
    message: context.quotedMessage,
  };
}
