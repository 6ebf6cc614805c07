import { afterAll, describe, expect, it } from "vitest";
import {
  AccessCache,
  AccessService,
  BotService,
  createRefs,
  MAX_FREE_TENANTS_PER_USER,
  PlanCatalog,
  type PlanId,
  PlanLimitError,
  type Principal,
  TenantService,
  UsageService,
  usageDay,
  usagePath,
  ValidationError,
} from "../src/index.ts";
import { manualClock, testFirebase, uniqueId } from "../src/testing/index.ts";

const firebase = testFirebase();
const db = firebase.firestore;
const refs = createRefs(db);
afterAll(() => firebase.close());

const user = (): Principal => ({ kind: "user", uid: uniqueId("user"), email: null });

async function tenantOn(plan: PlanId, options: { now?: () => number } = {}) {
  const principal = user();
  const { id: tenantId } = await new TenantService(refs).create(principal, { name: "Shop" });
  await refs.tenant(tenantId).update({ plan });
  const access = await new AccessService(refs, new AccessCache({ ttlMs: 0 })).require(
    principal,
    tenantId,
    "bots:write",
  );
  const usage = new UsageService(db, options.now ? { now: options.now } : {});
  const bots = new BotService(refs, { allowSimulator: true, usage });
  return { tenantId, access, bots, usage };
}

/** The service's ValidationError, for asserting what it names. */
async function validationError(promise: Promise<unknown>): Promise<ValidationError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ValidationError)) throw new Error(`expected a ValidationError, got ${String(error)}`);
  return error;
}

describe("AI models per plan", () => {
  it("refuses a model outside the tenant's plan, naming the field and the plan's models, and changes nothing", async () => {
    const { tenantId, access, bots } = await tenantOn("free");
    const { id } = await bots.create(access, { name: "Support", transport: "simulator" });
    const error = await validationError(
      bots.update(tenantId, id, { settings: { ai: { persona: "", model: "gemini-2.5-pro" } } }),
    );
    expect(error.issues).toEqual([
      {
        path: "settings.ai.model",
        message: "must be one of gemini-2.5-flash-lite, gemini-2.5-flash on the Free plan",
      },
    ]);
    expect((await bots.get(tenantId, id)).settings.ai.model).toBe("gemini-2.5-flash");
    await validationError(
      bots.create(access, { name: "Other", transport: "simulator", settings: { ai: { persona: "", model: "gpt-4" } } }),
    );
    expect((await refs.bots(tenantId).get()).size).toBe(1);
    // A model the plan has is taken.
    const updated = await bots.update(tenantId, id, {
      settings: { ai: { persona: "", model: "gemini-2.5-flash-lite" } },
    });
    expect(updated.settings.ai.model).toBe("gemini-2.5-flash-lite");
  });

  it("allows the bigger plans' models on those plans, and falls back to the plan's default after a downgrade", async () => {
    const { tenantId, access, bots, usage } = await tenantOn("business");
    const { id } = await bots.create(access, {
      name: "Support",
      transport: "simulator",
      settings: { ai: { persona: "", model: "gemini-2.5-pro" } },
    });
    expect((await bots.get(tenantId, id)).settings.ai.model).toBe("gemini-2.5-pro");
    expect((await usage.reserveAiCall(tenantId, "gemini-2.5-pro")).model).toBe("gemini-2.5-pro");
    await refs.tenant(tenantId).update({ plan: "starter" });
    expect(await usage.reserveAiCall(tenantId, "gemini-2.5-pro")).toMatchObject({
      allowed: true,
      model: PlanCatalog.get("starter").defaultAiModel,
    });
    // A settings change that leaves the model alone is not refused over it.
    expect((await bots.update(tenantId, id, { settings: { language: "id" } })).settings.language).toBe("id");
  });
});

describe("per-sender limits in bot settings", () => {
  it("default on documents written before they existed, and a patch without them keeps them", async () => {
    const { tenantId, access, bots } = await tenantOn("free");
    const { id } = await bots.create(access, { name: "Support", transport: "simulator" });
    const stored = (await db.doc(`tenants/${tenantId}/bots/${id}`).get()).data() ?? {};
    const { limits: _dropped, ...older } = stored.settings as Record<string, unknown>;
    await db.doc(`tenants/${tenantId}/bots/${id}`).update({ settings: older });
    expect((await bots.get(tenantId, id)).settings.limits).toEqual({
      commandsPerSenderPerDay: 50,
      aiPerSenderPerDay: 10,
    });

    await bots.update(tenantId, id, { settings: { limits: { commandsPerSenderPerDay: 5, aiPerSenderPerDay: 1 } } });
    const after = await bots.update(tenantId, id, { settings: { mode: "group" } });
    expect(after.settings.limits).toEqual({ commandsPerSenderPerDay: 5, aiPerSenderPerDay: 1 });
  });
});

