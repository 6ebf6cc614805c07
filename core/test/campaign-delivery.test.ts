import { Timestamp } from "firebase-admin/firestore";
import { afterAll, describe, expect, it } from "vitest";
import type { TenantAccess } from "../src/access/access-service.ts";
import { systemAuditContext } from "../src/audit/audit-log.ts";
import { BotService } from "../src/bots/bot-service.ts";
import { readCounts } from "../src/campaigns/campaign-counts.ts";
import { CampaignService } from "../src/campaigns/campaign-service.ts";
import {
  type ActiveCampaign,
  CampaignDelivery,
  type CampaignSend,
  deliveryItemId,
  UnsendableCampaignError,
} from "../src/campaigns/delivery/campaign-delivery.ts";
import { CampaignRuns } from "../src/campaigns/delivery/campaign-runs.ts";
import { GovernorStore } from "../src/campaigns/pacing/governor-store.ts";
import { builtInProfiles, type PacingProfile } from "../src/campaigns/pacing/profile.ts";
import { seededRandom } from "../src/campaigns/pacing/random.ts";
import { countRecipients } from "../src/campaigns/recipient-planner.ts";
import { campaignDocSchema, recipientDocSchema } from "../src/campaigns/schema.ts";
import { ContactService } from "../src/contacts/contact-service.ts";
import type { ContactDoc } from "../src/contacts/schema.ts";
import { zodConverter } from "../src/firestore/converter.ts";
import {
  campaignPath,
  campaignReachPath,
  campaignRecipientPath,
  templatePath,
  tenantContactPath,
  usagePath,
} from "../src/firestore/paths.ts";
import { createRefs } from "../src/firestore/refs.ts";
import { type HeldLease, LeaseStore, leaseFence, type WriteFence } from "../src/leases/lease-store.ts";
import { OutboxService } from "../src/outbox/outbox-service.ts";
import { PlanCatalog } from "../src/plans/plan-catalog.ts";
import { TenantService } from "../src/tenants/tenant-service.ts";
import { testFirebase, uniqueId } from "../src/testing/index.ts";
import { usageDay } from "../src/usage/usage-service.ts";

/**
 * A bot's share of campaign sending, as the runner's campaign driver uses it, on the Firestore
 * emulator: the claim (recipient, governor, quota, reach and outbox item in one transaction), what a
 * recipient is skipped for at the moment of sending, how each outbox outcome settles, a 463, two
 * bots of a pool racing for the same recipients, a deposed owner, and the system's status changes.
 */

const firebase = testFirebase();
const db = firebase.firestore;
const refs = createRefs(db);
afterAll(() => firebase.close());

/** Fast enough for a test to send many without waiting, still a profile the governor enforces. */
const loose: PacingProfile = {
  ...builtInProfiles.standard,
  perMinute: 60,
  perHour: 600,
  perDay: 5_000,
  gap: { minMs: 0, maxMs: 0 },
  typing: { msPerChar: 0, minMs: 0, maxMs: 0 },
  batch: { size: 1_000, pause: { minMs: 0, maxMs: 0 } },
  warmup: [],
  neverWrotePerDay: 5_000,
  quietHours: null,
  failures: { max: 3, windowMs: 15 * 60_000 },
};

const recipientConverter = zodConverter(recipientDocSchema);
const campaignConverter = zodConverter(campaignDocSchema);
const nobodyWrote = () => false;

