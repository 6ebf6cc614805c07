import {
  eventContentSchema,
  personRefSchema,
  resourceIdSchema,
  type StoredChatDoc,
  type StoredMessageDoc,
  toIso,
} from "@whatsdex/core";
import { z } from "zod";
import { defineRoute } from "../http/route.ts";
import { isoDateTime, pageOf, pageQuery, tenantParams } from "../http/schemas.ts";

const botParams = tenantParams.extend({ botId: resourceIdSchema });

export const chatSchema = z
  .object({
    jid: z.string().meta({ description: "The chat: a person (`…@lid`, `…@s.whatsapp.net`) or a group (`…@g.us`)." }),
    type: z.enum(["private", "group"]),
    lastMessageAt: isoDateTime,
    lastMessage: z.object({
      direction: z.enum(["in", "out"]),
      type: z.string(),
      preview: z.string().nullable().meta({ description: "The first 200 characters of its text or caption." }),
    }),
  })
  .meta({ id: "Chat" });

export const storedMessageSchema = z
  .object({
    id: z.string().meta({ description: "WhatsApp's message id." }),
    direction: z.enum(["in", "out"]),
    from: personRefSchema.nullable().meta({ description: "The sender of a received message; null for the bot's own." }),
    content: eventContentSchema,
    quotedId: z.string().nullable(),
    sentAt: isoDateTime,
    expiresAt: isoDateTime.meta({ description: "When the store deletes it (the bot's retention)." }),
  })
  .meta({ id: "StoredMessage" });

function toChat(chat: StoredChatDoc): z.output<typeof chatSchema> {
  return { jid: chat.jid, type: chat.type, lastMessageAt: toIso(chat.lastMessageAt), lastMessage: chat.lastMessage };
}

function toStoredMessage(message: StoredMessageDoc): z.output<typeof storedMessageSchema> {
  return {
    id: message.messageId,
    direction: message.direction,
    from: message.from,
    content: message.content,
    quotedId: message.quotedId,
    sentAt: toIso(message.createdAt),
    expiresAt: toIso(message.expiresAt),
  };
}

export const chatRoutes = [
  defineRoute({
    method: "get",
    path: "/tenants/{tenantId}/bots/{botId}/chats",
    operationId: "listChats",
    summary: "Chats in the bot's message store, latest activity first (only while `settings.messageStore` is on)",
    tag: "Messages",
    auth: "user-or-api-key",
    permission: "messages:read",
    params: botParams,
    query: pageQuery,
    responses: { 200: { description: "A page of chats", schema: pageOf(chatSchema) } },
    async handle({ params, query, services }) {
      await services.bots.get(params.tenantId, params.botId);
      const page = await services.messageStore.listChats(params, query);
      return { status: 200, body: { items: page.items.map((c) => toChat(c.data)), nextCursor: page.nextCursor } };
    },
  }),
  defineRoute({
    method: "get",
    path: "/tenants/{tenantId}/bots/{botId}/chats/{chat}/messages",
    operationId: "listChatMessages",
    summary: "A stored chat's messages, newest first (none for a chat the store has not kept)",
    tag: "Messages",
    auth: "user-or-api-key",
    permission: "messages:read",
    params: botParams.extend({
      chat: z
        .string()
        .regex(
          /^(?:\d{5,20}@(?:lid|s\.whatsapp\.net)|[\d-]{5,64}@g\.us)$/,
          "must be a chat's JID (…@lid, …@s.whatsapp.net or …@g.us)",
        )
        .meta({ description: "The chat's JID, as `GET …/chats` lists it." }),
    }),
    query: pageQuery,
    responses: { 200: { description: "A page of messages", schema: pageOf(storedMessageSchema) } },
    async handle({ params, query, services }) {
      await services.bots.get(params.tenantId, params.botId);
      const page = await services.messageStore.listMessages(params, params.chat, query);
      return {
        status: 200,
        body: { items: page.items.map((m) => toStoredMessage(m.data)), nextCursor: page.nextCursor },
      };
    },
  }),
];