describe("free tenants per user", () => {
  it(`two concurrent creations cannot pass the limit: ${MAX_FREE_TENANTS_PER_USER + 3} at once make ${MAX_FREE_TENANTS_PER_USER}`, async () => {
    const tenants = new TenantService(refs);
    const principal = user();
    const results = await Promise.allSettled(
      Array.from({ length: MAX_FREE_TENANTS_PER_USER + 3 }, (_, i) => tenants.create(principal, { name: `T${i}` })),
    );
    const made = results.flatMap((r) => (r.status === "fulfilled" ? [r.value.id] : []));
    const refused = results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
    expect(made).toHaveLength(MAX_FREE_TENANTS_PER_USER);
    expect(refused).toHaveLength(3);
    for (const error of refused) {
      expect(error).toBeInstanceOf(PlanLimitError);
      expect(String(error.message)).toBe(
        "You already have 3 tenants on the Free plan; upgrade one to a paid plan before creating another.",
      );
    }
    expect(
      (
        await refs
          .tenants()
          .where("createdBy", "==", principal.kind === "user" ? principal.uid : "")
          .get()
      ).size,
    ).toBe(MAX_FREE_TENANTS_PER_USER);

    // A paid tenant does not count: upgrading one frees a slot.
    await refs.tenant(made[0] ?? "").update({ plan: "starter" });
    await expect(tenants.create(principal, { name: "After upgrade" })).resolves.toMatchObject({
      tenant: { plan: "free" },
    });
    await expect(tenants.create(principal, { name: "One too many" })).rejects.toBeInstanceOf(PlanLimitError);
  });
});

describe("messages sent through the API", () => {
  const to = "6281200000001@s.whatsapp.net";
  const text = (t: string) => ({ to, content: { type: "text" as const, text: t } });

  async function runningBot(plan: PlanId, now: () => number) {
    const tenant = await tenantOn(plan, { now });
    const { id } = await tenant.bots.create(tenant.access, { name: "Support", transport: "simulator" });
    await tenant.bots.connect(tenant.access, id, { method: "qr" });
    return { ...tenant, botId: id };
  }

  it("are metered against today's messages and refused with the plan's limit once they are used up", async () => {
    const clock = manualClock(Date.parse("2026-12-01T10:00:00Z"));
    const { tenantId, access, bots, botId } = await runningBot("free", clock.now);
    const day = usageDay(clock.now());
    await db.doc(usagePath(tenantId, day)).set({ day, messages: 248 });

    await bots.sendMessage(access, botId, text("one"), undefined);
    await bots.sendMessage(access, botId, text("two"), "key-2");
    expect((await db.doc(usagePath(tenantId, day)).get()).get("messages")).toBe(250);

    const refused = await bots.sendMessage(access, botId, text("three"), undefined).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PlanLimitError);
    expect(refused).toMatchObject({
      message: "Today's messages are used up (250 a day on the Free plan); try again after midnight UTC or upgrade.",
      details: { plan: "free", limit: 250, day: "2026-12-01" },
    });
    const queued = await refs.outbox(tenantId, botId).where("kind", "==", "send").get();
    expect(queued.size).toBe(2);

    // A retry of a send that was queued is answered from the first one, even with the day used up.
    expect((await bots.sendMessage(access, botId, text("two"), "key-2")).replayed).toBe(true);
    expect((await db.doc(usagePath(tenantId, day)).get()).get("messages")).toBe(250);

    // The next UTC day has its own allowance.
    clock.advance(24 * 60 * 60 * 1000);
    await bots.sendMessage(access, botId, text("tomorrow"), undefined);
    expect((await db.doc(usagePath(tenantId, "2026-12-02")).get()).get("messages")).toBe(1);
  });

  it("an idempotent retry is metered once, however many times it is repeated at once", async () => {
    const clock = manualClock(Date.parse("2026-12-01T10:00:00Z"));
    const { tenantId, access, bots, botId } = await runningBot("starter", clock.now);
    const results = await Promise.all(
      Array.from({ length: 5 }, () => bots.sendMessage(access, botId, text("once"), "same-key")),
    );
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect((await db.doc(usagePath(tenantId, "2026-12-01")).get()).get("messages")).toBe(1);
  });
});
