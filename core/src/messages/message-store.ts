import { type Firestore, Timestamp } from "firebase-admin/firestore";
import { ValidationError } from "../errors/domain-error.ts";
import type { EventContent, PersonRef } from "../events/schema.ts";
import { zodConverter } from "../firestore/converter.ts";
import { type Page, type PageRequest, paginateBy } from "../firestore/pagination.ts";
import { chatMessagePath, chatPath, chatsCollectionPath } from "../firestore/paths.ts";
import type { BotRef } from "../leases/lease-store.ts";
import {
  chatKeyOf,
  type StoredChatDoc,
  type StoredMessageDoc,
  storedChatDocSchema,
  storedMessageDocSchema,
} from "./schema.ts";

const chatConverter = zodConverter(storedChatDocSchema);
const messageConverter = zodConverter(storedMessageDocSchema);
const DAY_MS = 86_400_000;

export interface MessageToStore {
  chat: string;
  messageId: string;
  direction: "in" | "out";
  from: PersonRef | null;
  content: EventContent;
  quotedId: string | null;
  sentAtMs: number;
}

function previewOf(content: EventContent): string | null {
  const text =
    content.type === "text"
      ? content.text
      : "caption" in content
        ? content.caption
        : content.type === "location"
          ? content.name
          : content.type === "contact"
            ? content.displayName
            : content.type === "reaction"
              ? content.emoji
              : null;
  return text === null ? null : text.slice(0, 200);
}

/**
 * A bot's optional message store (`settings.messageStore`): what it received and sent, per chat,
 * kept until a TTL policy removes it. Written by the owning runner as messages pass (one batch of
 * two writes per message: the message and its chat's summary), read by the API. A message stored
 * twice (a redelivery) is the same document.
 */
export class MessageStore {
  readonly #db: Firestore;

  constructor(db: Firestore) {
    this.#db = db;
  }

  /** False when the chat or the id is not one the store keeps (status broadcasts, odd ids). */
  async record(bot: BotRef, message: MessageToStore, retentionDays: number): Promise<boolean> {
    const chatKey = chatKeyOf(message.chat);
    if (!chatKey || !/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/.test(message.messageId)) return false;
    const sentAt = Timestamp.fromMillis(message.sentAtMs);
    const expiresAt = Timestamp.fromMillis(message.sentAtMs + retentionDays * DAY_MS);
    const chatRef = this.#db.doc(chatPath(bot.tenantId, bot.botId, chatKey)).withConverter(chatConverter);
    const messageRef = this.#db
      .doc(chatMessagePath(bot.tenantId, bot.botId, chatKey, message.messageId))
      .withConverter(messageConverter);
    const chat: StoredChatDoc = {
      jid: message.chat,
      type: chatKey.startsWith("g-") ? "group" : "private",
      lastMessageAt: sentAt,
      lastMessage: { direction: message.direction, type: message.content.type, preview: previewOf(message.content) },
      expiresAt,
    };
    const stored: StoredMessageDoc = {
      messageId: message.messageId,
      direction: message.direction,
      from: message.from,
      content: message.content,
      quotedId: message.quotedId,
      createdAt: sentAt,
      expiresAt,
    };
    // The chat summary may briefly name an older message when two land out of order; the next fixes it.
    await this.#db.batch().set(messageRef, stored).set(chatRef, chat).commit();
    return true;
  }

  listChats(bot: BotRef, page: PageRequest): Promise<Page<{ id: string; path: string; data: StoredChatDoc }>> {
    const query = this.#db.collection(chatsCollectionPath(bot.tenantId, bot.botId)).withConverter(chatConverter);
    return paginateBy(query, "lastMessageAt", (chat) => chat.lastMessageAt, page);
  }

  /** Newest first; an empty page for a chat the store has not kept (never seen, or expired). */
  async listMessages(
    bot: BotRef,
    chat: string,
    page: PageRequest,
  ): Promise<Page<{ id: string; path: string; data: StoredMessageDoc }>> {
    const chatKey = chatKeyOf(chat);
    if (!chatKey) {
      throw new ValidationError(`${chat} is not a chat the message store keeps.`, [
        { path: "path.chat", message: "must be a person's or a group's JID" },
      ]);
    }
    const query = this.#db
      .collection(`${chatPath(bot.tenantId, bot.botId, chatKey)}/messages`)
      .withConverter(messageConverter);
    return paginateBy(query, "createdAt", (message) => message.createdAt, page);
  }
}
