import { z } from "zod";
import { resourceIdSchema } from "../firestore/ids.ts";
import { defineJobs } from "./definitions.ts";

/**
 * The platform's queues and their jobs. One queue per kind of work, so each has its own limits:
 * Cloud Tasks rate and retry config per queue, BullMQ concurrency per worker.
 */
const bot = { tenantId: resourceIdSchema, botId: resourceIdSchema };
/** Where the result goes: the chat the request came from, exactly as WhatsApp addressed it. */
const chat = z.string().min(3).max(200);

export const mediaJobs = defineJobs({
  /** An image the bot received (left in `bots/{b}/media/{inputMediaId}`) → a sticker sent back. */
  "media.sticker": z.strictObject({
    ...bot,
    to: chat,
    inputMediaId: resourceIdSchema,
    pack: z.string().max(64),
    author: z.string().max(64),
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
  }),
});

export const campaignJobs = defineJobs({
  /** One recipient's message of a campaign, through the bot's outbox, exactly once. */
  "campaign.deliver": z.strictObject({
    ...bot,
    campaignId: resourceIdSchema,
    recipientId: resourceIdSchema,
    to: z.string().min(3).max(200),
    text: z.string().min(1).max(4_096),
  }),
});

export const queueNames = { media: "media", ai: "ai", campaign: "campaign" } as const;
export type QueueKind = keyof typeof queueNames;
