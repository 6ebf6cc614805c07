import { z } from "zod";
import { billingIntervalSchema, subscriptionStatusSchema } from "../billing/schema.ts";
import { botStateSchema } from "../bots/schema.ts";
import { timestampSchema } from "../firestore/timestamps.ts";

/**
 * What happened, as the tenant's own systems hear it through webhooks. One schema per event type:
 * the webhook body is `{type, timestamp, data}` with `data` as below, and the OpenAPI document
 * publishes each as a webhook definition. Payloads stay small (media is referenced by id, fetched
 * with `GET …/bots/{b}/media/{id}`), so a body is far under 20 KB.
 */

const isoTime = z.iso.datetime({ offset: true });
const botIdField = z.string().min(1).meta({ description: "The bot that saw or did this." });

/** A WhatsApp user: LID first (WhatsApp's stable id), the phone number when the bot knows it. */
export const personRefSchema = z
  .object({
    lid: z.string().nullable().meta({ description: "`…@lid`, WhatsApp's privacy-preserving id." }),
    pn: z.string().nullable().meta({ description: "`…@s.whatsapp.net`, when the bot has seen the number." }),
    name: z.string().nullable().meta({ description: "Their WhatsApp display name (push name), if sent." }),
  })
  .meta({ id: "PersonRef" });
export type PersonRef = z.output<typeof personRefSchema>;

const mediaRef = {
  mediaId: z
    .string()
    .nullable()
    .meta({ description: "Fetch with GET …/bots/{botId}/media/{mediaId}; null if not kept (too large, or failed)." }),
  mimetype: z.string().nullable(),
  bytes: z.number().int().nullable(),
};

/** A message's content as events carry it: text in full (≤ 4,096 chars), media by reference. */
export const eventContentSchema = z
  .discriminatedUnion("type", [
    z.object({ type: z.literal("text"), text: z.string() }),
    z.object({ type: z.literal("image"), caption: z.string().nullable(), ...mediaRef }),
    z.object({ type: z.literal("video"), caption: z.string().nullable(), ...mediaRef }),
    z.object({ type: z.literal("audio"), voiceNote: z.boolean(), seconds: z.number().nullable(), ...mediaRef }),
    z.object({
      type: z.literal("document"),
      fileName: z.string().nullable(),
      caption: z.string().nullable(),
      ...mediaRef,
    }),
    z.object({ type: z.literal("sticker"), animated: z.boolean(), ...mediaRef }),
    z.object({
      type: z.literal("location"),
      latitude: z.number(),
      longitude: z.number(),
      name: z.string().nullable(),
      address: z.string().nullable(),
    }),
    z.object({ type: z.literal("contact"), displayName: z.string().nullable(), vcard: z.string() }),
    z.object({ type: z.literal("reaction"), emoji: z.string(), targetId: z.string() }),
    z.object({
      type: z.literal("other"),
      kind: z.string().meta({ description: "WhatsApp's message kind (e.g. `pollCreationMessage`)." }),
    }),
  ])
  .meta({ id: "EventMessageContent" });
export type EventContent = z.output<typeof eventContentSchema>;

export const messageReceivedSchema = z
  .object({
    botId: botIdField,
    messageId: z.string().meta({ description: "WhatsApp's id of the message." }),
    chat: z.string().meta({ description: "The chat: a person's JID or a group (`…@g.us`)." }),
    chatType: z.enum(["private", "group"]),
    from: personRefSchema,
    sentAt: isoTime,
    quotedId: z.string().nullable().meta({ description: "The message this one replies to." }),
    mentions: z.array(z.string()),
    content: eventContentSchema,
  })
  .meta({ id: "MessageReceivedEvent" });

/** Statuses as the message API reports them (`GET …/messages/{id}`). */
export const messageStatusSchema = z.enum([
  "queued",
  "sending",
  "sent",
  "delivered",
  "read",
  "failed",
  "indeterminate",
]);
export type MessageStatus = z.output<typeof messageStatusSchema>;

