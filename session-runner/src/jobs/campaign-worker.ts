import { derivedId, type OutboxWriter } from "@whatsdex/core";
import { type campaignJobs, DelayedError, type Processors, UnrecoverableError } from "@whatsdex/core/jobs";

export interface CampaignWorkerDeps {
  outbox: OutboxWriter;
  /** How long to wait before trying again while the bot is stopped (a paused number). */
  stoppedRetryMs: number;
}

/** One outbox item per (campaign, recipient), whatever runs the job how many times. */
export const deliveryItemId = (campaignId: string, recipientId: string) => derivedId("cmp", campaignId, recipientId);

/**
 * CampaignWorker's delivery step: one recipient's message into the bot's outbox, exactly once (the
 * item id is the campaign + recipient). The outbox then sends it at most once, or records it as
 * indeterminate. A stopped bot delays the delivery rather than failing it; a deleted bot ends it.
 */
export function campaignProcessors(deps: CampaignWorkerDeps): Processors<typeof campaignJobs> {
  return {
    "campaign.deliver": async (job) => {
      const { tenantId, botId, campaignId, recipientId, to, text } = job.data;
      const itemId = deliveryItemId(campaignId, recipientId);
      const result = await deps.outbox.queueSend({ tenantId, botId }, itemId, {
        to,
        content: { type: "text", text },
        requestedBy: `campaign:${campaignId}`,
      });
      if (result.queued || result.reason === "exists") return { itemId, queued: result.queued };
      if (result.reason === "bot_stopped") throw new DelayedError(deps.stoppedRetryMs, "the bot is stopped");
      throw new UnrecoverableError(`Bot ${botId} no longer exists.`);
    },
  };
}
