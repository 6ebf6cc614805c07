import { z } from "zod";
import { noBilling, tenantBillingSchema } from "../billing/schema.ts";
import { timestampSchema } from "../firestore/timestamps.ts";
import { planIdSchema } from "../plans/plan-catalog.ts";

export const tenantNameSchema = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(100, "must be at most 100 characters");

/**
 * `deleting`: the owner closed the account; nothing more is done for it (like `suspended`) while its
 * bots are logged out and its data deleted.
 */
export const tenantStatusSchema = z.enum(["active", "suspended", "deleting"]);

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
  /** The subscription as last read from Stripe; defaulted for tenants created before billing existed. */
  billing: tenantBillingSchema.default(noBilling),
});
export type TenantDoc = z.output<typeof tenantDocSchema>;
