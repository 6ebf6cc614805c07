import { z } from "zod";
import { eventContentSchema, personRefSchema } from "../events/schema.ts";
import { timestampSchema } from "../firestore/timestamps.ts";

/**
 * A chat's key in a bot's message store, from its JID: `g-<id>` for a group, `lid-<digits>` or
 * `pn-<digits>` for a person (devices folded into the person). Undefined for what is not a chat
 * the store keeps (status broadcasts, newsletters).
 */
export function chatKeyOf(jid: string): string | undefined {
  const group = /^([\d-]{5,64})@g\.us$/.exec(jid);
  if (group?.[1]) return `g-${group[1]}`;
  const person = /^(\d{5,20})(?::\d+)?@(lid|s\.whatsapp\.net)$/.exec(jid);
  if (person?.[1]) return `${person[2] === "lid" ? "lid" : "pn"}-${person[1]}`;
  return undefined;
}

/** The JID a chat key stands for (the inverse of chatKeyOf). */
export function chatJidOf(chatKey: string): string | undefined {
  const match = /^(g|lid|pn)-([\d-]{5,64})$/.exec(chatKey);
  if (!match?.[2]) return undefined;
  const suffix = { g: "@g.us", lid: "@lid", pn: "@s.whatsapp.net" }[match[1] as "g" | "lid" | "pn"];
  return `${match[2]}${suffix}`;
}

/** `tenants/{t}/bots/{b}/chats/{chatKey}`: one chat of the store, with its latest message. */
export const storedChatDocSchema = z.object({
  jid: z.string(),
  type: z.enum(["private", "group"]),
  lastMessageAt: timestampSchema,
  lastMessage: z.object({
    direction: z.enum(["in", "out"]),
    type: z.string(),
    /** The first 200 characters of its text or caption. */
    preview: z.string().max(200).nullable(),
  }),
  /** The chat goes with its newest message. */
  expiresAt: timestampSchema,
});
export type StoredChatDoc = z.output<typeof storedChatDocSchema>;

/** `…/chats/{chatKey}/messages/{messageId}`: one message, received or sent, until `expiresAt` (TTL). */
export const storedMessageDocSchema = z.object({
  messageId: z.string(),
  direction: z.enum(["in", "out"]),
  /** The sender of a received message; null for the bot's own. */
  from: personRefSchema.nullable(),
  content: eventContentSchema,
  quotedId: z.string().nullable(),
  /** When it was sent (WhatsApp's timestamp); orders the chat. */
  createdAt: timestampSchema,
  expiresAt: timestampSchema,
});
export type StoredMessageDoc = z.output<typeof storedMessageDocSchema>;
