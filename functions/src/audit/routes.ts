import { type AuditEntryDoc, auditActionSchema, auditTargetSchema, toIso } from "@whatsdex/core";
import { z } from "zod";
import { defineRoute } from "../http/route.ts";
import { isoDateTime, pageOf, pageQuery, tenantParams } from "../http/schemas.ts";

const fieldsSchema = z.record(z.string(), z.json()).nullable();

export const auditEntrySchema = z
  .object({
    id: z.string(),
    action: auditActionSchema,
    actor: z.object({
      kind: z.enum(["user", "apiKey", "whatsapp", "system"]),
      id: z.string().meta({ description: "uid, API key id, WhatsApp person id (lid:/pn:), or whatsdex" }),
    }),
    target: z.string().meta({ description: "`type:id`, e.g. `member:<uid>`, `bot:<botId>`" }),
    botId: z.string().nullable(),
    before: fieldsSchema.meta({ description: "The changed fields before (dotted paths); secrets never appear." }),
    after: fieldsSchema,
    requestId: z.string().nullable(),
    createdAt: isoDateTime,
  })
  .meta({ id: "AuditEntry" });

function toAuditEntry(id: string, entry: AuditEntryDoc): z.output<typeof auditEntrySchema> {
  return {
    id,
    action: entry.action,
    actor: entry.actor,
    target: entry.target,
    botId: entry.botId,
    before: entry.before,
    after: entry.after,
    requestId: entry.requestId,
    createdAt: toIso(entry.createdAt),
  };
}

export const auditRoutes = [
  defineRoute({
    method: "get",
    path: "/tenants/{tenantId}/audit",
    operationId: "listAuditEntries",
    summary: "The tenant's audit log, newest first (owners and admins)",
    description:
      "Every change made through the API or by a bot's owners from WhatsApp: who, what (before/after of the changed fields), when, and the request id. Entries expire after the retention period.",
    tag: "Audit",
    auth: "user",
    permission: "audit:read",
    params: tenantParams,
    query: pageQuery.extend({
      action: auditActionSchema.optional().meta({ description: "Only this action." }),
      target: auditTargetSchema.optional().meta({ description: "Only changes to this target (`type:id`)." }),
    }),
    responses: { 200: { description: "A page of audit entries", schema: pageOf(auditEntrySchema) } },
    async handle({ params, query, services }) {
      const page = await services.audit.list(
        params.tenantId,
        { limit: query.limit, cursor: query.cursor },
        { action: query.action, target: query.target },
      );
      return {
        status: 200,
        body: { items: page.items.map((e) => toAuditEntry(e.id, e.data)), nextCursor: page.nextCursor },
      };
    },
  }),
];
