import { MAX_FREE_TENANTS_PER_USER, usageDay, usagePath } from "@whatsdex/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { botSchema } from "../src/bots/dto.ts";
import { problemSchema } from "../src/http/schemas.ts";
import { tenantSchema } from "../src/tenants/dto.ts";
import { ownerWithTenant } from "./support/fixtures.ts";
import { client, signUp, startTestApi, type TestApi } from "./support/test-api.ts";

let api: TestApi;
let http: ReturnType<typeof client>;
beforeAll(async () => {
  api = await startTestApi();
  http = client(api.url);
});
afterAll(() => api.close());

describe("plan limits through the API", () => {
  it(`answers 403 plan_limit when a user creates a free tenant beyond ${MAX_FREE_TENANTS_PER_USER}`, async () => {
    const user = await signUp();
    const auth = { token: user.idToken };
    for (let i = 0; i < MAX_FREE_TENANTS_PER_USER; i++) {
      expect((await http.post("/tenants", auth, { name: `Shop ${i}` })).status).toBe(201);
    }
    const refused = await http.post("/tenants", auth, { name: "One more" });
    expect(refused.status).toBe(403);
    expect(problemSchema.parse(refused.body)).toMatchObject({
      code: "plan_limit",
      detail: `You already have ${MAX_FREE_TENANTS_PER_USER} tenants on the Free plan; upgrade one to a paid plan before creating another.`,
      details: { plan: "free", limit: MAX_FREE_TENANTS_PER_USER },
    });
    // Another user is not affected.
    const other = await signUp();
    const created = await http.post("/tenants", { token: other.idToken }, { name: "Theirs" });
    expect(tenantSchema.parse(created.body).plan).toBe("free");
  });

  it("refuses an AI model outside the tenant's plan with a 400 naming the field and the allowed models", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const auth = { token: owner.idToken };
    const bot = botSchema.parse((await http.post(`/tenants/${tenantId}/bots`, auth, { name: "a" })).body);
    expect(bot.settings.limits).toEqual({ commandsPerSenderPerDay: 50, aiPerSenderPerDay: 10 });
    const path = `/tenants/${tenantId}/bots/${bot.id}`;

    const refused = await http.patch(path, auth, { settings: { ai: { persona: "", model: "gemini-2.5-pro" } } });
    expect(refused.status).toBe(400);
    expect(problemSchema.parse(refused.body).errors).toEqual([
      { path: "settings.ai.model", message: "must be one of gemini-2.5-flash-lite, gemini-2.5-flash on the Free plan" },
    ]);

    const limits = { commandsPerSenderPerDay: 20, aiPerSenderPerDay: 2 };
    const patched = await http.patch(path, auth, {
      settings: { ai: { persona: "", model: "gemini-2.5-flash-lite" }, limits },
    });
    expect(botSchema.parse(patched.body).settings).toMatchObject({ ai: { model: "gemini-2.5-flash-lite" }, limits });
    const bad = await http.patch(path, auth, { settings: { limits: { commandsPerSenderPerDay: -1 } } });
    expect(problemSchema.parse(bad.body).errors?.map((e) => e.path)).toEqual(
      expect.arrayContaining([
        "body.settings.limits.commandsPerSenderPerDay",
        "body.settings.limits.aiPerSenderPerDay",
      ]),
    );
  });

  it("answers 403 plan_limit for a send once today's messages are used up, and still replays a queued key", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const auth = { token: owner.idToken };
    const bot = botSchema.parse((await http.post(`/tenants/${tenantId}/bots`, auth, { name: "a" })).body);
    await http.post(`/tenants/${tenantId}/bots/${bot.id}/connect`, auth, { method: "qr" });
    const path = `/tenants/${tenantId}/bots/${bot.id}/messages`;
    const message = { to: "+62 812 3456 7890", content: { type: "text", text: "Hello" } };
    const keyed = { "idempotency-key": "order-1" };
    expect((await http.post(path, auth, message, keyed)).status).toBe(202);

    // The free plan's 250 used up (today and, should the test straddle midnight UTC, the next day too).
    for (const at of [Date.now(), Date.now() + 60_000]) {
      await api.firebase.firestore.doc(usagePath(tenantId, usageDay(at))).set({ day: usageDay(at), messages: 250 });
    }
    const refused = await http.post(path, auth, message);
    expect(refused.status).toBe(403);
    expect(problemSchema.parse(refused.body)).toMatchObject({ code: "plan_limit", details: { limit: 250 } });
    const replay = await http.post(path, auth, message, keyed);
    expect(replay.status).toBe(202);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    const outbox = await api.firebase.firestore.collection(`tenants/${tenantId}/bots/${bot.id}/outbox`).get();
    expect(outbox.docs.filter((d) => d.get("kind") === "send")).toHaveLength(1);
  });
});
