import type { BotRef, BotSettings, MessageStore } from "@whatsdex/core";
import type { WAMessage } from "baileys";
import type { Logger } from "pino";
import type { Identity } from "../identity/person.ts";
import { describeMessage, receivedMessageOf } from "./events/message-events.ts";

export interface MessageLogOptions {
  store: MessageStore;
  bot: BotRef;
  settings: () => BotSettings;
  resolve: (jid: string) => Identity | undefined;
  logger: Logger;
}

/**
 * Keeps a bot's messages in its message store when its settings ask for it (`messageStore`), as
 * they pass: received ones as the events name them, the bot's own sends (replies, job results, API
 * sends) as they left. Never in the way of a message: a failed write is logged and dropped.
 */
export class MessageLog {
  readonly #options: MessageLogOptions;
  readonly #pending = new Set<Promise<unknown>>();

  constructor(options: MessageLogOptions) {
    this.#options = options;
  }

  received(raw: WAMessage): void {
    const { messageStore } = this.#options.settings();
    if (!messageStore.enabled) return;
    const { bot, resolve } = this.#options;
    const received = receivedMessageOf(raw, bot.botId, resolve);
    if (!received) return;
    const { data } = received;
    this.#record(
      {
        chat: data.chat,
        messageId: data.messageId,
        direction: "in",
        from: data.from,
        content: data.content,
        quotedId: data.quotedId,
        sentAtMs: Date.parse(data.sentAt),
      },
      messageStore.retentionDays,
    );
  }

  sent(message: WAMessage | undefined): void {
    const { messageStore } = this.#options.settings();
    if (!messageStore.enabled || !message?.key.remoteJid || !message.key.id) return;
    const described = describeMessage(message.message);
    if (!described) return;
    const seconds = Number(message.messageTimestamp ?? 0);
    this.#record(
      {
        chat: message.key.remoteJid,
        messageId: message.key.id,
        direction: "out",
        from: null,
        content: described.content,
        quotedId: described.context?.stanzaId ?? null,
        sentAtMs: seconds > 0 ? seconds * 1_000 : Date.now(),
      },
      messageStore.retentionDays,
    );
  }

  /** Resolves once the writes started so far have landed (or failed). */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  #record(message: Parameters<MessageStore["record"]>[1], retentionDays: number): void {
    const write = this.#options.store.record(this.#options.bot, message, retentionDays).catch((error: unknown) => {
      this.#options.logger.warn({ err: error }, "could not store a message");
    });
    this.#pending.add(write);
    void write.finally(() => this.#pending.delete(write));
  }
}
