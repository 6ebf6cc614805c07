import type { NewEvent } from "../events/schema.ts";
import type { CampaignCounts, CampaignDoc } from "./schema.ts";

/**
 * A campaign's `campaign.status` event: one per status it reached (keyed by the change's time), so
 * the same change published twice, by a retry or by two bots of a pool, is one event.
 */
export function campaignStatusEvent(
  campaignId: string,
  campaign: CampaignDoc,
  counts: CampaignCounts,
  at: number,
): NewEvent {
  return {
    type: "campaign.status",
    key: `${campaignId}:${campaign.status}:${campaign.updatedAt.toMillis()}`,
    at,
    data: {
      campaignId,
      status: campaign.status,
      reason: campaign.statusReason,
      counts,
      at: new Date(at).toISOString(),
    },
  };
}