async function world(options: { bots?: number; contacts?: number; body?: string; startAt?: string } = {}) {
  const clock = { t: Date.UTC(2026, 11, 7, 3, 0) };
  const now = () => clock.t;
  const uid = uniqueId("owner");
  const { id: tenantId } = await new TenantService(refs).create({ kind: "user", uid, email: null }, { name: "Shop" });
  await refs.tenant(tenantId).update({ plan: "business" });
  const access: TenantAccess = {
    tenantId,
    principal: { kind: "user", uid, email: null },
    role: "owner",
    plan: "business",
  };
  const bots = new BotService(refs, { allowSimulator: true });
  const leases = new LeaseStore(db, { ttlMs: 60_000 });
  const senders: Array<{ botId: string; lease: HeldLease; fence: WriteFence; delivery: CampaignDelivery }> = [];
  for (let i = 0; i < (options.bots ?? 1); i++) {
    const { id: botId } = await bots.create(access, { name: `Sender ${i}`, transport: "simulator" });
    const lease = await leases.acquire({ tenantId, botId }, `runner-${i}`);
    if (!lease) throw new Error("no lease");
    const fence = leaseFence(leases, lease);
    const delivery = new CampaignDelivery({ db, bot: { tenantId, botId }, fence, now, random: seededRandom(i + 1) });
    senders.push({ botId, lease, fence, delivery });
  }
  const writer = db.bulkWriter();
  const at = Timestamp.now();
  const people: string[] = [];
  for (let i = 0; i < (options.contacts ?? 5); i++) {
    const pn = String(6281400000000 + i);
    const contact: ContactDoc = {
      lid: null,
      pn: `${pn}@s.whatsapp.net`,
      name: `Person ${i}`,
      tags: ["vip"],
      fields: i === 4 ? {} : { city: "Bandung" },
      optOut: null,
      importId: null,
      createdAt: at,
      updatedAt: at,
    };
    people.push(`pn:${pn}`);
    void writer.set(db.doc(tenantContactPath(tenantId, `pn:${pn}`)), contact);
  }
  await writer.close();
  const templateId = uniqueId("tpl");
  await db.doc(templatePath(tenantId, templateId)).set({
    name: "Hello",
    body: options.body ?? "Hi {{name}}",
    language: "en",
    fallbacks: {},
    media: null,
    variables: ["name", "city"],
    maxLength: 300,
    createdBy: `user:${uid}`,
    createdAt: at,
    updatedAt: at,
  });
  const service = new CampaignService(refs, { now });
  const { id: campaignId } = await service.create(
    access,
    {
      name: "Launch",
      botIds: senders.map((s) => s.botId),
      templateId,
      audience: { kind: "tags", tags: ["vip"], match: "any" },
      timezone: "Asia/Jakarta",
      ...(options.startAt ? { startAt: options.startAt } : {}),
    },
    systemAuditContext,
  );
  const scheduled = await service.schedule(access, campaignId, systemAuditContext);
  const active = async (delivery: CampaignDelivery): Promise<ActiveCampaign> => ({
    ...(await delivery.activate(campaignId, scheduled.campaign)),
    profile: loose,
  });
  const recipient = async (personId: string) =>
    (
      await db
        .doc(campaignRecipientPath(tenantId, campaignId, personId))
        .withConverter(recipientConverter)
        .get()
    ).data();
  const campaign = async () =>
    (await db.doc(campaignPath(tenantId, campaignId)).withConverter(campaignConverter).get()).data();
  const outbox = new OutboxService(db, {
    newMessageId: () => uniqueId("3EB0").replace(/[^A-Za-z0-9]/g, ""),
    deadlineMs: 60_000,
  });
  /** What the runner's send executor does with the item: claim it, then record how it went. */
  const finish = async (
    sender: (typeof senders)[number],
    send: CampaignSend,
    outcome: "done" | { code: string; indeterminate?: boolean },
  ) => {
    const claim = await outbox.claim(sender.lease, sender.fence, send.itemId);
    if (claim.kind !== "run") throw new Error(`item ${send.itemId} not runnable: ${claim.kind}`);
    await outbox.complete(
      sender.lease,
      sender.fence,
      send.itemId,
      outcome === "done"
        ? { status: "done" }
        : {
            status: outcome.indeterminate ? "indeterminate" : "failed",
            error: { code: outcome.code, message: "test" },
          },
    );
    return claim.item;
  };
  const [sender] = senders;
  if (!sender) throw new Error("no sender");
  return {
    clock,
    now,
    tenantId,
    access,
    senders,
    /** The first (in most tests, the only) bot. */
    sender,
    people,
    campaignId,
    service,
    active,
    recipient,
    campaign,
    outbox,
    finish,
    leases,
  };
}

