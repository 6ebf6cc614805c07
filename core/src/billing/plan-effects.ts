import { Timestamp, type Transaction } from "firebase-admin/firestore";
import type { AuditContext, AuditLog } from "../audit/audit-log.ts";
import type { BotDoc } from "../bots/schema.ts";
import { campaignOverPlan } from "../campaigns/campaign-limits.ts";
import { type CampaignDoc, campaignDocSchema } from "../campaigns/schema.ts";
import { zodConverter } from "../firestore/converter.ts";
import { campaignPath } from "../firestore/paths.ts";
import type { Refs } from "../firestore/refs.ts";
import { pendingOutboxItem } from "../outbox/schema.ts";
import type { Plan } from "../plans/plan-catalog.ts";

export interface RunningBot {
  id: string;
  bot: BotDoc;
}

/**
 * Which running bots stop so that at most `maxBots` run: the ones the tenant did not mark to keep go
 * first, newest first within each group (the longest-serving numbers are the ones customers know).
 */
export function botsOverLimit(running: readonly RunningBot[], maxBots: number): string[] {
  const excess = running.length - maxBots;
  if (excess <= 0) return [];
  const order = [...running].sort(
    (a, b) =>
      Number(a.bot.keepOnDowngrade) - Number(b.bot.keepOnDowngrade) ||
      b.bot.createdAt.toMillis() - a.bot.createdAt.toMillis() ||
      b.id.localeCompare(a.id),
  );
  return order.slice(0, excess).map((entry) => entry.id);
}

/** The bots that should run, read in the caller's transaction (before any of its writes). */
export async function runningBotsIn(tx: Transaction, refs: Refs, tenantId: string): Promise<RunningBot[]> {
  const snapshot = await tx.get(refs.bots(tenantId).where("desiredState", "==", "running"));
  return snapshot.docs.map((doc) => ({ id: doc.id, bot: doc.data() }));
}

/**
 * Stops the bots `botsOverLimit` chose, in the caller's transaction: each gets `desiredState:
 * stopped`, the reason, a disconnect for its runner and an audit entry. Connecting one again is
 * refused while the plan has no room (BotService.connect).
 */
export function stopBotsForPlan(
  tx: Transaction,
  deps: { refs: Refs; audit: AuditLog },
  tenantId: string,
  stop: readonly RunningBot[],
  plan: Plan,
  context: AuditContext,
): void {
  const now = Timestamp.now();
  for (const { id, bot } of stop) {
    const next: BotDoc = {
      ...bot,
      desiredState: "stopped",
      stoppedFor: { reason: "plan_limit", plan: plan.id, at: now },
      updatedAt: now,
    };
    tx.set(deps.refs.bot(tenantId, id), next);
    tx.create(deps.refs.outbox(tenantId, id).doc(), {
      ...pendingOutboxItem("system:billing", now),
      kind: "disconnect",
    });
    deps.audit.record(tx, tenantId, context, {
      action: "bot.stopped_by_plan",
      target: `bot:${id}`,
      botId: id,
      before: { desiredState: bot.desiredState },
      after: { desiredState: "stopped", stoppedFor: `plan_limit:${plan.id}` },
    });
  }
}

export interface ActiveCampaign {
  id: string;
  campaign: CampaignDoc;
}

const campaignConverter = zodConverter(campaignDocSchema);

/** The campaigns that may send (scheduled or running), read in the caller's transaction (before any of its writes). */
export async function activeCampaignsIn(tx: Transaction, refs: Refs, tenantId: string): Promise<ActiveCampaign[]> {
  const snapshot = await tx.get(
    refs.db
      .collection(`${refs.tenant(tenantId).path}/campaigns`)
      .withConverter(campaignConverter)
      .where("status", "in", ["scheduled", "running"]),
  );
  return snapshot.docs.map((doc) => ({ id: doc.id, campaign: doc.data() }));
}

/**
 * Pauses, in the caller's transaction, the campaigns a smaller plan does not allow (none on Free;
 * otherwise those addressing more people than its recipients per campaign), each with the reason;
 * resuming one is refused until the plan allows it. Returns the ids of those paused.
 */
export function pauseCampaignsOverPlan(
  tx: Transaction,
  deps: { refs: Refs; audit: AuditLog },
  tenantId: string,
  active: readonly ActiveCampaign[],
  plan: Plan,
  context: AuditContext,
): string[] {
  const now = Timestamp.now();
  const paused: string[] = [];
  for (const { id, campaign } of active) {
    const reason = campaignOverPlan(plan, campaign.planning.addressed);
    if (reason === null) continue;
    const next: CampaignDoc = { ...campaign, status: "paused", statusReason: reason, updatedAt: now };
    tx.set(deps.refs.db.doc(campaignPath(tenantId, id)).withConverter(campaignConverter), next);
    deps.audit.record(tx, tenantId, context, {
      action: "campaign.paused",
      target: `campaign:${id}`,
      before: { status: campaign.status },
      after: { status: "paused", statusReason: reason },
    });
    paused.push(id);
  }
  return paused;
}
