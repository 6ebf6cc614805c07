import { Timestamp } from "firebase-admin/firestore";
import { afterAll, describe, expect, it } from "vitest";
import type { TenantAccess } from "../src/access/access-service.ts";
import { systemAuditContext } from "../src/audit/audit-log.ts";
import { BotService } from "../src/bots/bot-service.ts";
import { CampaignService } from "../src/campaigns/campaign-service.ts";
import { planRecipients } from "../src/campaigns/recipient-planner.ts";
import type { ContactDoc } from "../src/contacts/schema.ts";
import { campaignPath, templatePath, tenantContactPath } from "../src/firestore/paths.ts";
import { createRefs } from "../src/firestore/refs.ts";
import { TenantService } from "../src/tenants/tenant-service.ts";
import { testFirebase, uniqueId } from "../src/testing/index.ts";

/**
 * Campaigns from draft to running on the Firestore emulator: recipients planned from contacts by
 * tag or list (opted-out, missing and duplicate people skipped with the reason), the plan's limits,
 * resumable planning, and the life of a campaign.
 */

const firebase = testFirebase();
const db = firebase.firestore;
const refs = createRefs(db);
afterAll(() => firebase.close());

interface Fixture {
  tenantId: string;
  access: TenantAccess;
  botId: string;
  templateId: string;
  service: CampaignService;
}

async function fixture(plan: "free" | "starter" | "business" = "starter"): Promise<Fixture> {
  const uid = uniqueId("owner");
  const { id: tenantId } = await new TenantService(refs).create({ kind: "user", uid, email: null }, { name: "Shop" });
  await refs.tenant(tenantId).update({ plan });
  const access: TenantAccess = { tenantId, principal: { kind: "user", uid, email: null }, role: "owner", plan };
  const { id: botId } = await new BotService(refs, { allowSimulator: true }).create(access, {
    name: "Sender",
    transport: "simulator",
  });
  // As the templates service saves one (scheduling snapshots its text).
  const templateId = uniqueId("tpl");
  const now = Timestamp.now();
  await db.doc(templatePath(tenantId, templateId)).set({
    name: "Hello",
    body: "Hi {{name}}",
    language: "en",
    fallbacks: {},
    media: null,
    variables: ["name"],
    maxLength: 203,
    createdBy: `user:${uid}`,
    createdAt: now,
    updatedAt: now,
  });
  return { tenantId, access, botId, templateId, service: new CampaignService(refs) };
}

function contact(pn: string, tags: string[], extra: Partial<ContactDoc> = {}): ContactDoc {
  const now = Timestamp.now();
  return {
    lid: null,
    pn: `${pn}@s.whatsapp.net`,
    name: `Person ${pn}`,
    tags,
    fields: {},
    optOut: null,
    importId: null,
    createdAt: now,
    updatedAt: now,
    ...extra,
  };
}

async function addContacts(tenantId: string, contacts: Array<[string, ContactDoc]>): Promise<void> {
  const writer = db.bulkWriter();
  for (const [id, doc] of contacts) void writer.set(db.doc(tenantContactPath(tenantId, id)), doc);
  await writer.close();
}

const numbers = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => String(6281200000000 + from + i));

