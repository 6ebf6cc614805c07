import {
  type BotDoc,
  botSettingsSchema,
  botStateSchema,
  connectMethodSchema,
  desiredStateSchema,
  type OutboxItem,
  outboxStatusSchema,
  type QueuedCommand,
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

export type { OutboxItem };
