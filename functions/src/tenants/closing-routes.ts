import { closingPhaseSchema, type TenantDeletionDoc, tenantExportSchema, toIso, toIsoOrNull } from "@whatsdex/core";
import { z } from "zod";
import { auditContext } from "../audit/context.ts";
import { defineRoute } from "../http/route.ts";
import { isoDateTime, tenantParams } from "../http/schemas.ts";

const closeBody = z.strictObject({
  confirm: z.string().max(200).meta({ description: "The tenant's exact name, as a confirmation." }),
});

export const closingSchema = z
  .object({
    tenantId: z.string(),
    phase: closingPhaseSchema.meta({
      description:
        "cancel_subscription → await_logouts → delete_media → delete_data → done. Once done, the tenant is gone and this answers 404.",
    }),
    requestedAt: isoDateTime,
    logoutDeadline: isoDateTime.meta({ description: "Bots not logged out by then are deleted anyway." }),
    bots: z.number().int().meta({ description: "Bots told to log out of WhatsApp." }),
    unconfirmedBots: z.array(z.string()).meta({ description: "Bots whose logout was not confirmed in time." }),
    retrying: z.boolean().meta({ description: "A step failed and is being retried." }),
    doneAt: isoDateTime.nullable(),
  })
  .meta({ id: "AccountClosing" });

const closingStatusSchema = z.object({ closing: closingSchema.nullable() }).meta({ id: "AccountClosingStatus" });

function toClosing(tenantId: string, deletion: TenantDeletionDoc): z.output<typeof closingSchema> {
  return {
    tenantId,
    phase: deletion.phase,
    requestedAt: toIso(deletion.requestedAt),
    logoutDeadline: toIso(deletion.logoutDeadline),
    bots: deletion.logouts.length,
    unconfirmedBots: deletion.unconfirmedBots,
    retrying: deletion.lastError !== null && deletion.phase !== "done",
    doneAt: toIsoOrNull(deletion.doneAt),
  };
}

/** Closing an account and, before that, its export (ADR 23): signed-in owners only (`tenant:delete`). */
export const closingRoutes = [
  defineRoute({
    method: "get",
    path: "/tenants/{tenantId}/export",
    operationId: "exportTenant",
    summary: "Everything the tenant owns, as one JSON file",
    description:
      "The tenant, its members, invitations, bots (settings, status, number; their person stores, group settings, bans, AI memory and message store), API keys' metadata, webhook endpoints, usage, audit log, dead letters, and its media by reference (id, type, size). Never WhatsApp credentials, linking codes, key hashes, signing secrets or media bytes. Streamed, as an attachment; not a point-in-time snapshot.",
    tag: "Tenants",
    auth: "user",
    permission: "tenant:delete",
    params: tenantParams,
    responses: { 200: { description: "The export", schema: tenantExportSchema } },
    async handle({ params, services }) {
      const stream = await services.tenantExport.open(params.tenantId);
      const day = new Date().toISOString().slice(0, 10);
      return {
        status: 200,
        stream,
        headers: {
          "Content-Type": "application/json; charset=utf-8",
          "Content-Disposition": `attachment; filename="whatsdex-${params.tenantId}-${day}.json"`,
          "Cache-Control": "no-store",
        },
      };
    },
  }),
  defineRoute({
    method: "delete",
    path: "/tenants/{tenantId}",
    operationId: "closeTenant",
    summary: "Close the account: log every bot out and delete everything",
    description:
      "Confirmed with the tenant's exact name. At once: the tenant is `deleting` (every other request is refused with `tenant_closing`), every bot is told to log out of WhatsApp. Then, in the background: the subscription is cancelled, the logouts are awaited (for a bounded time), and the tenant's media and data are deleted for good. Asking again answers how far it got. Export first (`GET …/export`): nothing can be recovered after.",
    tag: "Tenants",
    auth: "user",
    permission: "tenant:delete",
    params: tenantParams,
    body: closeBody,
    responses: { 202: { description: "Closing; follow it at `Location`", schema: closingSchema } },
    async handle(context) {
      const { access, params, body, services } = context;
      const { deletion } = await services.closing.request(access, body.confirm, auditContext(context));
      // This instance refuses the tenant from its next request; others within the access cache's TTL.
      services.access.tenantChanged(params.tenantId, { status: "deleting", plan: access.plan });
      return {
        status: 202,
        body: toClosing(params.tenantId, deletion),
        headers: { Location: `/v1/tenants/${params.tenantId}/deletion` },
      };
    },
  }),
  defineRoute({
    method: "get",
    path: "/tenants/{tenantId}/deletion",
    operationId: "getTenantClosing",
    summary: "How far the account's closing got",
    tag: "Tenants",
    auth: "user",
    permission: "tenant:delete",
    params: tenantParams,
    responses: {
      200: { description: "The closing, or null when the account is not being closed", schema: closingStatusSchema },
    },
    async handle({ params, services }) {
      const deletion = await services.closing.status(params.tenantId);
      return { status: 200, body: { closing: deletion ? toClosing(params.tenantId, deletion) : null } };
    },
  }),
];
