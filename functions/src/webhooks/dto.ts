import {
  deliveryStatusSchema,
  eventTypeSchema,
  toIso,
  toIsoOrNull,
  type WebhookDeliveryDoc,
  type WebhookEndpointDoc,
  type WebhookSecrets,
} from "@whatsdex/core";
import { z } from "zod";
import { isoDateTime } from "../http/schemas.ts";

/**
 * What an endpoint subscribes to, as requests name it: event types, or `["*"]` for every type
 * except the explicit-only ones (`bot.qr`, `webhook.test`), which must be named.
 */
export const webhookEventsInput = z
  .array(z.union([z.literal("*"), eventTypeSchema]))
  .min(1)
  .max(20)
  .refine((events) => !events.includes("*") || events.length === 1, {
    message: '"*" stands alone: every type but bot.qr and webhook.test; list types to add those',
  })
  .transform((events) => (events.includes("*") ? (["*"] as ["*"]) : [...new Set(events.filter((e) => e !== "*"))]))
  .meta({
    description:
      'Event types to receive, or `["*"]` for all of them except `bot.qr` and `webhook.test` (those go only to endpoints that name them).',
  });

const description = z.string().trim().max(500);
/** Checked in full by the service (scheme, internal addresses), which names `url` in its error. */
const url = z
  .string()
  .trim()
  .min(1)
  .max(2_048)
  .meta({ description: "https URL that receives the events (http only in local development)." });

export const createWebhookBody = z.strictObject({
  url,
  events: webhookEventsInput,
  description: description.optional(),
});

export const updateWebhookBody = z.strictObject({
  url: url.optional(),
  events: webhookEventsInput.optional(),
  description: description.nullable().optional(),
  enabled: z
    .boolean()
    .optional()
    .meta({ description: "Turning it back on clears `disabledReason` and `failingSince`." }),
});

export const webhookSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(z.union([z.literal("*"), eventTypeSchema])),
    description: z.string().nullable(),
    enabled: z.boolean(),
    disabledReason: z
      .string()
      .nullable()
      .meta({ description: "Why the platform turned it off (410 Gone, failing for 5 days); null otherwise." }),
    failingSince: isoDateTime
      .nullable()
      .meta({ description: "The first failure of the current run of failures; null after any success." }),
    createdBy: z.string(),
    createdAt: isoDateTime,
    updatedAt: isoDateTime,
  })
  .meta({ id: "Webhook" });

export const createdWebhookSchema = webhookSchema
  .extend({
    secret: z.string().meta({
      description:
        "`whsec_…`: verifies our signatures. Shown only in this response (owners and admins can ask for it again).",
    }),
  })
  .meta({ id: "CreatedWebhook" });

export const webhookSecretSchema = z
  .object({
    secret: z.string().meta({ description: "`whsec_…`, the secret that signs every request." }),
    rotatedAt: isoDateTime,
    previousExpiresAt: isoDateTime.nullable().meta({
      description: "Until then the secret before the last rotation signs too (a second `v1,` signature).",
    }),
  })
  .meta({ id: "WebhookSecret" });

export const deliveryAttemptSchema = z
  .object({
    at: isoDateTime,
    statusCode: z.number().int().nullable().meta({ description: "The HTTP status; null when no response came." }),
    error: z.string().nullable().meta({ description: "Why it failed (network error, timeout, status)." }),
    latencyMs: z.number().int(),
    response: z.string().nullable().meta({ description: "The first 1 KB of the response body." }),
    replay: z.boolean().meta({ description: "Asked for through the API, not part of the schedule." }),
  })
  .meta({ id: "WebhookDeliveryAttempt" });

export const deliverySchema = z
  .object({
    id: z.string().meta({ description: "The event's id, which is also the `webhook-id` header of every attempt." }),
    eventId: z.string(),
    type: eventTypeSchema,
    status: deliveryStatusSchema,
    attempts: z.array(deliveryAttemptSchema),
    nextAttemptAt: isoDateTime.nullable(),
    createdAt: isoDateTime,
    updatedAt: isoDateTime,
  })
  .meta({ id: "WebhookDelivery" });

export const replayQueuedSchema = z
  .object({
    queued: z.number().int().min(0).meta({ description: "Deliveries queued to be made again." }),
    nextFrom: isoDateTime.nullable().meta({
      description: "More deliveries lie in the range than one call queues: call again with this as `from`.",
    }),
  })
  .meta({ id: "WebhookReplayQueued" });

export const testQueuedSchema = z
  .object({
    eventId: z.string().meta({ description: "The `webhook.test` event; its delivery is listed under this id." }),
  })
  .meta({ id: "WebhookTestQueued" });

export function toWebhook(id: string, endpoint: WebhookEndpointDoc): z.output<typeof webhookSchema> {
  return {
    id,
    url: endpoint.url,
    events: [...endpoint.events],
    description: endpoint.description,
    enabled: endpoint.enabled,
    disabledReason: endpoint.disabledReason,
    failingSince: toIsoOrNull(endpoint.failingSince),
    createdBy: endpoint.createdBy,
    createdAt: toIso(endpoint.createdAt),
    updatedAt: toIso(endpoint.updatedAt),
  };
}

export function toWebhookSecret(secrets: WebhookSecrets): z.output<typeof webhookSecretSchema> {
  return {
    secret: secrets.secret,
    rotatedAt: toIso(secrets.rotatedAt),
    previousExpiresAt: toIsoOrNull(secrets.previousExpiresAt),
  };
}

export function toDelivery(id: string, delivery: WebhookDeliveryDoc): z.output<typeof deliverySchema> {
  return {
    id,
    eventId: delivery.eventId,
    type: delivery.type,
    status: delivery.status,
    attempts: delivery.attempts.map((attempt) => ({ ...attempt, at: toIso(attempt.at) })),
    nextAttemptAt: toIsoOrNull(delivery.nextAttemptAt),
    createdAt: toIso(delivery.createdAt),
    updatedAt: toIso(delivery.updatedAt),
  };
}
