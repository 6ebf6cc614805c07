import type { Plan } from "../plans/plan-catalog.ts";

/**
 * Why the tenant's plan does not let a campaign addressing `addressed` people send, or null when it
 * does. Checked when it is scheduled or resumed, and by billing when the plan changes under it.
 */
export function campaignOverPlan(plan: Plan, addressed: number): string | null {
  if (plan.maxCampaignRecipients === 0) return `Campaigns are not part of the ${plan.name} plan.`;
  if (addressed > plan.maxCampaignRecipients) {
    return `The ${plan.name} plan allows ${plan.maxCampaignRecipients} recipients per campaign; this one addresses ${addressed}.`;
  }
  return null;
}
