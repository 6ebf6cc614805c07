import { templatePath, tenantContactPath } from "@whatsdex/core";
import { Timestamp } from "firebase-admin/firestore";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { campaignSchema, recipientSchema } from "../src/campaigns/dto.ts";
import { pageOf, problemSchema } from "../src/http/schemas.ts";
import { ownerWithTenant } from "./support/fixtures.ts";
import { client, signUp, startTestApi, type TestApi } from "./support/test-api.ts";

/** Campaigns through the API: drafts, scheduling within the plan, the recipients, and who may do what. */

let api: TestApi;
let http: ReturnType<typeof client>;
beforeAll(async () => {
  api = await startTestApi({ accessCacheTtlMs: 0 });
  http = client(api.url);
});
afterAll(() => api.close());

async function tenantWithAudience(plan: "free" | "starter", contacts: number) {
  const { owner, tenantId } = await ownerWithTenant(http);
  const db = api.firebase.firestore;
  await db.doc(`tenants/${tenantId}`).update({ plan });
  const auth = { token: owner.idToken };
  const bot = z
    .object({ id: z.string() })
    .parse((await http.post(`/tenants/${tenantId}/bots`, auth, { name: "Sender", transport: "simulator" })).body);
  const templateId = "welcome";
  const now = Timestamp.now();
  // As the templates service saves one (scheduling snapshots its text).
  await db.doc(templatePath(tenantId, templateId)).set({
    name: "Welcome",
    body: "Hi {{name|there}}",
    language: "en",
    fallbacks: {},
    media: null,
    variables: ["name"],
    maxLength: 203,
    createdBy: "user:test",
    createdAt: now,
    updatedAt: now,
  });
  const writer = db.bulkWriter();
  for (let i = 0; i < contacts; i++) {
    const pn = String(6281300000000 + i);
    void writer.set(db.doc(tenantContactPath(tenantId, `pn:${pn}`)), {
      lid: null,
      pn: `${pn}@s.whatsapp.net`,
      name: `Customer ${i}`,
      tags: ["newsletter"],
      fields: {},
      optOut: i % 10 === 0 ? { at: now, via: "whatsapp", botId: bot.id, reason: "STOP" } : null,
      importId: null,
      createdAt: now,
      updatedAt: now,
    });
  }
  await writer.close();
  const draft = {
    name: "December news",
    botIds: [bot.id],
    templateId,
    audience: { kind: "tags", tags: ["newsletter"] },
    timezone: "Asia/Jakarta",
  };
  return { owner, auth, tenantId, botId: bot.id, draft };
}

