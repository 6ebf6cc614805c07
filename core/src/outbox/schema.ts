import type { Timestamp } from "firebase-admin/firestore";
import { z } from "zod";
import { connectMethodSchema } from "../bots/schema.ts";
import { timestampSchema } from "../firestore/timestamps.ts";
import { type OutboxContent, outboxContentSchema } from "./message-content.ts";

/**
 * A WhatsApp address as the API accepts it: a PN JID, a LID, a group, or a bare phone number
 * (normalised to its PN JID).
 */
export const recipientSchema = z
  .string()
  .trim()
  .transform((value) => (/^\+?[\d\s()-]{7,20}$/.test(value) ? `${value.replace(/\D/g, "")}@s.whatsapp.net` : value))
  .pipe(
    z
      .string()
      .regex(
        /^(?:[1-9]\d{6,14}@s\.whatsapp\.net|\d{5,20}@lid|\d{5,20}(?:-\d{5,20})?@g\.us)$/,
        "must be a phone number, a JID (…@s.whatsapp.net, …@lid) or a group (…@g.us)",
      ),
  );

export {
  type MediaMessageContent,
  type MediaSource,
  type MessageContent,
  messageContentSchema,
  mimetypeFits,
  type OutboxContent,
  outboxContentOf,
  outboxContentSchema,
  whatsappMessageIdSchema,
} from "./message-content.ts";

export const outboxStatusSchema = z.enum(["pending", "processing", "done", "failed", "indeterminate"]);

const common = {
  status: outboxStatusSchema,
  /** Who asked: `user:{uid}` or `apiKey:{keyId}`. */
  requestedBy: z.string().min(1),
  idempotencyKey: z.string().nullable(),
  /** SHA-256 of the request, so a reused Idempotency-Key with another body is refused. */
  requestHash: z.string().nullable(),
  attempts: z.number().int().min(0),
  /** Set when a runner takes the item: by which lease generation, and until when it may finish. */
  claim: z.object({ owner: z.string(), generation: z.number().int(), deadline: timestampSchema }).nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
};

/** `tenants/{tenantId}/bots/{botId}/outbox/{itemId}`: work for the runner that owns the bot. */
export const outboxItemSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("connect"),
    method: connectMethodSchema,
    phoneNumber: z.string().nullable(),
    ...common,
  }),
  z.object({ kind: z.literal("disconnect"), ...common }),
  z.object({ kind: z.literal("logout"), ...common }),
  z.object({
    kind: z.literal("send"),
    to: z.string().min(1),
    content: outboxContentSchema,
    /** The WhatsApp message id, reserved before the send so that a retry cannot send twice. */
    messageId: z.string().nullable(),
    /**
     * When WhatsApp's server took it, and when the recipient's device received and read it (from
     * receipts; for a group, the first member's). Only ever set once each, so a status never moves back.
     */
    sentAt: timestampSchema.nullable().default(null),
    deliveredAt: timestampSchema.nullable().default(null),
    readAt: timestampSchema.nullable().default(null),
    /**
     * A campaign's message to one recipient: sent by the bot's campaign driver (after its typing
     * time, paced by the governor), never by the outbox's own loop.
     */
    campaign: z
      .object({ campaignId: z.string().min(1), personId: z.string().min(1) })
      .nullable()
      .default(null),
    ...common,
  }),
]);
export type OutboxItem = z.output<typeof outboxItemSchema>;

/** The fields every item has, as a new item carries them. */
export type OutboxItemBase = Omit<Extract<OutboxItem, { kind: "disconnect" }>, "kind">;

/** A new, pending item's common fields; spread it into the kind-specific ones. */
export function pendingOutboxItem(
  requestedBy: string,
  now: Timestamp,
  request: { idempotencyKey: string | null; requestHash: string | null } = { idempotencyKey: null, requestHash: null },
): OutboxItemBase {
  return {
    status: "pending",
    requestedBy,
    ...request,
    attempts: 0,
    claim: null,
    error: null,
    createdAt: now,
    updatedAt: now,
  };
}

export type SendItem = Extract<OutboxItem, { kind: "send" }>;

/**
 * A new message for the bot's runner to send: the one way a send item is made, whether the tenant
 * API queued it (with its Idempotency-Key) or the platform did (a job's result, a campaign message).
 * Its WhatsApp message id is reserved by the runner when it claims the item.
 */
export function pendingSendItem(
  send: {
    to: string;
    content: OutboxContent;
    requestedBy: string;
    campaign?: { campaignId: string; personId: string } | undefined;
  },
  now: Timestamp,
  request?: { idempotencyKey: string | null; requestHash: string | null },
): SendItem {
  return {
    ...pendingOutboxItem(send.requestedBy, now, request),
    kind: "send",
    to: send.to,
    content: send.content,
    messageId: null,
    sentAt: null,
    deliveredAt: null,
    readAt: null,
    campaign: send.campaign ?? null,
  };
}