export const messageSentSchema = z
  .object({
    botId: botIdField,
    messageId: z.string().meta({ description: "The id the API returned when the message was queued." }),
    whatsappMessageId: z.string(),
    to: z.string(),
    contentType: z.string(),
    sentAt: isoTime,
  })
  .meta({ id: "MessageSentEvent" });

export const messageStatusEventSchema = z
  .object({
    botId: botIdField,
    messageId: z.string(),
    whatsappMessageId: z.string().nullable(),
    to: z.string(),
    status: messageStatusSchema.exclude(["queued", "sending"]),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    at: isoTime,
  })
  .meta({ id: "MessageStatusEvent" });

export const botStatusEventSchema = z
  .object({
    botId: botIdField,
    state: botStateSchema,
    reason: z.string().nullable(),
    phoneNumber: z.string().nullable(),
    at: isoTime,
  })
  .meta({ id: "BotStatusEvent" });

export const botQrEventSchema = z
  .object({
    botId: botIdField,
    qr: z.string().meta({ description: "Render as a QR code for the phone to scan; replaced every 20-60 s." }),
    at: isoTime,
  })
  .meta({ id: "BotQrEvent" });

export const groupParticipantsEventSchema = z
  .object({
    botId: botIdField,
    group: z.string(),
    action: z.enum(["add", "remove", "promote", "demote", "modify"]),
    author: personRefSchema.nullable(),
    participants: z.array(personRefSchema),
    at: isoTime,
  })
  .meta({ id: "GroupParticipantsEvent" });

export const webhookTestEventSchema = z
  .object({ webhookId: z.string(), message: z.string() })
  .meta({ id: "WebhookTestEvent" });

const planField = z.enum(["free", "starter", "business", "enterprise"]);

/** The tenant's subscription as it stands after a change (every `billing.*` event carries it). */
export const billingSnapshotSchema = z
  .object({
    plan: planField.meta({ description: "The plan the tenant's limits come from now." }),
    status: subscriptionStatusSchema,
    interval: billingIntervalSchema.nullable(),
    currentPeriodEnd: isoTime.nullable(),
    cancelAt: isoTime.nullable(),
    trialEnd: isoTime.nullable(),
    restrictFrom: isoTime
      .nullable()
      .meta({ description: "While payments fail: when API sends stop (402) until an invoice is paid." }),
    restricted: z.boolean().meta({ description: "Outbound sending is refused until an invoice is paid." }),
  })
  .meta({ id: "BillingSnapshot" });

export const billingSubscriptionEventSchema = z
  .object({
    previousPlan: planField,
    previousStatus: subscriptionStatusSchema,
    billing: billingSnapshotSchema,
    stoppedBotIds: z
      .array(z.string())
      .meta({ description: "Bots stopped because the new plan allows fewer (newest first, kept ones last)." }),
    pausedCampaignIds: z.array(z.string()).meta({
      description: "Campaigns paused because the new plan does not allow them (its recipients per campaign).",
    }),
    at: isoTime,
  })
  .meta({ id: "BillingSubscriptionEvent" });

export const billingInvoiceEventSchema = z
  .object({
    invoiceId: z.string(),
    amountDue: z.number().int().meta({ description: "In the currency's smallest unit (cents)." }),
    currency: z.string(),
    hostedInvoiceUrl: z.string().nullable().meta({ description: "Where the customer can pay or authenticate." }),
    nextPaymentAttempt: isoTime.nullable(),
    billing: billingSnapshotSchema,
    at: isoTime,
  })
  .meta({ id: "BillingInvoiceEvent" });

export const billingRestrictionEventSchema = z
  .object({ billing: billingSnapshotSchema, at: isoTime })
  .meta({ id: "BillingRestrictionEvent" });

export const billingTrialEventSchema = z
  .object({ trialEnd: isoTime.nullable(), billing: billingSnapshotSchema, at: isoTime })
  .meta({ id: "BillingTrialEvent" });