describe("a campaign's recipients", () => {
  it("are planned from the audience's tags, skipping opted-out and duplicate people with the reason", async () => {
    const f = await fixture();
    const vip = numbers(0, 250).map((pn): [string, ContactDoc] => [`pn:${pn}`, contact(pn, ["vip"])]);
    const optedOut = numbers(1_000, 20).map((pn): [string, ContactDoc] => [
      `pn:${pn}`,
      contact(pn, ["vip"], { optOut: { at: Timestamp.now(), via: "whatsapp", botId: f.botId, reason: "STOP" } }),
    ]);
    const others = numbers(2_000, 30).map((pn): [string, ContactDoc] => [`pn:${pn}`, contact(pn, ["wholesale"])]);
    // The same person as a LID contact too (their number not yet linked to it): one message.
    const [firstNumber] = numbers(0, 1);
    const twin: [string, ContactDoc] = [
      "lid:99887766554433",
      contact(firstNumber ?? "", ["vip"], { lid: "99887766554433@lid" }),
    ];
    await addContacts(f.tenantId, [...vip, ...optedOut, ...others, twin]);

    const created = await f.service.create(
      f.access,
      {
        name: "Launch",
        botIds: [f.botId],
        templateId: f.templateId,
        audience: { kind: "tags", tags: ["vip"], match: "any" },
        timezone: "Asia/Jakarta",
      },
      systemAuditContext,
    );
    expect(created.campaign.status).toBe("draft");
    const scheduled = await f.service.schedule(f.access, created.id, systemAuditContext);
    expect(scheduled.campaign.status).toBe("running");
    expect(scheduled.counts).toEqual({ total: 271, pending: 250, sending: 0, sent: 0, failed: 0, skipped: 21 });
    expect((await f.service.get(f.tenantId, created.id)).counts).toEqual(scheduled.counts);

    const skipped = await f.service.recipients(f.tenantId, created.id, { status: "skipped", limit: 100 });
    const reasons = skipped.items.map((item) => item.recipient.skipReason).sort();
    expect(reasons.filter((r) => r === "opted_out")).toHaveLength(20);
    expect(reasons.filter((r) => r === "duplicate")).toHaveLength(1);

    // Every pending recipient, page by page, once.
    const seen = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await f.service.recipients(f.tenantId, created.id, { status: "pending", limit: 60, cursor });
      for (const item of page.items) seen.add(item.personId);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen.size).toBe(250);
  });

  it("matches all of several tags, and an explicit list with people who are not contacts", async () => {
    const f = await fixture();
    await addContacts(f.tenantId, [
      ...numbers(0, 30).map((pn): [string, ContactDoc] => [`pn:${pn}`, contact(pn, ["vip", "jakarta"])]),
      ...numbers(100, 30).map((pn): [string, ContactDoc] => [`pn:${pn}`, contact(pn, ["vip"])]),
    ]);
    const base = { name: "x", botIds: [f.botId], templateId: f.templateId, timezone: "UTC" };
    const all = await f.service.create(
      f.access,
      { ...base, audience: { kind: "tags", tags: ["vip", "jakarta"], match: "all" } },
      systemAuditContext,
    );
    // Small pages, so that `all` filters within pages and the cursor still moves past each.
    await planRecipients(db, f.tenantId, all.id, { page: 7 });
    expect((await f.service.recount(f.tenantId, all.id)).pending).toBe(30);

    const listed = numbers(0, 5).map((pn) => `pn:${pn}`);
    const list = await f.service.create(
      f.access,
      { ...base, audience: { kind: "list", personIds: [...listed, "pn:6289999999999", listed[0] ?? ""] } },
      systemAuditContext,
    );
    const scheduled = await f.service.schedule(f.access, list.id, systemAuditContext);
    expect(scheduled.counts).toMatchObject({ total: 6, pending: 5, skipped: 1 });
    const invalid = await f.service.recipients(f.tenantId, list.id, { status: "skipped", limit: 10 });
    expect(invalid.items.map((i) => [i.personId, i.recipient.skipReason])).toEqual([["pn:6289999999999", "invalid"]]);
  });

  it("resumes an interrupted planning after the last page it finished, writing each person once", async () => {
    const f = await fixture();
    await addContacts(
      f.tenantId,
      numbers(0, 120).map((pn): [string, ContactDoc] => [`pn:${pn}`, contact(pn, ["all"])]),
    );
    const created = await f.service.create(
      f.access,
      {
        name: "x",
        botIds: [f.botId],
        templateId: f.templateId,
        audience: { kind: "tags", tags: ["all"], match: "any" },
        timezone: "UTC",
      },
      systemAuditContext,
    );
    const first = await planRecipients(db, f.tenantId, created.id, { page: 25 });
    expect(first).toMatchObject({ pages: 5, counts: { total: 120, pending: 120 } });
    // As a crash after the second page of 25 leaves it: the cursor at the 50th contact, not done.
    const sorted = numbers(0, 120)
      .map((pn) => `pn:${pn}`)
      .sort();
    await db.doc(campaignPath(f.tenantId, created.id)).update({
      "planning.state": "in_progress",
      "planning.cursor": sorted[49],
    });
    const resumed = await planRecipients(db, f.tenantId, created.id, { page: 25 });
    // Only what came after the cursor is read again; what is written twice is the same document.
    expect(resumed.pages).toBe(3);
    expect(resumed.counts).toMatchObject({ total: 120, pending: 120 });
  });
});

describe("the plan's limits", () => {
  it("refuses campaigns on Free, and more recipients than the plan allows, naming the limit and keeping the draft", async () => {
    const free = await fixture("free");
    const draft = await free.service.create(
      free.access,
      {
        name: "x",
        botIds: [free.botId],
        templateId: free.templateId,
        audience: { kind: "tags", tags: ["a"], match: "any" },
        timezone: "UTC",
      },
      systemAuditContext,
    );
    await expect(free.service.schedule(free.access, draft.id, systemAuditContext)).rejects.toMatchObject({
      code: "plan_limit",
      details: { limit: 0 },
    });

    const f = await fixture("starter");
    await addContacts(
      f.tenantId,
      numbers(0, 1_005).map((pn): [string, ContactDoc] => [`pn:${pn}`, contact(pn, ["many"])]),
    );
    const big = await f.service.create(
      f.access,
      {
        name: "x",
        botIds: [f.botId],
        templateId: f.templateId,
        audience: { kind: "tags", tags: ["many"], match: "any" },
        timezone: "UTC",
      },
      systemAuditContext,
    );
    await expect(f.service.schedule(f.access, big.id, systemAuditContext)).rejects.toMatchObject({
      code: "plan_limit",
      details: { limit: 1_000, recipients: 1_005 },
    });
    expect((await f.service.get(f.tenantId, big.id)).campaign.status).toBe("draft");
    // Narrowed: the earlier recipients go, and the new audience is planned from scratch.
    await addContacts(
      f.tenantId,
      numbers(5_000, 3).map((pn): [string, ContactDoc] => [`pn:${pn}`, contact(pn, ["few"])]),
    );
    await f.service.update(
      f.access,
      big.id,
      { audience: { kind: "tags", tags: ["few"], match: "any" } },
      systemAuditContext,
    );
    const scheduled = await f.service.schedule(f.access, big.id, systemAuditContext);
    expect(scheduled.counts).toMatchObject({ total: 3, pending: 3 });
  });

  it("refuses scheduling while payments have failed past the grace period (402)", async () => {
    const f = await fixture();
    await addContacts(f.tenantId, [["pn:6281200000001", contact("6281200000001", ["a"])]]);
    await refs.tenant(f.tenantId).update({
      "billing.status": "past_due",
      "billing.restrictFrom": Timestamp.fromMillis(Date.now() - 1_000),
    });
    const draft = await f.service.create(
      f.access,
      {
        name: "x",
        botIds: [f.botId],
        templateId: f.templateId,
        audience: { kind: "tags", tags: ["a"], match: "any" },
        timezone: "UTC",
      },
      systemAuditContext,
    );
    await expect(f.service.schedule(f.access, draft.id, systemAuditContext)).rejects.toMatchObject({
      code: "payment_required",
    });
  });
});

