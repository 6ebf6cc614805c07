import {
  botNameSchema,
  botSettingsPatchSchema,
  messageContentSchema,
  phoneDigitsSchema,
  recipientSchema,
  resourceIdSchema,
  transportSchema,
} from "@whatsdex/core";
import { z } from "zod";
import { auditContext } from "../audit/context.ts";
import { defineRoute } from "../http/route.ts";
import { pageOf, pageQuery, tenantParams } from "../http/schemas.ts";
import { botSchema, messageSchema, queuedSchema, toBot, toMessage, toQueued } from "./dto.ts";

const botParams = tenantParams.extend({ botId: resourceIdSchema });

const connectBody = z.discriminatedUnion("method", [
  z.strictObject({ method: z.literal("qr") }),
  z.strictObject({ method: z.literal("pairing_code"), phoneNumber: phoneDigitsSchema }),
]);

const idempotencyHeaders = z.object({
  "idempotency-key": z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/, "must be 1-255 visible ASCII characters")
    .optional()
    .meta({ description: "Retrying with the same key returns the first request's message instead of sending again." }),
});

const accepted = { 202: { description: "Queued for the bot's session-runner", schema: queuedSchema } };

export const botRoutes = [
  defineRoute({
    method: "get",
    path: "/tenants/{tenantId}/bots",
    operationId: "listBots",
    summary: "List bots",
    tag: "Bots",
    auth: "user-or-api-key",
    permission: "bots:read",
    params: tenantParams,
    query: pageQuery,
    responses: { 200: { description: "A page of bots", schema: pageOf(botSchema) } },
    async handle({ params, query, services }) {
      const page = await services.bots.list(params.tenantId, query);
      return { status: 200, body: { items: page.items.map((b) => toBot(b.id, b.data)), nextCursor: page.nextCursor } };
    },
  }),
  defineRoute({
    method: "post",
    path: "/tenants/{tenantId}/bots",
    operationId: "createBot",
    summary: "Create a bot (within the plan's bot limit)",
    tag: "Bots",
    auth: "user-or-api-key",
    permission: "bots:write",
    params: tenantParams,
    body: z.strictObject({
      name: botNameSchema,
      transport: transportSchema.optional(),
      settings: botSettingsPatchSchema.optional(),
    }),
    responses: { 201: { description: "Created, stopped until connected", schema: botSchema } },
    async handle(context) {
      const { access, body, services } = context;
      const { id, bot } = await services.bots.create(access, body, auditContext(context));
      return { status: 201, body: toBot(id, bot), headers: { Location: `/v1/tenants/${access.tenantId}/bots/${id}` } };
    },
  }),
  defineRoute({
    method: "get",
    path: "/tenants/{tenantId}/bots/{botId}",
    operationId: "getBot",
    summary: "Get a bot",
    tag: "Bots",
    auth: "user-or-api-key",
    permission: "bots:read",
    params: botParams,
    responses: { 200: { description: "The bot", schema: botSchema } },
    async handle({ params, services }) {
      return { status: 200, body: toBot(params.botId, await services.bots.get(params.tenantId, params.botId)) };
    },
  }),
  defineRoute({
    method: "patch",
    path: "/tenants/{tenantId}/bots/{botId}",
    operationId: "updateBot",
    summary: "Rename a bot or change its settings",
    tag: "Bots",
    auth: "user-or-api-key",
    permission: "bots:write",
    params: botParams,
    body: z.strictObject({
      name: botNameSchema.optional(),
      settings: botSettingsPatchSchema.optional(),
      keepOnDowngrade: z
        .boolean()
        .optional()
        .meta({ description: "Keep this bot running when a downgrade leaves room for fewer (others stop first)." }),
    }),
    responses: { 200: { description: "The updated bot", schema: botSchema } },
    async handle(context) {
      const { params, body, services } = context;
      const bot = await services.bots.update(params.tenantId, params.botId, body, auditContext(context));
      return { status: 200, body: toBot(params.botId, bot) };
    },
  }),
  defineRoute({
    method: "delete",
    path: "/tenants/{tenantId}/bots/{botId}",
    operationId: "deleteBot",
    summary: "Delete a bot, its WhatsApp session and its queued work; frees its plan slot",
    tag: "Bots",
    auth: "user-or-api-key",
    permission: "bots:write",
    params: botParams,
    responses: { 204: { description: "Deleted" } },
    async handle(context) {
      const { params, services } = context;
      await services.bots.delete(params.tenantId, params.botId, auditContext(context));
      return { status: 204 };
    },
  }),
  defineRoute({
    method: "post",
    path: "/tenants/{tenantId}/bots/{botId}/connect",
    operationId: "connectBot",
    summary: "Start the bot; link it by QR code or pairing code if it has no session yet",
    tag: "Bots",
    auth: "user-or-api-key",
    permission: "bots:write",
    params: botParams,
    body: connectBody,
    responses: accepted,
    async handle(context) {
      const { access, params, body, services } = context;
      return {
        status: 202,
        body: toQueued(await services.bots.connect(access, params.botId, body, auditContext(context))),
      };
    },
  }),
  defineRoute({
    method: "post",
    path: "/tenants/{tenantId}/bots/{botId}/disconnect",
    operationId: "disconnectBot",
    summary: "Stop the bot, keeping its session for the next connect",
    tag: "Bots",
    auth: "user-or-api-key",
    permission: "bots:write",
    params: botParams,
    responses: accepted,
    async handle(context) {
      const { access, params, services } = context;
      return {
        status: 202,
        body: toQueued(await services.bots.disconnect(access, params.botId, auditContext(context))),
      };
    },
  }),
  defineRoute({
    method: "post",
    path: "/tenants/{tenantId}/bots/{botId}/logout",
    operationId: "logoutBot",
    summary: "Log the number out of WhatsApp and forget the session",
    tag: "Bots",
    auth: "user-or-api-key",
    permission: "bots:write",
    params: botParams,
    responses: accepted,
    async handle(context) {
      const { access, params, services } = context;
      return { status: 202, body: toQueued(await services.bots.logout(access, params.botId, auditContext(context))) };
    },
  }),
  defineRoute({
    method: "post",
    path: "/tenants/{tenantId}/bots/{botId}/messages",
    operationId: "sendMessage",
    summary: "Queue a message from the bot",
    description:
      "Text (with mentions), image, video, audio (voice note), document, sticker, location, contact (vCard) or " +
      "reaction. Media is an upload (`POST /v1/tenants/{tenantId}/media`) or an https URL fetched once now; the " +
      "bot gets its own copy, deleted once the message is sent. `quotedId` replies to a message the bot sent or " +
      "received in that chat within the last hour: the runner resolves it when sending, and a message whose quoted " +
      "message it no longer knows fails with `quoted_not_found` (nothing is sent). Follow the outcome with " +
      "`GET …/messages/{messageId}` or the `message.sent` and `message.status` webhooks.",
    tag: "Bots",
    auth: "user-or-api-key",
    permission: "messages:send",
    params: botParams,
    headers: idempotencyHeaders,
    body: z.strictObject({ to: recipientSchema, content: messageContentSchema }),
    responses: {
      ...accepted,
      402: {
        description:
          "The subscription's payment failed and its grace period is over (code `payment_required`): sending resumes once an invoice is paid.",
      },
    },
    async handle({ access, params, headers, body, services }) {
      const queued = await services.bots.sendMessage(access, params.botId, body, headers["idempotency-key"]);
      return { status: 202, body: toQueued(queued), headers: queued.replayed ? { "Idempotent-Replayed": "true" } : {} };
    },
  }),
  defineRoute({
    method: "get",
    path: "/tenants/{tenantId}/bots/{botId}/messages/{messageId}",
    operationId: "getMessage",
    summary: "What happened to a message the bot was asked to send",
    tag: "Bots",
    auth: "user-or-api-key",
    permission: "bots:read",
    params: botParams.extend({ messageId: resourceIdSchema }),
    responses: { 200: { description: "The message and its status", schema: messageSchema } },
    async handle({ params, services }) {
      const { id, item } = await services.bots.getMessage(params.tenantId, params.botId, params.messageId);
      return { status: 200, body: toMessage(id, item) };
    },
  }),
];
