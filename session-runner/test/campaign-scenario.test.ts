import { systemAuditContext } from "@whatsdex/core";
import { testFirebase, waitFor } from "@whatsdex/core/testing";
import { NewChatMessageCappingStatusType } from "baileys";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { Supervisor } from "../src/runner/supervisor.ts";
import { campaignWorld, jidOf, scheduleCampaign, standard, windowViolations } from "./support/campaign-fixture.ts";

/**
 * The campaign acceptance scenario (issue 17): one campaign on the simulator under the jump clock,
 * through everything that happens to a real one — the runner killed twice mid-campaign, a person's
 * pause and resume, a recipient's STOP, WhatsApp's 463 and its capping warning — after which every
 * eligible recipient got exactly one message and the governor's limits held in every minute, hour
 * and day of the server's log. `npm test` runs it with 200 recipients; the 10,000-recipient run
 * (`CAMPAIGN_SCENARIO_RECIPIENTS=10000`) is in docs/benchmarks/campaign-delivery.md.
 */

const RECIPIENTS = Number(process.env.CAMPAIGN_SCENARIO_RECIPIENTS ?? 200);
/** Real time for a stretch of sending: the emulator does a few transactions per send. */
const STRETCH_MS = Math.max(60_000, RECIPIENTS * 300);
const LEASE_TTL_MS = 3_000;

const firebase = testFirebase();
const db = firebase.firestore;
const started: Supervisor[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) await s.stop();
});
afterAll(() => firebase.close());