describe("sending a campaign, one step at a time", () => {
  it("queues the next recipient's message with everything the send needs, in one transaction", async () => {
    const w = await world();
    const { sender } = w;
    const active = await w.active(sender.delivery);
    const step = await sender.delivery.next(active, nobodyWrote);
    if (step.kind !== "send") throw new Error(`expected a send, got ${step.kind}`);
    const { send } = step;
    expect(send.itemId).toBe(deliveryItemId(w.campaignId, send.personId, 0));
    const item = (await db.doc(`tenants/${w.tenantId}/bots/${sender.botId}/outbox/${send.itemId}`).get()).data();
    expect(item).toMatchObject({
      kind: "send",
      status: "pending",
      to: send.to,
      campaign: { campaignId: w.campaignId, personId: send.personId },
      requestedBy: `campaign:${w.campaignId}`,
    });
    expect(item?.content.text).toMatch(/^Hi Person \d$/);
    expect(await w.recipient(send.personId)).toMatchObject({
      status: "sending",
      botId: sender.botId,
      outboxId: send.itemId,
    });
    expect((await db.doc(campaignReachPath(w.tenantId, send.personId)).get()).data()).toMatchObject({
      campaignId: w.campaignId,
      botId: sender.botId,
    });
    const governor = await new GovernorStore(db).load({ tenantId: w.tenantId, botId: sender.botId });
    expect(governor.recent).toEqual([w.clock.t]);
    expect(governor.hours[0]).toMatchObject({ sent: 1, neverWrote: 1 });
    expect((await db.doc(usagePath(w.tenantId, usageDay(w.clock.t))).get()).get("messages")).toBe(1);
    expect(await readCounts(db, w.tenantId, w.campaignId)).toMatchObject({ pending: 4, sending: 1 });

    await w.finish(sender, send, "done");
    expect(await sender.delivery.settle(active, send.personId)).toBe("sent");
    expect(await sender.delivery.settle(active, send.personId)).toBe("not_ours");
    expect((await w.recipient(send.personId))?.status).toBe("sent");
    expect(await readCounts(db, w.tenantId, w.campaignId)).toEqual(await countRecipients(db, w.tenantId, w.campaignId));
  });

  it("skips at the moment of sending whoever opted out, was deleted or got another campaign's message in 24 h", async () => {
    const w = await world({ body: "{{city}}" });
    const { sender } = w;
    const [optedOut, deleted, recent, fine, noCity] = w.people as [string, string, string, string, string];
    await db.doc(tenantContactPath(w.tenantId, optedOut)).update({
      optOut: { at: Timestamp.now(), via: "whatsapp", botId: sender.botId, reason: "STOP" },
    });
    await db.doc(tenantContactPath(w.tenantId, deleted)).delete();
    await db.doc(campaignReachPath(w.tenantId, recent)).set({
      campaignId: "another",
      botId: sender.botId,
      at: Timestamp.fromMillis(w.clock.t - 60 * 60_000),
    });
    const active = await w.active(sender.delivery);
    const outcomes = new Map<string, string>();
    for (let i = 0; i < 5; i++) {
      const step = await sender.delivery.next(active, nobodyWrote);
      if (step.kind === "skipped") outcomes.set(step.personId, step.reason);
      else if (step.kind === "send") outcomes.set(step.send.personId, "send");
      else throw new Error(`unexpected ${step.kind}`);
    }
    expect(Object.fromEntries(outcomes)).toEqual({
      [optedOut]: "opted_out",
      [deleted]: "invalid",
      [recent]: "recent",
      [fine]: "send",
      [noCity]: "unsendable",
    });
    expect(await w.recipient(noCity)).toMatchObject({ status: "failed", error: { code: "empty_message" } });
    expect(await w.recipient(recent)).toMatchObject({ status: "skipped", skipReason: "recent" });
    expect(await sender.delivery.next(active, nobodyWrote)).toEqual({ kind: "drained" });
    expect(await readCounts(db, w.tenantId, w.campaignId)).toEqual(await countRecipients(db, w.tenantId, w.campaignId));
  });

  it("finds a recipient whose number's contact was folded into their LID's since the planning", async () => {
    const w = await world({ contacts: 2 });
    const { sender } = w;
    const [folded, other] = w.people as [string, string];
    const contacts = new ContactService(db, { now: w.now });
    // The runner learnt both people's LIDs; one of them had opted out by then.
    for (const [i, personId] of [folded, other].entries()) {
      await contacts.linkIdentity(w.tenantId, {
        lid: `99000000000${i}@lid`,
        pn: `${personId.slice(3)}@s.whatsapp.net`,
      });
    }
    await db.doc(tenantContactPath(w.tenantId, "lid:990000000001")).update({
      optOut: { at: Timestamp.now(), via: "whatsapp", botId: sender.botId, reason: "STOP" },
    });
    const active = await w.active(sender.delivery);
    const steps = [await sender.delivery.next(active, nobodyWrote), await sender.delivery.next(active, nobodyWrote)];
    const send = steps.find((step) => step.kind === "send");
    expect(send?.kind === "send" && send.send).toMatchObject({ personId: folded, to: "990000000000@lid" });
    expect(steps.find((step) => step.kind === "skipped")).toEqual({
      kind: "skipped",
      personId: other,
      reason: "opted_out",
    });
  });

  it("refuses to prepare a campaign whose message no longer renders", async () => {
    const w = await world();
    const { sender } = w;
    const doc = await w.campaign();
    if (!doc?.message) throw new Error("no message snapshot");
    await expect(
      sender.delivery.activate(w.campaignId, { ...doc, message: { ...doc.message, body: "Hi {{name" } }),
    ).rejects.toBeInstanceOf(UnsendableCampaignError);
  });

  it("counts nothing when the plan refuses: a payment restriction stops, a full day waits for the next", async () => {
    const w = await world();
    const { sender } = w;
    const active = await w.active(sender.delivery);
    const governorBefore = await new GovernorStore(db).load({ tenantId: w.tenantId, botId: sender.botId });

    await db.doc(usagePath(w.tenantId, usageDay(w.clock.t))).set({
      day: usageDay(w.clock.t),
      messages: PlanCatalog.get("business").messagesPerDay,
    });
    const full = await sender.delivery.next(active, nobodyWrote);
    expect(full).toEqual({ kind: "wait", until: Date.UTC(2026, 11, 8), reason: "messages_per_day" });

    // The same tenant, the next day, past its payment's grace period.
    await db.doc(`tenants/${w.tenantId}`).update({ "billing.restrictFrom": Timestamp.fromMillis(w.clock.t - 1) });
    w.clock.t = Date.UTC(2026, 11, 8, 3, 0);
    const restricted = await sender.delivery.next(active, nobodyWrote);
    expect(restricted.kind).toBe("stop");
    expect(restricted.kind === "stop" && restricted.reason).toMatch(/payment failed/);

    expect(await readCounts(db, w.tenantId, w.campaignId)).toMatchObject({ pending: 5, sending: 0 });
    const governorAfter = await new GovernorStore(db).load({ tenantId: w.tenantId, botId: sender.botId });
    expect(governorAfter.recent).toEqual(governorBefore.recent);
  });

  it("settles each outcome: sent, tried again under a new item if it never left, failed (and counted) otherwise", async () => {
    const w = await world();
    const { sender } = w;
    const active = await w.active(sender.delivery);
    const take = async () => {
      const step = await sender.delivery.next(active, nobodyWrote);
      if (step.kind !== "send") throw new Error(`expected a send, got ${step.kind}`);
      return step.send;
    };
    const first = await take();
    expect(await sender.delivery.settle(active, first.personId)).toBe("in_flight");
    await w.finish(sender, first, { code: "not_connected" });
    expect(await sender.delivery.settle(active, first.personId)).toBe("retry");
    expect(await w.recipient(first.personId)).toMatchObject({ status: "pending", attempts: 1, outboxId: null });

    const unknown = await take();
    await w.finish(sender, unknown, { code: "send_timeout", indeterminate: true });
    // The others go out; the one tried again comes back among the pending ones, under a new item.
    let again = await take();
    while (again.personId !== first.personId) {
      await w.finish(sender, again, "done");
      expect(await sender.delivery.settle(active, again.personId)).toBe("sent");
      again = await take();
    }
    expect(again.itemId).toBe(deliveryItemId(w.campaignId, first.personId, 1));
    expect(again.itemId).not.toBe(first.itemId);
    await w.finish(sender, again, "done");
    expect(await sender.delivery.settle(active, again.personId)).toBe("sent");

    expect(await sender.delivery.settle(active, unknown.personId)).toBe("failed");
    expect(await w.recipient(unknown.personId)).toMatchObject({ status: "failed", error: { code: "send_timeout" } });
    const governor = await new GovernorStore(db).load({ tenantId: w.tenantId, botId: sender.botId });
    expect(governor.failures.map((f) => f.code)).toEqual(["send_timeout"]);
    expect(await readCounts(db, w.tenantId, w.campaignId)).toEqual(await countRecipients(db, w.tenantId, w.campaignId));
  });

  it("fails the recipient of a message WhatsApp refused with 463 after it was sent", async () => {
    const w = await world();
    const { sender } = w;
    const active = await w.active(sender.delivery);
    const step = await sender.delivery.next(active, nobodyWrote);
    if (step.kind !== "send") throw new Error(`expected a send, got ${step.kind}`);
    const item = await w.finish(sender, step.send, "done");
    await sender.delivery.settle(active, step.send.personId);
    const messageId = item.kind === "send" ? item.messageId : null;
    if (!messageId) throw new Error("no reserved message id");

    expect(await sender.delivery.refused(messageId)).toEqual({
      campaignId: w.campaignId,
      personId: step.send.personId,
    });
    expect(await w.recipient(step.send.personId)).toMatchObject({
      status: "failed",
      error: { code: "whatsapp_refused_463" },
    });
    // A message that was no campaign's is nobody's recipient.
    expect(await sender.delivery.refused("3EB0NOTACAMPAIGN")).toBeUndefined();
    expect(await readCounts(db, w.tenantId, w.campaignId)).toEqual(await countRecipients(db, w.tenantId, w.campaignId));
  });

  it("gives each recipient to one bot of a pool, however they race", { timeout: 60_000 }, async () => {
    const w = await world({ bots: 2, contacts: 24 });
    const sendsOf = new Map<string, string[]>();
    await Promise.all(
      w.senders.map(async (sender) => {
        const active = await w.active(sender.delivery);
        const mine: string[] = [];
        sendsOf.set(sender.botId, mine);
        for (;;) {
          w.clock.t += 1_100;
          const step = await sender.delivery.next(active, nobodyWrote);
          if (step.kind === "drained") return;
          if (step.kind !== "send") continue;
          mine.push(step.send.personId);
          await w.finish(sender, step.send, "done");
          await sender.delivery.settle(active, step.send.personId);
        }
      }),
    );
    const all = [...sendsOf.values()].flat();
    expect(all.sort()).toEqual([...w.people].sort());
    expect(await countRecipients(db, w.tenantId, w.campaignId)).toMatchObject({ sent: 24, pending: 0, sending: 0 });
    expect(await readCounts(db, w.tenantId, w.campaignId)).toEqual(await countRecipients(db, w.tenantId, w.campaignId));
  });

  it("refuses a deposed owner: a runner whose lease was taken queues nothing", async () => {
    const w = await world();
    const { sender } = w;
    const active = await w.active(sender.delivery);
    // Another instance takes the bot once the lease has expired.
    const later = new LeaseStore(db, { ttlMs: 60_000, now: () => Date.now() + 120_000 });
    expect(await later.acquire({ tenantId: w.tenantId, botId: sender.botId }, "runner-b")).toBeDefined();
    await expect(sender.delivery.next(active, nobodyWrote)).rejects.toThrow(/lost/);
    expect(await readCounts(db, w.tenantId, w.campaignId)).toMatchObject({ pending: 5, sending: 0 });
  });
});