describe("a campaign's life", () => {
  it("is scheduled for later, paused, resumed and cancelled; other moves are conflicts", async () => {
    const f = await fixture();
    await addContacts(f.tenantId, [["pn:6281200000001", contact("6281200000001", ["a"])]]);
    const later = new Date(Date.now() + 86_400_000).toISOString();
    const draft = await f.service.create(
      f.access,
      {
        name: "Tomorrow",
        botIds: [f.botId],
        templateId: f.templateId,
        audience: { kind: "tags", tags: ["a"], match: "any" },
        timezone: "Europe/Berlin",
        startAt: later,
      },
      systemAuditContext,
    );
    await expect(f.service.resume(f.access, draft.id, systemAuditContext)).rejects.toMatchObject({ code: "conflict" });
    expect((await f.service.schedule(f.access, draft.id, systemAuditContext)).campaign.status).toBe("scheduled");
    await expect(f.service.schedule(f.access, draft.id, systemAuditContext)).rejects.toMatchObject({
      code: "conflict",
    });
    await expect(f.service.update(f.access, draft.id, { name: "Renamed" }, systemAuditContext)).rejects.toMatchObject({
      code: "conflict",
    });
    const paused = await f.service.pause(f.access, draft.id, "holiday", systemAuditContext);
    expect(paused.campaign).toMatchObject({ status: "paused", statusReason: "holiday" });
    const resumed = await f.service.resume(f.access, draft.id, systemAuditContext);
    expect(resumed.campaign.status).toBe("running");
    const cancelled = await f.service.cancel(f.access, draft.id, systemAuditContext);
    expect(cancelled.campaign.status).toBe("cancelled");
    expect(cancelled.campaign.endedAt).not.toBeNull();
    await expect(f.service.resume(f.access, draft.id, systemAuditContext)).rejects.toMatchObject({ code: "conflict" });
    await expect(f.service.delete(f.access, draft.id, systemAuditContext)).rejects.toMatchObject({ code: "conflict" });
  });

  it("takes a pacing profile that the tenant may only make stricter, naming a looser field", async () => {
    const f = await fixture();
    const base = {
      name: "x",
      botIds: [f.botId],
      templateId: f.templateId,
      audience: { kind: "tags" as const, tags: ["a"], match: "any" as const },
      timezone: "UTC",
    };
    const strict = await f.service.create(
      f.access,
      { ...base, pacing: { profile: "cautious", overrides: { perMinute: 2, perDay: 100 } } },
      systemAuditContext,
    );
    expect(strict.campaign.pacing).toEqual({ profile: "cautious", overrides: { perMinute: 2, perDay: 100 } });
    await expect(
      f.service.create(
        f.access,
        { ...base, pacing: { profile: "standard", overrides: { perMinute: 60 } } },
        systemAuditContext,
      ),
    ).rejects.toMatchObject({
      code: "validation_failed",
      issues: [{ path: "pacing.overrides.perMinute", message: expect.stringContaining("at most 6") }],
    });
  });

  it("names unknown bots and templates when a campaign is created, and creates nothing", async () => {
    const f = await fixture();
    await expect(
      f.service.create(
        f.access,
        {
          name: "x",
          botIds: [f.botId, "nobot"],
          templateId: "notemplate",
          audience: { kind: "tags", tags: ["a"], match: "any" },
          timezone: "UTC",
        },
        systemAuditContext,
      ),
    ).rejects.toMatchObject({
      code: "validation_failed",
      issues: [
        { path: "botIds[1]", message: expect.stringContaining("nobot") },
        { path: "templateId", message: expect.stringContaining("notemplate") },
      ],
    });
    expect((await f.service.list(f.tenantId, { limit: 10 })).items).toEqual([]);
  });
});