describe("campaigns through the API", () => {
  it("goes from a draft to running with its recipients counted, then is paused, resumed and cancelled", async () => {
    const { auth, tenantId, draft } = await tenantWithAudience("starter", 50);
    const created = await http.post(`/tenants/${tenantId}/campaigns`, auth, {
      ...draft,
      pacing: { profile: "cautious", overrides: { perDay: 200 } },
    });
    expect(created.status).toBe(201);
    const campaign = campaignSchema.parse(created.body);
    expect(campaign).toMatchObject({
      status: "draft",
      counts: { total: 0 },
      pacing: { profile: "cautious" },
      message: null,
    });

    const scheduled = await http.post(`/tenants/${tenantId}/campaigns/${campaign.id}/schedule`, auth);
    expect(scheduled.status).toBe(200);
    expect(campaignSchema.parse(scheduled.body)).toMatchObject({
      status: "running",
      counts: { total: 50, pending: 45, skipped: 5 },
      message: { body: "Hi {{name|there}}", media: null },
    });
    const optedOut = await http.get(
      `/tenants/${tenantId}/campaigns/${campaign.id}/recipients?status=skipped&limit=10`,
      auth,
    );
    const page = pageOf(recipientSchema).parse(optedOut.body);
    expect(page.items).toHaveLength(5);
    expect(page.items.every((r) => r.skipReason === "opted_out")).toBe(true);

    const paused = await http.post(`/tenants/${tenantId}/campaigns/${campaign.id}/pause`, auth, {
      reason: "wrong link",
    });
    expect(campaignSchema.parse(paused.body)).toMatchObject({ status: "paused", statusReason: "wrong link" });
    expect((await http.post(`/tenants/${tenantId}/campaigns/${campaign.id}/schedule`, auth)).status).toBe(409);
    expect((await http.post(`/tenants/${tenantId}/campaigns/${campaign.id}/resume`, auth)).status).toBe(200);
    const cancelled = await http.post(`/tenants/${tenantId}/campaigns/${campaign.id}/cancel`, auth);
    expect(campaignSchema.parse(cancelled.body).status).toBe("cancelled");
    const list = pageOf(campaignSchema).parse((await http.get(`/tenants/${tenantId}/campaigns`, auth)).body);
    expect(list.items.map((c) => c.id)).toEqual([campaign.id]);
  });

  it("refuses a campaign the plan has no room for, and names the bad fields of a draft", async () => {
    const free = await tenantWithAudience("free", 3);
    const draft = campaignSchema.parse(
      (await http.post(`/tenants/${free.tenantId}/campaigns`, free.auth, free.draft)).body,
    );
    const refused = await http.post(`/tenants/${free.tenantId}/campaigns/${draft.id}/schedule`, free.auth);
    expect(refused.status).toBe(403);
    expect(problemSchema.parse(refused.body)).toMatchObject({ code: "plan_limit" });

    const unknownBot = await http.post(`/tenants/${free.tenantId}/campaigns`, free.auth, {
      ...free.draft,
      botIds: ["nobody"],
    });
    expect(unknownBot.status).toBe(400);
    expect(problemSchema.parse(unknownBot.body).errors?.map((e) => e.path)).toEqual(["botIds[0]"]);
    const looser = await http.post(`/tenants/${free.tenantId}/campaigns`, free.auth, {
      ...free.draft,
      pacing: { profile: "standard", overrides: { perMinute: 30 } },
    });
    expect(looser.status).toBe(400);
    expect(problemSchema.parse(looser.body).errors?.map((e) => e.path)).toEqual(["pacing.overrides.perMinute"]);
    const badZone = await http.post(`/tenants/${free.tenantId}/campaigns`, free.auth, {
      ...free.draft,
      timezone: "Mars/Olympus",
    });
    expect(problemSchema.parse(badZone.body).errors?.map((e) => e.path)).toEqual(["body.timezone"]);
    const list = pageOf(campaignSchema).parse((await http.get(`/tenants/${free.tenantId}/campaigns`, free.auth)).body);
    expect(list.items).toHaveLength(1);
  });

  it("lets viewers and read keys see campaigns, and only writers create and run them", async () => {
    const { auth, tenantId, draft } = await tenantWithAudience("starter", 2);
    const viewer = await signUp();
    expect((await http.post(`/tenants/${tenantId}/members`, auth, { uid: viewer.uid, role: "viewer" })).status).toBe(
      201,
    );
    const keyOf = async (scopes: string[]) => {
      const response = await http.post(`/tenants/${tenantId}/api-keys`, auth, { name: scopes.join(","), scopes });
      return { apiKey: z.object({ key: z.string() }).parse(response.body).key };
    };
    const readKey = await keyOf(["read"]);
    const messagesKey = await keyOf(["messages"]);
    const made = await http.post(`/tenants/${tenantId}/campaigns`, messagesKey, draft);
    expect(made.status).toBe(201);
    const id = campaignSchema.parse(made.body).id;
    for (const reader of [{ token: viewer.idToken }, readKey]) {
      expect((await http.get(`/tenants/${tenantId}/campaigns/${id}`, reader)).status).toBe(200);
      expect((await http.post(`/tenants/${tenantId}/campaigns`, reader, draft)).status).toBe(403);
      expect((await http.post(`/tenants/${tenantId}/campaigns/${id}/schedule`, reader)).status).toBe(403);
    }
  });
});
