import { pageLimitSchema, recipientStatusSchema, resourceIdSchema } from "@whatsdex/core";
import { z } from "zod";
import { auditContext } from "../audit/context.ts";
import { defineRoute } from "../http/route.ts";
import { pageOf, pageQuery, tenantParams } from "../http/schemas.ts";
import {
  campaignSchema,
  createCampaignBody,
  recipientSchema,
  toCampaign,
  toRecipient,
  updateCampaignBody,
} from "./dto.ts";

const campaignParams = tenantParams.extend({ campaignId: resourceIdSchema });
const tag = "Campaigns";
const one = { 200: { description: "The campaign, with its counts", schema: campaignSchema } };
const moveRefused = { 409: { description: "Not possible from the campaign's status (code `conflict`)." } };

/**
 * Campaigns: owners, admins and `messages`/`admin` keys write; every member and `read` keys read.
 * Sending is the owning runners', paced per bot (ADR 24); these routes never send.
 */
export const campaignRoutes = [
  defineRoute({
    method: "get",
    path: "/tenants/{tenantId}/campaigns",
    operationId: "listCampaigns",
    summary: "List campaigns, newest first, with their counts",
    tag,
    auth: "user-or-api-key",
    permission: "campaigns:read",
    params: tenantParams,
    query: pageQuery,
    responses: { 200: { description: "A page of campaigns", schema: pageOf(campaignSchema) } },
    async handle({ params, query, services }) {
      const page = await services.campaigns.list(params.tenantId, query);
      return { status: 200, body: { items: page.items.map(toCampaign), nextCursor: page.nextCursor } };
    },
  }),
  defineRoute({
    method: "post",
    path: "/tenants/{tenantId}/campaigns",
    operationId: "createCampaign",
    summary: "Create a campaign as a draft",
    tag,
    auth: "user-or-api-key",
    permission: "campaigns:write",
    params: tenantParams,
    body: createCampaignBody,
    responses: { 201: { description: "The draft", schema: campaignSchema } },
    async handle(context) {
      const { access, body, services } = context;
      const created = await services.campaigns.create(access, body, auditContext(context));
      return {
        status: 201,
        body: toCampaign(created),
        headers: { Location: `/v1/tenants/${access.tenantId}/campaigns/${created.id}` },
      };
    },
  }),
  defineRoute({
    method: "get",
    path: "/tenants/{tenantId}/campaigns/{campaignId}",
    operationId: "getCampaign",
    summary: "A campaign, with how many recipients are in each state",
    tag,
    auth: "user-or-api-key",
    permission: "campaigns:read",
    params: campaignParams,
    responses: one,
    async handle({ params, services }) {
      return { status: 200, body: toCampaign(await services.campaigns.get(params.tenantId, params.campaignId)) };
    },
  }),
  defineRoute({
    method: "patch",
    path: "/tenants/{tenantId}/campaigns/{campaignId}",
    operationId: "updateCampaign",
    summary: "Change a draft (recipients planned by an earlier scheduling are dropped)",
    tag,
    auth: "user-or-api-key",
    permission: "campaigns:write",
    params: campaignParams,
    body: updateCampaignBody,
    responses: { ...one, ...moveRefused },
    async handle(context) {
      const { access, params, body, services } = context;
      const updated = await services.campaigns.update(access, params.campaignId, body, auditContext(context));
      return { status: 200, body: toCampaign(updated) };
    },
  }),
  defineRoute({
    method: "delete",
    path: "/tenants/{tenantId}/campaigns/{campaignId}",
    operationId: "deleteCampaign",
    summary: "Delete a draft (a campaign that ran is kept as the record of what was sent)",
    tag,
    auth: "user-or-api-key",
    permission: "campaigns:write",
    params: campaignParams,
    responses: { 204: { description: "Deleted" }, ...moveRefused },
    async handle(context) {
      const { access, params, services } = context;
      await services.campaigns.delete(access, params.campaignId, auditContext(context));
      return { status: 204 };
    },
  }),
  defineRoute({
    method: "post",
    path: "/tenants/{tenantId}/campaigns/{campaignId}/schedule",
    operationId: "scheduleCampaign",
    summary: "Check the plan, write the recipients and schedule (or start) a draft",
    description:
      "Refused with 403 `plan_limit` when the plan has no campaigns, the audience is larger than the plan's recipients per campaign, or it would take more than 30 days at the plan's messages per day; 402 while payments have failed past the grace period. Interrupted, the draft stays a draft and scheduling it again resumes writing its recipients.",
    tag,
    auth: "user-or-api-key",
    permission: "campaigns:write",
    params: campaignParams,
    responses: {
      200: { description: "Scheduled (a start in the future) or running", schema: campaignSchema },
      402: { description: "Payments failed past the grace period (code `payment_required`)." },
      409: {
        description:
          "Not paused, or WhatsApp's message-capping warning still holds on one of its bots (code `conflict`).",
      },
    },
    async handle(context) {
      const { access, params, services } = context;
      return {
        status: 200,
        body: toCampaign(await services.campaigns.schedule(access, params.campaignId, auditContext(context))),
      };
    },
  }),
  defineRoute({
    method: "post",
    path: "/tenants/{tenantId}/campaigns/{campaignId}/pause",
    operationId: "pauseCampaign",
    summary: "Pause a scheduled or running campaign",
    tag,
    auth: "user-or-api-key",
    permission: "campaigns:write",
    params: campaignParams,
    body: z.strictObject({ reason: z.string().trim().min(1).max(200).optional() }),
    responses: { ...one, ...moveRefused },
    async handle(context) {
      const { access, params, body, services } = context;
      const paused = await services.campaigns.pause(
        access,
        params.campaignId,
        body.reason ?? null,
        auditContext(context),
      );
      return { status: 200, body: toCampaign(paused) };
    },
  }),
  defineRoute({
    method: "post",
    path: "/tenants/{tenantId}/campaigns/{campaignId}/resume",
    operationId: "resumeCampaign",
    summary: "Resume a paused campaign",
    description:
      "Refused with 403 `plan_limit` when the plan no longer allows the campaign (a downgrade paused it), 402 while payments have failed past the grace period, and 409 while WhatsApp's message-capping warning holds on one of its bots (naming the bot and when the cycle ends). Resuming clears what the pacing governor latched on its bots (a 463, the failure breaker).",
    tag,
    auth: "user-or-api-key",
    permission: "campaigns:write",
    params: campaignParams,
    responses: {
      ...one,
      402: { description: "Payments failed past the grace period (code `payment_required`)." },
      409: {
        description:
          "Not paused, or WhatsApp's message-capping warning still holds on one of its bots (code `conflict`).",
      },
    },
    async handle(context) {
      const { access, params, services } = context;
      return {
        status: 200,
        body: toCampaign(await services.campaigns.resume(access, params.campaignId, auditContext(context))),
      };
    },
  }),
  defineRoute({
    method: "post",
    path: "/tenants/{tenantId}/campaigns/{campaignId}/cancel",
    operationId: "cancelCampaign",
    summary: "Cancel a campaign for good (what was sent stays sent)",
    tag,
    auth: "user-or-api-key",
    permission: "campaigns:write",
    params: campaignParams,
    responses: { ...one, ...moveRefused },
    async handle(context) {
      const { access, params, services } = context;
      return {
        status: 200,
        body: toCampaign(await services.campaigns.cancel(access, params.campaignId, auditContext(context))),
      };
    },
  }),
  defineRoute({
    method: "get",
    path: "/tenants/{tenantId}/campaigns/{campaignId}/recipients",
    operationId: "listCampaignRecipients",
    summary: "A campaign's recipients and where each stands (in person id order)",
    tag,
    auth: "user-or-api-key",
    permission: "campaigns:read",
    params: campaignParams,
    query: z.strictObject({
      limit: pageLimitSchema,
      cursor: z.string().min(1).max(200).optional(),
      status: recipientStatusSchema.optional(),
    }),
    responses: { 200: { description: "A page of recipients", schema: pageOf(recipientSchema) } },
    async handle({ params, query, services }) {
      const page = await services.campaigns.recipients(params.tenantId, params.campaignId, query);
      return {
        status: 200,
        body: { items: page.items.map((i) => toRecipient(i.personId, i.recipient)), nextCursor: page.nextCursor },
      };
    },
  }),
];
