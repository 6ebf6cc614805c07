import { type BotRef, type CampaignDoc, campaignDocSchema, collections, zodConverter } from "@whatsdex/core";
import type { Firestore, Query, QuerySnapshot } from "firebase-admin/firestore";
import type { Logger } from "pino";
import type { BotCampaigns, CampaignSource } from "../bot/campaigns/campaign-driver.ts";

export interface CampaignWatchOptions {
  db: Firestore;
  /** As the supervisor's: only these tenants' campaigns (a dedicated instance, or a test's). */
  onlyTenants?: readonly string[];
  logger: Logger;
}

const converter = zodConverter(campaignDocSchema);
const ACTIVE = ["scheduled", "running"];
const key = (bot: BotRef) => `${bot.tenantId}/${bot.botId}`;

/**
 * The instance's one view of the scheduled and running campaigns, handed to each held bot's
 * campaign driver: one snapshot listener for the whole instance (per tenant when it runs only some)
 * instead of one per bot, so a bot costs no listener of its own (a listener's state is tens of
 * kilobytes, measured by the runner-memory benchmark). Campaign documents change only when their
 * status does, so following all of them costs little. Listening starts with the first bot followed
 * and stops with the last.
 */
export class CampaignWatch implements CampaignSource {
  readonly #options: CampaignWatchOptions;
  /** Active campaigns by tenant, then by id, as the listeners last saw them. */
  readonly #byTenant = new Map<string, Map<string, CampaignDoc>>();
  readonly #followers = new Map<string, { bot: BotRef; listener: (campaigns: BotCampaigns) => void }>();
  #known = false;
  #unsubscribers: Array<() => void> = [];

  constructor(options: CampaignWatchOptions) {
    this.#options = options;
  }

  follow(bot: BotRef, listener: (campaigns: BotCampaigns) => void): () => void {
    const id = key(bot);
    const follower = { bot, listener };
    this.#followers.set(id, follower);
    if (this.#unsubscribers.length === 0) this.#listen();
    else if (this.#known) listener(this.#campaignsOf(bot));
    return () => {
      if (this.#followers.get(id) !== follower) return;
      this.#followers.delete(id);
      if (this.#followers.size === 0) this.#quiet();
    };
  }

  #queries(): Query<CampaignDoc>[] {
    const { db, onlyTenants } = this.#options;
    const sources = onlyTenants
      ? onlyTenants.map((t) => db.collection(`${collections.tenants}/${t}/${collections.campaigns}`))
      : [db.collectionGroup(collections.campaigns)];
    return sources.map((q) => q.withConverter(converter).where("status", "in", ACTIVE));
  }

  #listen(): void {
    for (const query of this.#queries()) {
      this.#unsubscribers.push(
        query.onSnapshot(
          (snapshot) => this.#apply(snapshot),
          (error) => this.#options.logger.error({ err: error }, "campaign listener failed"),
        ),
      );
    }
  }

  #quiet(): void {
    for (const unsubscribe of this.#unsubscribers) unsubscribe();
    this.#unsubscribers = [];
    this.#byTenant.clear();
    this.#known = false;
  }

  #apply(snapshot: QuerySnapshot<CampaignDoc>): void {
    const touched = new Set<string>();
    for (const change of snapshot.docChanges()) {
      const tenantId = change.doc.ref.parent.parent?.id;
      if (!tenantId) continue;
      touched.add(tenantId);
      let campaigns = this.#byTenant.get(tenantId);
      if (!campaigns) {
        campaigns = new Map();
        this.#byTenant.set(tenantId, campaigns);
      }
      if (change.type === "removed") {
        campaigns.delete(change.doc.id);
      } else {
        try {
          campaigns.set(change.doc.id, change.doc.data());
        } catch (error) {
          // One malformed campaign is logged and left out, never the others.
          campaigns.delete(change.doc.id);
          this.#options.logger.error({ err: error, tenantId, campaignId: change.doc.id }, "campaign does not parse");
        }
      }
      if (campaigns.size === 0) this.#byTenant.delete(tenantId);
    }
    const first = !this.#known;
    this.#known = true;
    for (const { bot, listener } of this.#followers.values()) {
      if (first || touched.has(bot.tenantId)) listener(this.#campaignsOf(bot));
    }
  }

  #campaignsOf(bot: BotRef): BotCampaigns {
    const mine = new Map<string, CampaignDoc>();
    for (const [id, campaign] of this.#byTenant.get(bot.tenantId) ?? []) {
      if (campaign.botIds.includes(bot.botId)) mine.set(id, campaign);
    }
    return mine;
  }
}
