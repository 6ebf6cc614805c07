import { type Firestore, Timestamp } from "firebase-admin/firestore";
import { AuditLog, systemAuditContext } from "../../audit/audit-log.ts";
import type { AuditAction } from "../../audit/schema.ts";
import type { EventSink } from "../../events/schema.ts";
import { zodConverter } from "../../firestore/converter.ts";
import { campaignPath } from "../../firestore/paths.ts";
import type { Logger } from "../../logging/logger.ts";
import { readCounts } from "../campaign-counts.ts";
import { campaignStatusEvent } from "../campaign-events.ts";
import { type CampaignDoc, type CampaignStatus, campaignDocSchema } from "../schema.ts";

const campaignConverter = zodConverter(campaignDocSchema);

export interface CampaignRunsOptions {
  audit?: AuditLog;
  /** Where `campaign.status` events go; absent, none are published. */
  events?: EventSink;
  logger?: Logger;
  now?: () => number;
}

/**
 * The changes of a campaign's status that no person asks for: its start time came, one of its bots'
 * governors stopped it (a 463, WhatsApp's capping, the failure breaker, the plan), or nothing is
 * left to send. Each is one transaction that checks the status it expects (two bots of a pool doing
 * the same is one change), audited as the platform's, and announced as `campaign.status`.
 */
export class CampaignRuns {
  readonly #db: Firestore;
  readonly #options: CampaignRunsOptions;
  readonly #audit: AuditLog;
  readonly #now: () => number;

  constructor(db: Firestore, options: CampaignRunsOptions = {}) {
    this.#db = db;
    this.#options = options;
    this.#audit = options.audit ?? new AuditLog(db);
    this.#now = options.now ?? Date.now;
  }

  /** A scheduled campaign whose start time has come begins: true if it is now running. */
  start(tenantId: string, campaignId: string): Promise<boolean> {
    return this.#transition(tenantId, campaignId, "campaign.started", (current, now) => {
      if (current.status !== "scheduled") return undefined;
      if (current.startAt !== null && current.startAt.toMillis() > now.toMillis()) return undefined;
      return { status: "running", statusReason: null, startedAt: now };
    });
  }

  /** Stops sending until a person resumes it, saying why (what the governor or the plan said). */
  pause(tenantId: string, campaignId: string, reason: string): Promise<boolean> {
    return this.#transition(tenantId, campaignId, "campaign.paused", (current) => {
      if (current.status !== "running" && current.status !== "scheduled") return undefined;
      return { status: "paused", statusReason: reason.slice(0, 500) };
    });
  }

  /**
   * Ends a running campaign nobody is left to send to. The caller has seen no recipient `sending`
   * and then none `pending` (in that order: a send settled back to pending in between is seen).
   */
  complete(tenantId: string, campaignId: string): Promise<boolean> {
    return this.#transition(tenantId, campaignId, "campaign.completed", (current, now) => {
      if (current.status !== "running") return undefined;
      return { status: "completed", statusReason: null, endedAt: now };
    });
  }

  async #transition(
    tenantId: string,
    campaignId: string,
    action: AuditAction,
    change: (
      current: CampaignDoc,
      now: Timestamp,
    ) => (Partial<CampaignDoc> & { status: CampaignStatus; statusReason: string | null }) | undefined,
  ): Promise<boolean> {
    const ref = this.#db.doc(campaignPath(tenantId, campaignId)).withConverter(campaignConverter);
    const changed = await this.#db.runTransaction(async (tx) => {
      const current = (await tx.get(ref)).data();
      if (!current) return undefined;
      const now = Timestamp.fromMillis(this.#now());
      const patch = change(current, now);
      if (!patch) return undefined;
      const next: CampaignDoc = { ...current, ...patch, updatedAt: now };
      tx.set(ref, next);
      this.#audit.record(tx, tenantId, systemAuditContext, {
        action,
        target: `campaign:${campaignId}`,
        before: current,
        after: next,
      });
      return next;
    });
    if (!changed) return false;
    await this.#publish(tenantId, campaignId, changed);
    return true;
  }

  async #publish(tenantId: string, campaignId: string, campaign: CampaignDoc): Promise<void> {
    const events = this.#options.events;
    if (!events) return;
    try {
      const counts = await readCounts(this.#db, tenantId, campaignId);
      await events.publish(tenantId, [campaignStatusEvent(campaignId, campaign, counts, this.#now())]);
    } catch (error) {
      this.#options.logger?.warn({ err: error, tenantId, campaignId }, "campaign event not published");
    }
  }
}
