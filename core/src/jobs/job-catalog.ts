import { z } from "zod";
import { botSettingsSchema } from "../bots/schema.ts";
import { resourceIdSchema } from "../firestore/ids.ts";
import { defineJobs } from "./definitions.ts";

/**
 * The platform's queues and their jobs. One queue per kind of work, so each has its own limits:
 * Cloud Tasks rate and retry config per queue, BullMQ concurrency per worker.
 */
const bot = { tenantId: resourceIdSchema, botId: resourceIdSchema };
/** Where the result goes: the chat the request came from, exactly as WhatsApp addressed it. */
const chat = z.string().min(3).max(200);
/** The bot's language, for the reply when the user's file cannot be used. */
const language = botSettingsSchema.shape.language;

export const mediaJobs = defineJobs({
  /** An image the bot received (left in `bots/{b}/media/{inputMediaId}`) → a sticker sent back. */
  "media.sticker": z.strictObject({
    ...bot,
    to: chat,
    inputMediaId: resourceIdSchema,
    pack: z.string().max(64),
    author: z.string().max(64),
    language: language.default("en"),
  }),
  /** A sticker the bot received (left in the media store) → a PNG image of it (an animated one's first frame). */
  "media.toimage": z.strictObject({ ...bot, to: chat, inputMediaId: resourceIdSchema, language }),
  /** Text → a QR code image. 1,000 UTF-16 units: the command allows 500 characters, emoji included. */
  "media.qr": z.strictObject({ ...bot, to: chat, text: z.string().min(1).max(1_000), language }),
  /** An image the bot received → the same with meme text at the top and/or bottom. */
  "media.meme": z.strictObject({
    ...bot,
    to: chat,
    inputMediaId: resourceIdSchema,
    top: z.string().max(400),
    bottom: z.string().max(400),
    language,
  }),
});

export const aiJobs = defineJobs({
  /** A question to Gemini, answered in the chat; counted against the tenant's daily AI calls. */
  "ai.answer": z.strictObject({
    ...bot,
    to: chat,
    prompt: z.string().min(1).max(8_000),
    persona: z.string().max(2_000),
    model: z.string().min(1).max(64),
    language: language.default("en"),
    /** Continue the chat's conversation (`to`): earlier exchanges are sent along and this one is kept. */
    memory: z.boolean().default(false),
    /** Who asked (their WhatsApp name), so a group's memory knows who said what. */
    speaker: z.string().max(100).optional(),
    /** An image to ask about, left in `bots/{b}/media/{imageMediaId}`. */
    imageMediaId: resourceIdSchema.optional(),
  }),
  /** A question answered by Gemini grounded in Google Search, with its sources. */
  "ai.search": z.strictObject({
    ...bot,
    to: chat,
    query: z.string().min(1).max(1_000),
    persona: z.string().max(2_000),
    model: z.string().min(1).max(64),
    language: language.default("en"),
  }),
});

export const webhookJobs = defineJobs({
  /**
   * One attempt to deliver one stored event to one endpoint. Each attempt is its own job (the next
   * one queued with a delay by the deliverer), so the schedule lives in the queue, never in memory.
   */
  "webhook.deliver": z.strictObject({
    tenantId: resourceIdSchema,
    eventId: resourceIdSchema,
    webhookId: resourceIdSchema,
    attempt: z.number().int().min(1),
    /** Asked for through the API: delivered again even if it already was. */
    replay: z.boolean().default(false),
  }),
});

export const queueNames = { media: "media", ai: "ai", webhooks: "webhooks" } as const;
export type QueueKind = keyof typeof queueNames;
