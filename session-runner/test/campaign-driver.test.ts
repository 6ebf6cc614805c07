import { testFirebase, waitFor } from "@whatsdex/core/testing";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { Supervisor } from "../src/runner/supervisor.ts";
import { campaignWorld, jidOf, scheduleCampaign, standard, windowViolations } from "./support/campaign-fixture.ts";

/**
 * Campaigns sent by the bots' owning runners through the simulator, under a clock that jumps over
 * the governor's waits: every recipient gets exactly one message, the limits hold (checked from
 * what the server received), and WhatsApp's signals pause the campaign with the reason.
 */

const firebase = testFirebase();
const db = firebase.firestore;
const started: Supervisor[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) await s.stop();
});
afterAll(() => firebase.close());

describe("a running campaign", () => {
  it("sends each recipient one message after typing, within the governor's limits, then completes", {
    timeout: 90_000,
  }, async () => {
    const f = await campaignWorld(db, 45, started);
    f.run();
    const socket = await f.link();
    const { campaignId } = await scheduleCampaign(db, f.access, {
      botIds: [f.botId],
      templateId: f.templateId,
      now: f.clock.now,
    });

    await waitFor(
      "the campaign to complete",
      async () => ((await f.campaign(campaignId))?.status === "completed" ? true : undefined),
      { timeoutMs: 60_000 },
    );
    expect(f.log.map((s) => s.jid).sort()).toEqual(Array.from({ length: 45 }, (_, i) => jidOf(i)).sort());
    expect(f.log.find((s) => s.jid === jidOf(2))?.text).toBe("Hi Person 2 from Bandung!");
    const { linkedAt } = await f.governor();
    expect(linkedAt).not.toBeNull();
    expect(
      windowViolations(
        f.log.map((s) => s.at),
        standard,
        linkedAt ?? 0,
      ),
    ).toEqual([]);
    // A new number's first day allows 20 (the warm-up); the rest waited for its second.
    expect(f.log.filter((s) => s.at < (linkedAt ?? 0) + 86_400_000)).toHaveLength(standard.warmup[0] ?? 0);
    // "typing…" to each recipient before their message.
    for (const { jid } of f.log.slice(0, 5)) {
      expect(socket.presences.some((p) => p.jid === jid && p.presence === "composing")).toBe(true);
    }
    const statuses = (await f.recipients(campaignId)).map((r) => r.status);
    expect(statuses.every((s) => s === "sent")).toBe(true);
  });
});

describe("a campaign that cannot be sent", () => {
  it("is paused with the reason, not retried forever", async () => {
    const f = await campaignWorld(db, 3, started);
    const { campaignId } = await scheduleCampaign(db, f.access, {
      botIds: [f.botId],
      templateId: f.templateId,
      now: f.clock.now,
    });
    // A message that no longer renders (written past the API, which refuses it).
    await db.doc(`tenants/${f.tenantId}/campaigns/${campaignId}`).update({ "message.body": "Hi {{name" });
    f.run();
    await f.link();
    const paused = await waitFor("the campaign to be paused", async () => {
      const campaign = await f.campaign(campaignId);
      return campaign?.status === "paused" ? campaign : undefined;
    });
    expect(paused.statusReason).toMatch(/^The campaign cannot be sent: /);
    expect(f.log).toEqual([]);
  });
});