describe("a campaign's status changes nobody asked for", () => {
  it("starts when its time comes, pauses and completes once each, audited as the platform's", async () => {
    const w = await world({ startAt: new Date(Date.UTC(2026, 11, 7, 5, 0)).toISOString() });
    const runs = new CampaignRuns(db, { now: w.now });
    expect((await w.campaign())?.status).toBe("scheduled");
    expect(await runs.start(w.tenantId, w.campaignId)).toBe(false);
    w.clock.t = Date.UTC(2026, 11, 7, 5, 0);
    expect(await runs.start(w.tenantId, w.campaignId)).toBe(true);
    expect(await runs.start(w.tenantId, w.campaignId)).toBe(false);
    expect(await w.campaign()).toMatchObject({ status: "running", statusReason: null });

    expect(await runs.pause(w.tenantId, w.campaignId, "Bot b: WhatsApp refused a send with error 463")).toBe(true);
    expect(await runs.pause(w.tenantId, w.campaignId, "again")).toBe(false);
    expect(await w.campaign()).toMatchObject({ status: "paused", statusReason: /463/ });
    expect(await runs.complete(w.tenantId, w.campaignId)).toBe(false);

    await w.service.resume(w.access, w.campaignId, systemAuditContext);
    expect(await runs.complete(w.tenantId, w.campaignId)).toBe(true);
    const done = await w.campaign();
    expect(done).toMatchObject({ status: "completed" });
    expect(done?.endedAt?.toMillis()).toBe(w.clock.t);
    const actions = (await db.collection(`tenants/${w.tenantId}/audit`).where("actor.kind", "==", "system").get()).docs
      .map((d) => d.get("action"))
      .sort();
    expect(actions).toEqual(expect.arrayContaining(["campaign.completed", "campaign.paused", "campaign.started"]));
  });

  it("resuming clears what the governor latched on the campaign's bots", async () => {
    const w = await world();
    const { sender } = w;
    const governor = new GovernorStore(db, { now: w.now }).forBot({ tenantId: w.tenantId, botId: sender.botId });
    await governor.signal({ kind: "sendRefused463", messageId: "3EB0ABCDEF" });
    await new CampaignRuns(db, { now: w.now }).pause(w.tenantId, w.campaignId, "463");
    expect((await governor.state()).stopped?.reason).toBe("whatsapp_refused_463");
    await w.service.resume(w.access, w.campaignId, systemAuditContext);
    expect((await governor.state()).stopped).toBeNull();
    expect((await governor.state()).signals.last463At).toBe(w.clock.t);
  });

  it("refuses to resume while WhatsApp's capping warning holds, naming the bot and the cycle's end", async () => {
    const w = await world();
    const { sender } = w;
    const governor = new GovernorStore(db, { now: w.now }).forBot({ tenantId: w.tenantId, botId: sender.botId });
    const cycleEndsAt = w.clock.t + 86_400_000;
    await governor.signal({ kind: "capping", status: "FIRST_WARNING", used: 45, total: 50, cycleEndsAt });
    await new CampaignRuns(db, { now: w.now }).pause(w.tenantId, w.campaignId, "capping");
    await expect(w.service.resume(w.access, w.campaignId, systemAuditContext)).rejects.toMatchObject({
      code: "conflict",
      message: expect.stringMatching(new RegExp(`${sender.botId}.*FIRST_WARNING`)),
    });
    expect((await w.campaign())?.status).toBe("paused");
    // Once the cycle is over the warning says nothing about the next one.
    w.clock.t = cycleEndsAt + 1;
    expect((await w.service.resume(w.access, w.campaignId, systemAuditContext)).campaign.status).toBe("running");
  });
});
