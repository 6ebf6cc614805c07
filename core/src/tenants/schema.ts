import { z } from "zod";
import { timestampSchema } from "../firestore/timestamps.ts";
import { planIdSchema } from "../plans/plan-catalog.ts";

export const tenantNameSchema = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(100, "must be at most 100 characters");

export const tenantStatusSchema = z.enum(["active", "suspended"]);

/** `tenants/{tenantId}` */
export const tenantDocSchema = z.object({
  name: tenantNameSchema,
  plan: planIdSchema,
  status: tenantStatusSchema,
  /** Bots that exist now; kept by the same transactions that create and delete bots. */
  botCount: z.number().int().min(0),
  /** Active (unrevoked) API keys; kept like botCount. */
  apiKeyCount: z.number().int().min(0),
  createdBy: z.string().min(1),
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
  stripeCustomerId: z.string().nullable(),
  stripeSubscriptionId: z.string().nullable(),
});
export type TenantDoc = z.output<typeof tenantDocSchema>;
