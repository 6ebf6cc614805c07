import type { z } from "zod";
import type { billingSnapshotSchema } from "../events/schema.ts";
import { toIsoOrNull } from "../firestore/timestamps.ts";
import type { PlanId } from "../plans/plan-catalog.ts";
import type { TenantBilling } from "./schema.ts";

export type BillingSnapshot = z.output<typeof billingSnapshotSchema>;

/** The subscription as events and the API show it. */
export function billingSnapshot(plan: PlanId, billing: TenantBilling): BillingSnapshot {
  return {
    plan,
    status: billing.status,
    interval: billing.interval,
    currentPeriodEnd: toIsoOrNull(billing.currentPeriodEnd),
    cancelAt: toIsoOrNull(billing.cancelAt),
    trialEnd: toIsoOrNull(billing.trialEnd),
    restrictFrom: toIsoOrNull(billing.restrictFrom),
    restricted: billing.restricted,
  };
}

export const isoNow = (at: number): string => new Date(at).toISOString();
