import { type EventType, eventDataSchemas, eventTypes, explicitOnlyEventTypes } from "@whatsdex/core";
import { z } from "zod";
import type { ZodOpenApiOperationObject, ZodOpenApiPathsObject } from "zod-openapi";

/** The three Standard Webhooks headers on every request we make to an endpoint. */
const standardWebhooksHeaders = z.object({
  "webhook-id": z.string().meta({
    description:
      "The event's id: the same on every retry and replay of this event, so a receiver can drop one it has handled.",
  }),
  "webhook-timestamp": z.string().regex(/^\d+$/).meta({
    description: "When this attempt was signed, in Unix seconds. Refuse requests more than 5 minutes off.",
  }),
  "webhook-signature": z.string().meta({
    description:
      "Space-separated `v1,<base64 HMAC-SHA256>` signatures of `{webhook-id}.{webhook-timestamp}.{body}` with the endpoint's secret (the base64 after `whsec_`); two during the 24 hours after a secret rotation. Any one matching is enough.",
  }),
});

function titleOf(type: EventType): string {
  return type
    .split(/[._]/)
    .map((part) => `${part.charAt(0).toUpperCase()}${part.slice(1)}`)
    .join("");
}

function definition(type: EventType): ZodOpenApiOperationObject {
  const explicit = explicitOnlyEventTypes.has(type)
    ? " Sent only to endpoints that name this type: `*` does not include it."
    : "";
  return {
    operationId: `${titleOf(type).charAt(0).toLowerCase()}${titleOf(type).slice(1)}Webhook`,
    summary: `The ${type} event`,
    description: `POSTed as JSON to every enabled endpoint subscribed to \`${type}\`.${explicit}`,
    tags: ["Webhook events"],
    requestParams: { header: standardWebhooksHeaders },
    requestBody: {
      required: true,
      content: {
        "application/json": {
          schema: z
            .object({
              type: z.literal(type),
              timestamp: z.iso.datetime({ offset: true }).meta({ description: "When it happened." }),
              data: eventDataSchemas[type],
            })
            .meta({ id: `${titleOf(type)}WebhookBody` }),
        },
      },
    },
    responses: {
      "2XX": { description: "Received: any 2xx within 15 seconds; the body is ignored." },
      "410": { description: "Gone: the endpoint is disabled at once and receives nothing more." },
      "429": {
        description:
          "Too many requests: tried again after `Retry-After` (seconds), or on the schedule if it is absent.",
      },
      "503": { description: "Unavailable: as 429." },
      default: {
        description:
          "Anything else, a redirect (never followed), a timeout or no connection is a failed attempt, tried again after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h (with jitter); an endpoint failing for 5 days is disabled.",
      },
    },
  };
}

/** Every event type as an OpenAPI 3.1 webhook: what an endpoint receives, with its headers and body. */
export function webhookDefinitions(): ZodOpenApiPathsObject {
  return Object.fromEntries(eventTypes.map((type) => [type, { post: definition(type) }]));
}