export const campaignStatusEventSchema = z
  .object({
    campaignId: z.string(),
    status: z.enum(["draft", "scheduled", "running", "paused", "completed", "cancelled"]),
    reason: z.string().nullable().meta({ description: "Why (a person's pause, WhatsApp's signal, the plan)." }),
    counts: z.object({
      total: z.number().int(),
      pending: z.number().int(),
      sending: z.number().int(),
      sent: z.number().int(),
      failed: z.number().int(),
      skipped: z.number().int(),
    }),
    at: isoTime,
  })
  .meta({ id: "CampaignStatusEvent" });

/** Every event type and its `data`. Adding a type here is adding it to the API and the docs. */
export const eventDataSchemas = {
  "message.received": messageReceivedSchema,
  "message.sent": messageSentSchema,
  "message.status": messageStatusEventSchema,
  "bot.status": botStatusEventSchema,
  "bot.qr": botQrEventSchema,
  "group.participants": groupParticipantsEventSchema,
  "billing.subscription_updated": billingSubscriptionEventSchema,
  "billing.payment_failed": billingInvoiceEventSchema,
  "billing.payment_action_required": billingInvoiceEventSchema,
  "billing.payment_succeeded": billingInvoiceEventSchema,
  "billing.trial_will_end": billingTrialEventSchema,
  "billing.restricted": billingRestrictionEventSchema,
  "billing.restored": billingRestrictionEventSchema,
  "campaign.status": campaignStatusEventSchema,
  "webhook.test": webhookTestEventSchema,
} as const;

export type EventType = keyof typeof eventDataSchemas;
export const eventTypes = Object.keys(eventDataSchemas) as [EventType, ...EventType[]];
export const eventTypeSchema = z.enum(eventTypes);

/** Only endpoints that name it get it (`*` does not): the QR code links the number to whoever holds it. */
export const explicitOnlyEventTypes: ReadonlySet<EventType> = new Set(["bot.qr", "webhook.test"]);

export type EventData<T extends EventType> = z.output<(typeof eventDataSchemas)[T]>;

/** An event as a producer hands it to the publisher. */
export type NewEvent = {
  [T in EventType]: {
    type: T;
    data: EventData<T>;
    /**
     * A natural key, so the same happening published twice (a redelivered WhatsApp message, a retried
     * job) is one event. Absent, the event is unique.
     */
    key?: string;
    /** When it happened (ms); defaults to now. */
    at?: number;
  };
}[EventType];

/** The JSON body of a webhook request (Standard Webhooks' recommended shape). */
export const webhookBodySchema = z.object({ type: eventTypeSchema, timestamp: isoTime, data: z.unknown() });
export type WebhookBody = z.output<typeof webhookBodySchema>;

/**
 * `tenants/{t}/events/{eventId}`: an event kept while it may still be delivered or replayed; a TTL
 * policy on `expiresAt` removes it. Written only when some enabled endpoint subscribed to its type.
 */
export const eventDocSchema = z.object({
  type: eventTypeSchema,
  botId: z.string().nullable(),
  /** The webhook body, serialised once so every attempt and replay signs the same bytes. */
  body: z.string(),
  /** The endpoints subscribed when it was published: one delivery each. */
  endpointIds: z.array(z.string()),
  /** False until the delivery jobs were queued; a sweeper queues any left false by a crash. */
  dispatched: z.boolean(),
  createdAt: timestampSchema,
  expiresAt: timestampSchema,
});
export type EventDoc = z.output<typeof eventDocSchema>;

/**
 * Where producers hand events (the runner, the API's `webhook.test`, billing later). Implemented by
 * the webhook publisher; producers never know whether anyone listens.
 */
export interface EventSink {
  /** Stores each event some enabled endpoint subscribes to and queues its deliveries; the rest are dropped. */
  publish(tenantId: string, events: readonly NewEvent[]): Promise<void>;
  /** Whether any enabled endpoint of the tenant would receive `type` (so costly payload parts, like inbound media, are made only then). */
  subscribed(tenantId: string, type: EventType): Promise<boolean>;
  /** Keeps the tenant's subscriptions current while held (a process running its bots); returns the release. */
  watchTenant(tenantId: string): () => void;
}
