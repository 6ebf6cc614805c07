import { deliveryStatusSchema, resourceIdSchema } from "@whatsdex/core";
import { z } from "zod";
import { auditContext } from "../audit/context.ts";
import { defineRoute } from "../http/route.ts";
import { pageOf, pageQuery, tenantParams } from "../http/schemas.ts";
import {
  createdWebhookSchema,
  createWebhookBody,
  deliverySchema,
  replayQueuedSchema,
  testQueuedSchema,
  toDelivery,
  toWebhook,
  toWebhookSecret,
  updateWebhookBody,
  webhookSchema,
  webhookSecretSchema,
} from "./dto.ts";

const webhookParams = tenantParams.extend({ webhookId: resourceIdSchema });
const deliveryParams = webhookParams.extend({ deliveryId: resourceIdSchema });
const tag = "Webhooks";
/** Responses that carry a signing secret are never kept by a cache on the way. */
const noStore = { "Cache-Control": "no-store" };
const offsetDateTime = z.iso.datetime({ offset: true });

/**
 * Webhook endpoints: owners, admins and `admin`-scoped keys (a tenant's server may register its
 * own); showing a secret again is for signed-in owners and admins only (`webhooks:secret`).
 */
export const webhookRoutes = [
  defineRoute({
    method: "get",
    path: "/tenants/{tenantId}/webhooks",
    operationId: "listWebhooks",
    summary: "List webhook endpoints (never their secrets)",
    tag,
    auth: "user-or-api-key",
    permission: "webhooks:read",
    params: tenantParams,
    query: pageQuery,
    responses: { 200: { description: "A page of endpoints, newest first", schema: pageOf(webhookSchema) } },
    async handle({ params, query, services }) {
      const page = await services.webhooks.list(params.tenantId, query);
      return {
        status: 200,
        body: { items: page.items.map((w) => toWebhook(w.id, w.data)), nextCursor: page.nextCursor },
      };
    },
  }),
  defineRoute({
    method: "post",
    path: "/tenants/{tenantId}/webhooks",
    operationId: "createWebhook",
    summary: "Register a webhook endpoint; the response is the only time its secret is shown unasked",
    description:
      "At most 10 endpoints per tenant. Each request we make is signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature` headers): see the `webhooks` section of this document for every event.",
    tag,
    auth: "user-or-api-key",
    permission: "webhooks:write",
    params: tenantParams,
    body: createWebhookBody,
    responses: { 201: { description: "Registered", schema: createdWebhookSchema } },
    async handle(context) {
      const { access, body, services } = context;
      const { id, endpoint, secret } = await services.webhooks.create(access, body, auditContext(context));
      return {
        status: 201,
        body: { ...toWebhook(id, endpoint), secret },
        headers: { ...noStore, Location: `/v1/tenants/${access.tenantId}/webhooks/${id}` },
      };
    },
  }),
  defineRoute({
    method: "get",
    path: "/tenants/{tenantId}/webhooks/{webhookId}",
    operationId: "getWebhook",
    summary: "Get a webhook endpoint (without its secret)",
    tag,
    auth: "user-or-api-key",
    permission: "webhooks:read",
    params: webhookParams,
    responses: { 200: { description: "The endpoint", schema: webhookSchema } },
    async handle({ params, services }) {
      const endpoint = await services.webhooks.get(params.tenantId, params.webhookId);
      return { status: 200, body: toWebhook(params.webhookId, endpoint) };
    },
  }),
  defineRoute({
    method: "patch",
    path: "/tenants/{tenantId}/webhooks/{webhookId}",
    operationId: "updateWebhook",
    summary: "Change an endpoint's URL, events or description, or turn it off and on",
    tag,
    auth: "user-or-api-key",
    permission: "webhooks:write",
    params: webhookParams,
    body: updateWebhookBody,
    responses: { 200: { description: "The updated endpoint", schema: webhookSchema } },
    async handle(context) {
      const { params, body, services } = context;
      const endpoint = await services.webhooks.update(params.tenantId, params.webhookId, body, auditContext(context));
      return { status: 200, body: toWebhook(params.webhookId, endpoint) };
    },
  }),
  defineRoute({
    method: "delete",
    path: "/tenants/{tenantId}/webhooks/{webhookId}",
    operationId: "deleteWebhook",
    summary: "Delete an endpoint, its secrets and its delivery log",
    tag,
    auth: "user-or-api-key",
    permission: "webhooks:write",
    params: webhookParams,
    responses: { 204: { description: "Deleted" } },
    async handle(context) {
      const { params, services } = context;
      await services.webhooks.delete(params.tenantId, params.webhookId, auditContext(context));
      return { status: 204 };
    },
  }),
  defineRoute({
    method: "post",
    path: "/tenants/{tenantId}/webhooks/{webhookId}/rotate-secret",
    operationId: "rotateWebhookSecret",
    summary: "Make a new signing secret; the old one keeps signing for 24 hours",
    description:
      "Until `previousExpiresAt` every request carries two `v1,` signatures, one per secret, so the receiver can switch without dropping a request. Rotating again within the 24 hours retires the oldest at once.",
    tag,
    auth: "user-or-api-key",
    permission: "webhooks:write",
    params: webhookParams,
    responses: { 200: { description: "The new secret, shown this once", schema: webhookSecretSchema } },
    async handle(context) {
      const { params, services } = context;
      const secrets = await services.webhooks.rotateSecret(params.tenantId, params.webhookId, auditContext(context));
      return { status: 200, body: toWebhookSecret(secrets), headers: noStore };
    },
  }),
  defineRoute({
    method: "get",
    path: "/tenants/{tenantId}/webhooks/{webhookId}/secret",
    operationId: "revealWebhookSecret",
    summary: "Show an endpoint's signing secret again (signed-in owners and admins; audited)",
    tag,
    auth: "user-or-api-key",
    permission: "webhooks:secret",
    params: webhookParams,
    responses: { 200: { description: "The current secret", schema: webhookSecretSchema } },
    async handle(context) {
      const { params, services } = context;
      const secrets = await services.webhooks.revealSecret(params.tenantId, params.webhookId, auditContext(context));
      return { status: 200, body: toWebhookSecret(secrets), headers: noStore };
    },
  }),
  defineRoute({
    method: "post",
    path: "/tenants/{tenantId}/webhooks/{webhookId}/test",
    operationId: "testWebhook",
    summary: "Send a webhook.test event to this endpoint only",
    description:
      "The event is stored and delivered like any other (signed, retried on the same schedule, listed in the deliveries), whatever the endpoint subscribes to.",
    tag,
    auth: "user-or-api-key",
    permission: "webhooks:write",
    params: webhookParams,
    responses: {
      202: { description: "Queued for delivery", schema: testQueuedSchema },
      503: { description: "The API cannot queue deliveries (its job queue is not configured)." },
    },
    async handle({ params, services }) {
      const { eventId } = await services.webhookDeliveries.sendTest(params.tenantId, params.webhookId);
      return { status: 202, body: { eventId } };
    },
  }),
  defineRoute({
    method: "get",
    path: "/tenants/{tenantId}/webhooks/{webhookId}/deliveries",
    operationId: "listWebhookDeliveries",
    summary: "An endpoint's deliveries, newest first, each with every attempt",
    tag,
    auth: "user-or-api-key",
    permission: "webhooks:read",
    params: webhookParams,
    query: pageQuery.extend({ status: deliveryStatusSchema.optional() }),
    responses: { 200: { description: "A page of deliveries", schema: pageOf(deliverySchema) } },
    async handle({ params, query, services }) {
      const { status, ...page } = query;
      const found = await services.webhookDeliveries.list(params.tenantId, params.webhookId, page, status);
      return {
        status: 200,
        body: { items: found.items.map((d) => toDelivery(d.id, d.data)), nextCursor: found.nextCursor },
      };
    },
  }),
  defineRoute({
    method: "get",
    path: "/tenants/{tenantId}/webhooks/{webhookId}/deliveries/{deliveryId}",
    operationId: "getWebhookDelivery",
    summary: "One delivery and its attempts",
    tag,
    auth: "user-or-api-key",
    permission: "webhooks:read",
    params: deliveryParams,
    responses: { 200: { description: "The delivery", schema: deliverySchema } },
    async handle({ params, services }) {
      const delivery = await services.webhookDeliveries.get(params.tenantId, params.webhookId, params.deliveryId);
      return { status: 200, body: toDelivery(params.deliveryId, delivery) };
    },
  }),
  defineRoute({
    method: "post",
    path: "/tenants/{tenantId}/webhooks/{webhookId}/deliveries/{deliveryId}/replay",
    operationId: "replayWebhookDelivery",
    summary: "Deliver one event to this endpoint again",
    description: "Answers 409 when the endpoint is disabled or the event has expired.",
    tag,
    auth: "user-or-api-key",
    permission: "webhooks:write",
    params: deliveryParams,
    responses: {
      202: { description: "Queued", schema: replayQueuedSchema },
      503: { description: "The API cannot queue deliveries (its job queue is not configured)." },
    },
    async handle({ params, services }) {
      await services.webhookDeliveries.replay(params.tenantId, params.webhookId, params.deliveryId);
      return { status: 202, body: { queued: 1, nextFrom: null } };
    },
  }),
  defineRoute({
    method: "post",
    path: "/tenants/{tenantId}/webhooks/{webhookId}/replay",
    operationId: "replayWebhookDeliveries",
    summary: "Deliver this endpoint's events of a time range again (at most 7 days back, 1,000 per call)",
    tag,
    auth: "user-or-api-key",
    permission: "webhooks:write",
    params: webhookParams,
    body: z.strictObject({
      from: offsetDateTime.meta({ description: "Deliveries made at or after this instant (at most 7 days ago)." }),
      to: offsetDateTime.meta({ description: "…and at or before this one." }),
      status: deliveryStatusSchema.optional().meta({ description: "Only these, e.g. `failed`." }),
    }),
    responses: {
      202: { description: "Queued", schema: replayQueuedSchema },
      503: { description: "The API cannot queue deliveries (its job queue is not configured)." },
    },
    async handle({ params, body, services }) {
      const result = await services.webhookDeliveries.replayRange(params.tenantId, params.webhookId, {
        from: new Date(body.from),
        to: new Date(body.to),
        status: body.status,
      });
      return {
        status: 202,
        body: { queued: result.queued, nextFrom: result.nextFrom ? result.nextFrom.toISOString() : null },
      };
    },
  }),
];
