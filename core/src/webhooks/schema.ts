import { z } from "zod";
import { eventTypeSchema } from "../events/schema.ts";
import { timestampSchema } from "../firestore/timestamps.ts";

/** What an endpoint subscribes to: event types, or `*` for every type except the explicit-only ones. */
export const webhookEventFilterSchema = z.union([z.tuple([z.literal("*")]), z.array(eventTypeSchema).min(1).max(20)]);

/**
 * `tenants/{t}/webhooks/{webhookId}`: one of the tenant's endpoints. Readable by the tenant's members
 * (the dashboard); its signing secrets live apart, in `…/webhooks/{id}/secret/current`, server-only.
 */
export const webhookEndpointDocSchema = z.object({
  url: z.string().url(),
  events: webhookEventFilterSchema,
  description: z.string().max(500).nullable(),
  enabled: z.boolean(),
  /** Why the platform disabled it (410 Gone, failing for 5 days), or null; cleared when re-enabled. */
  disabledReason: z.string().nullable(),
  /** The first failure of the current unbroken run of failures; null after any success. */
  failingSince: timestampSchema.nullable(),
  createdBy: z.string().min(1),
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
});
export type WebhookEndpointDoc = z.output<typeof webhookEndpointDocSchema>;

/**
 * `…/webhooks/{id}/secret/current`: the secrets that sign requests, `whsec_` + base64 of 32 random
 * bytes. After a rotation the previous one signs too until `previousExpiresAt` (24 h), so receivers
 * can switch without dropping a request. Never readable by clients.
 */
export const webhookSecretDocSchema = z.object({
  current: z.string().startsWith("whsec_"),
  previous: z.string().startsWith("whsec_").nullable(),
  previousExpiresAt: timestampSchema.nullable(),
  rotatedAt: timestampSchema,
});
export type WebhookSecretDoc = z.output<typeof webhookSecretDocSchema>;

/** One request made to an endpoint, as the delivery log shows it. */
export const deliveryAttemptSchema = z.object({
  at: timestampSchema,
  /** The HTTP status, or null when no response came (refused address, timeout, connection error). */
  statusCode: z.number().int().nullable(),
  /** Why no response (or why a response counts as failure), for the tenant to read. */
  error: z.string().nullable(),
  latencyMs: z.number().int().min(0),
  /** The first 1 KB of the response body. */
  response: z.string().max(1_024).nullable(),
  /** A replay requested through the API, not the automatic schedule. */
  replay: z.boolean(),
});
export type DeliveryAttempt = z.output<typeof deliveryAttemptSchema>;

export const deliveryStatusSchema = z.enum(["pending", "delivered", "retrying", "failed", "cancelled"]);

/**
 * `…/webhooks/{id}/deliveries/{eventId}`: one event's delivery to one endpoint, with every attempt
 * (the schedule has 10; replays add more, the oldest dropped past 50). Removed with the event by TTL.
 */
export const webhookDeliveryDocSchema = z.object({
  eventId: z.string().min(1),
  type: eventTypeSchema,
  status: deliveryStatusSchema,
  attempts: z.array(deliveryAttemptSchema).max(50),
  nextAttemptAt: timestampSchema.nullable(),
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
  expiresAt: timestampSchema,
});
export type WebhookDeliveryDoc = z.output<typeof webhookDeliveryDocSchema>;
