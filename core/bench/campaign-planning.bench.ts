import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Timestamp } from "firebase-admin/firestore";
import type { BenchSuite } from "../../scripts/lib/bench-suite.ts";
import { planRecipients } from "../src/campaigns/recipient-planner.ts";
import type { CampaignDoc } from "../src/campaigns/schema.ts";
import { campaignPath, tenantContactPath } from "../src/firestore/paths.ts";
import { testFirebase, uniqueId } from "../src/testing/index.ts";

/** The largest audience the largest plan allows in one campaign, rounded down to a round figure. */
const RECIPIENTS = 100_000;
/**
 * Planning reads the audience a page at a time: what it keeps must not grow with the audience. The
 * peak (sampled, garbage included: V8 collects lazily when memory is plentiful) is bounded loosely,
 * so that reading the whole audience at once (~200 MiB of snapshots) fails; what is still held after
 * a collection is bounded tightly.
 */
const CEILING_PEAK_HEAP_MIB = 160;
const CEILING_RETAINED_HEAP_MIB = 16;

setFlagsFromString("--expose-gc");
const gc: unknown = runInNewContext("gc");
function heapAfterGc(): number {
  if (typeof gc !== "function") throw new Error("global gc is not exposed");
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

/**
 * Planning a 100,000-recipient campaign: the recipient planner reading the audience (contacts with a
 * tag) a page at a time and writing one recipient per person with BulkWriter, against the baseline
 * of BulkWriter writing the same 100,000 recipient documents with nothing read, on the same emulator
 * in the same run. Reports the time, the documents written and read, and the peak heap while planning.
 */
export const suite: BenchSuite = {
  name: "campaign-planning",
  description: `planning a ${RECIPIENTS.toLocaleString("en")}-recipient campaign from a tag audience, against BulkWriter writing the same documents bare`,
  needs: ["firestore"],
  factLimits: {
    // Reading the audience and deciding each recipient must not cost more than the writes themselves.
    planningToBareWriteRatio: { min: 0.4 },
    peakHeapMiBWhilePlanning: { max: CEILING_PEAK_HEAP_MIB },
    retainedHeapMiBAfterPlanning: { max: CEILING_RETAINED_HEAP_MIB },
    // One recipient document per person, plus one cursor update per page and the final update.
    writesPerRecipient: { max: 1.01 },
  },
  async setup() {
    const firebase = testFirebase();
    const db = firebase.firestore;
    const tenantId = uniqueId("bench");
    const now = Timestamp.now();
    const seed = db.bulkWriter();
    for (let i = 0; i < RECIPIENTS; i++) {
      const pn = String(6281000000000 + i);
      void seed.set(db.doc(tenantContactPath(tenantId, `pn:${pn}`)), {
        lid: null,
        pn: `${pn}@s.whatsapp.net`,
        name: `Customer ${i}`,
        tags: ["everyone"],
        fields: { city: "Jakarta" },
        optOut: null,
        importId: null,
        createdAt: now,
        updatedAt: now,
      });
    }
    await seed.close();

    // Baseline: the same recipient documents, written with nothing read and nothing decided.
    const bareStart = performance.now();
    const bare = db.bulkWriter();
    for (let i = 0; i < RECIPIENTS; i++) {
      void bare.set(db.doc(`${campaignPath(tenantId, "bare")}/recipients/pn:${6281000000000 + i}`), {
        lid: null,
        pn: `${6281000000000 + i}@s.whatsapp.net`,
        name: `Customer ${i}`,
        status: "pending",
        skipReason: null,
        botId: null,
        outboxId: null,
        error: null,
        order: "0123456789abcdef",
        createdAt: now,
        updatedAt: now,
      });
    }
    await bare.close();
    const bareMs = performance.now() - bareStart;

    const campaignId = uniqueId("campaign");
    const campaign: CampaignDoc = {
      name: "Bench",
      botIds: ["bot"],
      templateId: "template",
      message: null,
      audience: { kind: "tags", tags: ["everyone"], match: "any" },
      startAt: null,
      timezone: "Asia/Jakarta",
      pacing: { profile: "standard", overrides: {} },
      status: "draft",
      statusReason: null,
      planning: { state: "not_started", cursor: null, recipients: 0, addressed: 0 },
      createdBy: "bench",
      createdAt: now,
      updatedAt: now,
      startedAt: null,
      endedAt: null,
    };
    await db.doc(campaignPath(tenantId, campaignId)).set(campaign);

    const baseHeap = heapAfterGc();
    let peak = baseHeap;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    }, 20);
    const start = performance.now();
    const result = await planRecipients(db, tenantId, campaignId);
    const planningMs = performance.now() - start;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().heapUsed);
    if (result.counts.pending !== RECIPIENTS) throw new Error(`planned ${result.counts.pending}, not ${RECIPIENTS}`);

    const retained = heapAfterGc() - baseHeap;
    // Written: a recipient each, the cursor once per page, the final update.
    const writes = RECIPIENTS + result.pages + 1;
    return {
      tasks: {},
      facts: () => ({
        recipients: RECIPIENTS,
        planningSeconds: planningMs / 1000,
        recipientsPerSecond: RECIPIENTS / (planningMs / 1000),
        bareWriteSeconds: bareMs / 1000,
        planningToBareWriteRatio: bareMs / planningMs,
        pagesRead: result.pages,
        writesPerRecipient: writes / RECIPIENTS,
        peakHeapMiBWhilePlanning: (peak - baseHeap) / 1024 / 1024,
        retainedHeapMiBAfterPlanning: retained / 1024 / 1024,
      }),
      teardown: () => firebase.close(),
    };
  },
};
