import { type CampaignDoc, campaignPath } from "@whatsdex/core";
import { testFirebase, uniqueId, waitFor } from "@whatsdex/core/testing";
import { Timestamp } from "firebase-admin/firestore";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import type { BotCampaigns } from "../src/bot/campaigns/campaign-driver.ts";
import { CampaignWatch } from "../src/runner/campaign-watch.ts";

/** The instance's one view of the active campaigns, handed to each held bot by the bots it names. */

const firebase = testFirebase();
const db = firebase.firestore;
afterAll(() => firebase.close());

function campaign(botIds: string[], status: CampaignDoc["status"]): CampaignDoc {
  const now = Timestamp.now();
  return {
    name: "Launch",
    botIds,
    templateId: "tpl",
    message: null,
    audience: { kind: "tags", tags: ["vip"], match: "any" },
    startAt: null,
    timezone: "Asia/Jakarta",
    pacing: { profile: "standard", overrides: {} },
    status,
    statusReason: null,
    planning: { state: "done", cursor: null, recipients: 1, addressed: 1 },
    createdBy: "user:test",
    createdAt: now,
    updatedAt: now,
    startedAt: null,
    endedAt: null,
  };
}

describe("the campaign watch", () => {
  for (const mode of ["all tenants (one collection-group listener)", "some tenants (one listener each)"]) {
    it(`gives each bot the scheduled and running campaigns that name it: ${mode}`, async () => {
      const [a, b] = [uniqueId("tenant"), uniqueId("tenant")];
      const watch = new CampaignWatch({
        db,
        logger: pino({ level: "silent" }),
        ...(mode.startsWith("some") ? { onlyTenants: [a, b] } : {}),
      });
      const seen = new Map<string, BotCampaigns>();
      const follow = (tenantId: string, botId: string) =>
        watch.follow({ tenantId, botId }, (campaigns) => seen.set(`${tenantId}/${botId}`, campaigns));
      const ids = (tenantId: string, botId: string) => [...(seen.get(`${tenantId}/${botId}`)?.keys() ?? [])].sort();
      const stops = [follow(a, "bot1"), follow(a, "bot2"), follow(b, "bot1")];

      await db.doc(campaignPath(a, "pool")).set(campaign(["bot1", "bot2"], "running"));
      await db.doc(campaignPath(a, "solo")).set(campaign(["bot2"], "scheduled"));
      await db.doc(campaignPath(a, "draft")).set(campaign(["bot1"], "draft"));
      await db.doc(campaignPath(b, "other")).set(campaign(["bot1"], "running"));
      await waitFor("every bot to see its campaigns", async () =>
        ids(a, "bot2").length === 2 && ids(b, "bot1").length === 1 ? true : undefined,
      );
      expect(ids(a, "bot1")).toEqual(["pool"]);
      expect(ids(a, "bot2")).toEqual(["pool", "solo"]);
      // Same bot id, another tenant: its own campaigns only.
      expect(ids(b, "bot1")).toEqual(["other"]);

      await db.doc(campaignPath(a, "pool")).update({ status: "paused" });
      await waitFor("the paused one to leave", async () => (ids(a, "bot1").length === 0 ? true : undefined));
      expect(ids(a, "bot2")).toEqual(["solo"]);

      // A bot followed later hears what is known at once.
      let late: BotCampaigns | undefined;
      stops.push(watch.follow({ tenantId: a, botId: "bot2" }, (campaigns) => (late = campaigns)));
      expect([...(late?.keys() ?? [])]).toEqual(["solo"]);
      for (const stop of stops) stop();
    });
  }
});
