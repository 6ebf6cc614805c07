import { PlanCatalog, roleSchema, type TenantDoc, tenantStatusSchema, toIso } from "@whatsdex/core";
import { z } from "zod";
import { isoDateTime } from "../http/schemas.ts";

export const tenantSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    plan: z.string(),
    status: tenantStatusSchema,
    botCount: z.number().int(),
    limits: z.object({
      maxBots: z.number().int(),
      messagesPerDay: z.number().int(),
      maxCampaignRecipients: z.number().int(),
      aiCallsPerDay: z.number().int(),
      maxApiKeys: z.number().int(),
    }),
    createdAt: isoDateTime,
    updatedAt: isoDateTime,
  })
  .meta({ id: "Tenant" });

export const tenantWithRoleSchema = tenantSchema.extend({ role: roleSchema }).meta({ id: "TenantMembership" });

export function toTenant(id: string, tenant: TenantDoc): z.output<typeof tenantSchema> {
  const plan = PlanCatalog.get(tenant.plan);
  return {
    id,
    name: tenant.name,
    plan: tenant.plan,
    status: tenant.status,
    botCount: tenant.botCount,
    limits: {
      maxBots: plan.maxBots,
      messagesPerDay: plan.messagesPerDay,
      maxCampaignRecipients: plan.maxCampaignRecipients,
      aiCallsPerDay: plan.aiCallsPerDay,
      maxApiKeys: plan.maxApiKeys,
    },
    createdAt: toIso(tenant.createdAt),
    updatedAt: toIso(tenant.updatedAt),
  };
}