describe("the campaign scenario", () => {
  it(`sends ${RECIPIENTS} recipients exactly one message each through two crashes, a pause, a STOP, a 463 and a capping warning`, {
    timeout: STRETCH_MS * 2 + 120_000,
  }, async () => {
    const f = await campaignWorld(db, RECIPIENTS, started);
    let runner = f.run({ ttlMs: LEASE_TTL_MS });
    await f.link();
    // The bot also answers the STOP: only the campaign's own messages count here.
    const campaignSends = () => f.log.filter((s) => s.text.startsWith("Hi Person"));
    const { campaignId, service } = await scheduleCampaign(db, f.access, {
      botIds: [f.botId],
      templateId: f.templateId,
      now: f.clock.now,
    });
    const sent = async (fraction: number) =>
      waitFor(
        `${Math.round(fraction * 100)}% of the campaign sent`,
        async () => (campaignSends().length >= Math.floor(RECIPIENTS * fraction) ? true : undefined),
        { timeoutMs: STRETCH_MS },
      );
    const status = (wanted: string, reason?: RegExp) =>
      waitFor(
        `the campaign to be ${wanted}`,
        async () => {
          const campaign = await f.campaign(campaignId);
          return campaign?.status === wanted && (!reason || reason.test(campaign.statusReason ?? ""))
            ? campaign
            : undefined;
        },
        { timeoutMs: STRETCH_MS },
      );
    const quiet = () =>
      waitFor("no send in hand", async () =>
        (await f.recipients(campaignId, "sending")).length === 0 ? true : undefined,
      );
    const crash = async () => {
      // As a SIGKILL leaves it: sockets gone, the lease kept until it expires; another runner takes over.
      runner.abandon();
      runner = f.run({ ttlMs: LEASE_TTL_MS });
      await f.openSocket();
    };

    await sent(0.1);
    await crash();

    await sent(0.25);
    await service.pause(f.access, campaignId, "checking the numbers", systemAuditContext);
    await quiet();
    const beforePause = campaignSends().length;
    // Hours pass while it is paused: nothing goes out.
    f.clock.advance(3 * 3_600_000);
    const resumedAt = f.clock.now();
    await service.resume(f.access, campaignId, systemAuditContext);

    await sent(0.4);
    // A recipient still waiting (the last in sending order) writes STOP to the bot: they never get the campaign.
    const stopper = (await f.recipients(campaignId, "pending")).sort((a, b) => a.order.localeCompare(b.order)).at(-1);
    if (!stopper?.pn) throw new Error("no pending recipient left to opt out");
    const stopperJid = stopper.pn;
    await f.onOpenSocket((socket) =>
      socket.deliver({
        key: { remoteJid: stopperJid, id: "STOPMSG1", fromMe: false },
        message: { conversation: "STOP" },
        messageTimestamp: Math.floor(Date.now() / 1000),
        pushName: "Stopper",
      }),
    );
    await waitFor("the opt-out to be recorded", async () =>
      (await db.doc(`tenants/${f.tenantId}/contacts/${stopper.id}`).get()).get("optOut") ? true : undefined,
    );

    await sent(0.5);
    await crash();

    await sent(0.6);
    // WhatsApp refuses the next send with 463: the campaign pauses, saying so; resuming clears it.
    await f.onOpenSocket((socket) => socket.refuseNextSends(1));
    await status("paused", /463/);
    await quiet();
    await service.resume(f.access, campaignId, systemAuditContext);

    await sent(0.7);
    // WhatsApp's first capping warning pauses it too; once the warning is lifted, it is resumed.
    await f.onOpenSocket((socket) =>
      socket.capping({
        capping_status: NewChatMessageCappingStatusType.FIRST_WARNING,
        used_quota: 40,
        total_quota: 50,
        cycle_end_timestamp: String(Math.floor(f.clock.now() / 1000) + 86_400),
      }),
    );
    await status("paused", /FIRST_WARNING/);
    await quiet();
    await f.onOpenSocket((socket) => socket.capping({ capping_status: NewChatMessageCappingStatusType.NONE }));
    await waitFor("the lifted warning to be recorded", async () =>
      (await f.governor()).signals.capping?.status === "NONE" ? true : undefined,
    );
    await service.resume(f.access, campaignId, systemAuditContext);

    await status("completed");
    const recipients = await f.recipients(campaignId);
    const byStatus = (s: string) => recipients.filter((r) => r.status === s);
    const received = new Map<string, number>();
    const log = campaignSends();
    for (const { jid } of log) received.set(jid, (received.get(jid) ?? 0) + 1);

    // Nobody got two messages, and the pause held.
    expect([...received.values()].every((n) => n === 1)).toBe(true);
    expect(log.slice(beforePause).filter((s) => s.at < resumedAt)).toEqual([]);
    // The one who wrote STOP got nothing; the refused one is failed with WhatsApp's reason.
    expect(received.has(stopper.pn)).toBe(false);
    expect(byStatus("skipped").map((r) => [r.id, r.skipReason])).toEqual([[stopper.id, "opted_out"]]);
    const failed = byStatus("failed");
    expect(failed.map((r) => r.error?.code)).toContain("whatsapp_refused_463");
    // Every other recipient got exactly one message, recorded as sent; an outcome a crash made
    // unknown is reported as failed, never sent again (the server got it at most once).
    const unknown = failed.filter((r) => r.error?.code !== "whatsapp_refused_463");
    expect(unknown.every((r) => /owner_changed|send_timeout|send_error/.test(r.error?.code ?? ""))).toBe(true);
    const sentRecipients = byStatus("sent");
    expect(sentRecipients.length + failed.length + 1).toBe(RECIPIENTS);
    for (const r of sentRecipients) expect(received.get(r.pn ?? "")).toBe(1);
    const everyone = Array.from({ length: RECIPIENTS }, (_, i) => jidOf(i)).filter((jid) => jid !== stopper.pn);
    const refused = failed.find((r) => r.error?.code === "whatsapp_refused_463")?.pn;
    expect(everyone.filter((jid) => jid !== refused && !received.has(jid))).toEqual(
      unknown.map((r) => r.pn).filter((pn) => pn !== null && !received.has(pn)),
    );

    // The governor's limits, from the server's own log, across both takeovers.
    const { linkedAt } = await f.governor();
    expect(
      windowViolations(
        log.map((s) => s.at),
        standard,
        linkedAt ?? 0,
      ),
    ).toEqual([]);
    expect(await service.counts(f.tenantId, campaignId)).toEqual(await service.recount(f.tenantId, campaignId));
    console.info(
      `campaign scenario: ${RECIPIENTS} recipients, ${log.length} messages over ${((f.clock.now() - (linkedAt ?? 0)) / 86_400_000).toFixed(1)} simulated days`,
    );
  });
});
