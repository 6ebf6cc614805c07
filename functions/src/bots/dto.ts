import {
  type BotDoc,
  botSettingsSchema,
  botStateSchema,
  connectMethodSchema,
  desiredStateSchema,
  messageStatusOf,
  messageStatusSchema,
  type OutboxItem,
  outboxStatusSchema,
  type QueuedCommand,
  type SendItem,
  toIso,
  transportSchema,
} from "@whatsdex/core";
import { z } from "zod";
import { isoDateTime } from "../http/schemas.ts";

export const botSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    transport: transportSchema,
    phoneNumber: z.string().nullable(),
    desiredState: desiredStateSchema,
    connectMethod: connectMethodSchema,
    status: z.object({ state: botStateSchema, reason: z.string().nullable(), updatedAt: isoDateTime }),
    settings: botSettingsSchema,
    keepOnDowngrade: z.boolean().meta({ description: "Kept running when a downgrade leaves room for fewer bots." }),
    stoppedFor: z
      .object({ reason: z.literal("plan_limit"), plan: z.string(), at: isoDateTime })
      .nullable()
      .meta({ description: "Why the platform stopped the bot (a downgrade); cleared when it is connected again." }),
    createdAt: isoDateTime,
    updatedAt: isoDateTime,
  })
  .meta({ id: "Bot" });

export function toBot(id: string, bot: BotDoc): z.output<typeof botSchema> {
  return {
    id,
    name: bot.name,
    transport: bot.transport,
    phoneNumber: bot.phoneNumber,
    desiredState: bot.desiredState,
    connectMethod: bot.connectMethod,
    status: { ...bot.status, updatedAt: toIso(bot.status.updatedAt) },
    settings: bot.settings,
    keepOnDowngrade: bot.keepOnDowngrade,
    stoppedFor: bot.stoppedFor && { ...bot.stoppedFor, at: toIso(bot.stoppedFor.at) },
    createdAt: toIso(bot.createdAt),
    updatedAt: toIso(bot.updatedAt),
  };
}

export const queuedSchema = z
  .object({
    id: z.string().meta({ description: "The outbox item: poll it, or watch the bot, for the outcome." }),
    kind: z.enum(["connect", "disconnect", "logout", "send"]),
    status: outboxStatusSchema,
    createdAt: isoDateTime,
  })
  .meta({ id: "QueuedCommand" });

export function toQueued({ outboxId, item }: QueuedCommand): z.output<typeof queuedSchema> {
  return { id: outboxId, kind: item.kind, status: item.status, createdAt: toIso(item.createdAt) };
}

export const messageSchema = z
  .object({
    id: z.string().meta({ description: "The id the send returned." }),
    to: z.string(),
    type: z.string().meta({ description: "The content type: text, image, video, audio, document, sticker, …" }),
    status: messageStatusSchema.meta({
      description:
        "queued → sending → sent (WhatsApp's server has it) → delivered (the recipient's device; in a group, the " +
        "first member's) → read. `failed` never left (see `error`); `indeterminate`: the runner could not tell " +
        "whether it was sent, and never sends it again — a later receipt turns it into delivered or read.",
    }),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    whatsappMessageId: z.string().nullable().meta({ description: "Reserved when the runner takes the message." }),
    createdAt: isoDateTime,
    sentAt: isoDateTime.nullable(),
    deliveredAt: isoDateTime.nullable(),
    readAt: isoDateTime.nullable(),
  })
  .meta({ id: "Message" });

export function toMessage(id: string, item: SendItem): z.output<typeof messageSchema> {
  const iso = (at: SendItem["sentAt"]) => (at ? toIso(at) : null);
  const status = messageStatusOf(item);
  return {
    id,
    to: item.to,
    type: item.content.type,
    status,
    // An indeterminate send that a receipt later proved delivered no longer has an error to report.
    error: status === "failed" || status === "indeterminate" ? item.error : null,
    whatsappMessageId: item.messageId,
    createdAt: toIso(item.createdAt),
    sentAt: iso(item.sentAt),
    deliveredAt: iso(item.deliveredAt),
    readAt: iso(item.readAt),
  };
}

export type { OutboxItem };
