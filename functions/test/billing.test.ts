import {
  createLogger,
  createRefs,
  EventPublisher,
  StripeWebhookHandler,
  SubscriptionSync,
  stripeEventPath,
  webhookRefs,
} from "@whatsdex/core";
import { JobQueue, queueNames, webhookJobs } from "@whatsdex/core/jobs";
import { bullmqTransport } from "@whatsdex/core/jobs/bullmq";
import { type LocalStripe, requireEnv, startLocalStripe, uniqueId, waitFor } from "@whatsdex/core/testing";
import express, { type Request, type Response } from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { billingSummarySchema } from "../src/billing/routes.ts";
import { stripeWebhookRequestHandler } from "../src/billing/stripe-webhook.ts";
import { problemSchema } from "../src/http/schemas.ts";
import { serve } from "./serve.ts";
import { ownerWithTenant } from "./support/fixtures.ts";
import { client, signUp, startTestApi, type TestApi } from "./support/test-api.ts";

/**
 * Billing through the API and the `stripeWebhook` handler over HTTP, against the local Stripe, which
 * posts its signed events to the handler as Stripe would: a checkout paid on its page shows in
 * `GET …/billing` without anyone touching Firestore.
 */

let api: TestApi;
let http: ReturnType<typeof client>;
let local: LocalStripe;
let webhook: { url: string; close(): Promise<void> };
let queue: JobQueue<typeof webhookJobs>;

beforeAll(async () => {
  local = await startLocalStripe({ port: 0, retryDelaysMs: [50, 100] });
  api = await startTestApi({ stripe: await local.client(), accessCacheTtlMs: 0 });
  http = client(api.url);
  queue = new JobQueue({
    name: queueNames.webhooks,
    definitions: webhookJobs,
    transport: bullmqTransport({
      redisUrl: requireEnv("REDIS_URL"),
      queue: queueNames.webhooks,
      prefix: uniqueId("stripe"),
    }),
  });
  const logger = createLogger({ level: "silent", service: "functions", version: "9.9.9" });
  const sync = new SubscriptionSync({
    refs: createRefs(api.firebase.firestore),
    events: new EventPublisher({ refs: webhookRefs(api.firebase.firestore), queue, logger }),
    logger,
    graceMs: 7 * 86_400_000,
  });
  const handler = new StripeWebhookHandler({
    stripe: await local.client(),
    webhookSecret: local.webhookSecret,
    sync,
    logger,
  });
  webhook = await serve(asFunction(stripeWebhookRequestHandler(handler, logger)));
  local.setWebhookUrl(webhook.url);
});

afterAll(async () => {
  await local.stop();
  await webhook.close();
  await queue.close();
  await api.close();
});

/** As the Functions runtime serves an `onRequest` handler: Express's request and response, every path and method. */
function asFunction(handler: (req: Request, res: Response) => Promise<void>) {
  const app = express();
  app.all("/{*path}", handler);
  return app;
}

const redirect = z.object({ url: z.string(), sessionId: z.string() });

async function billing(tenantId: string, token: string) {
  const response = await http.get(`/tenants/${tenantId}/billing`, { token });
  expect(response.status).toBe(200);
  return billingSummarySchema.parse(response.body);
}

describe("billing through the API", () => {
  it("checkout, paid on Stripe's page, puts the plan on the tenant: GET …/billing shows it", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const before = await billing(tenantId, owner.idToken);
    expect(before).toMatchObject({ plan: "free", status: "none", usage: { bots: { used: 0, limit: 1 } } });

    const started = await http.post(
      `/tenants/${tenantId}/billing/checkout`,
      { token: owner.idToken },
      {
        plan: "business",
        interval: "year",
      },
    );
    expect(started.status).toBe(200);
    const { url } = redirect.parse(started.body);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    const html = await page.text();
    const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
    if (!action) throw new Error(`no form on the checkout page: ${html}`);
    // The customer presses the button; Stripe redirects to our return URL and sends its events.
    const paid = await fetch(new URL(action, url), { method: "POST", redirect: "manual" });
    expect(paid.status).toBe(303);
    expect(paid.headers.get("location")).toMatch(/^http:\/\/127\.0\.0\.1:5000\/billing\?checkout=success/);

    await waitFor("the plan from Stripe's events", async () =>
      (await billing(tenantId, owner.idToken)).plan === "business" ? true : undefined,
    );
    const after = await billing(tenantId, owner.idToken);
    expect(after).toMatchObject({
      plan: "business",
      planName: "Business",
      status: "trialing",
      interval: "year",
      restricted: false,
      outboundRestricted: false,
      usage: { bots: { used: 0, limit: 10 }, campaignRecipients: { limit: 20_000 } },
    });
    expect(after.trialEnd).not.toBeNull();
    // Every event was answered 200 by the handler, once.
    await local.idle();
    const mine = local.events().filter((event) => event.payload.includes(tenantId));
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((event) => event.attempts.at(-1)?.status === 200)).toBe(true);

    // Subscribed: a second checkout is refused; the portal is where plans change.
    const again = await http.post(
      `/tenants/${tenantId}/billing/checkout`,
      { token: owner.idToken },
      { plan: "starter" },
    );
    expect(again.status).toBe(409);
    const portal = await http.post(`/tenants/${tenantId}/billing/portal`, { token: owner.idToken });
    expect(portal.status).toBe(200);
    expect(z.object({ url: z.string() }).parse(portal.body).url).toContain(new URL(local.url).host);
  });

  it("lets members and read keys see billing, and only signed-in owners buy or manage it", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const ownerAuth = { token: owner.idToken };
    const admin = await signUp();
    const viewer = await signUp();
    expect((await http.post(`/tenants/${tenantId}/members`, ownerAuth, { uid: admin.uid, role: "admin" })).status).toBe(
      201,
    );
    expect(
      (await http.post(`/tenants/${tenantId}/members`, ownerAuth, { uid: viewer.uid, role: "viewer" })).status,
    ).toBe(201);
    // Room for three keys (Free allows two); a plan set by hand, as support would.
    await api.firebase.firestore.doc(`tenants/${tenantId}`).update({ plan: "starter" });
    const keyOf = async (scopes: string[]) => {
      const response = await http.post(`/tenants/${tenantId}/api-keys`, ownerAuth, { name: scopes.join(","), scopes });
      return { apiKey: z.object({ key: z.string() }).parse(response.body).key };
    };
    const adminKey = await keyOf(["admin"]);
    const readKey = await keyOf(["read"]);
    const messagesKey = await keyOf(["messages"]);

    for (const reader of [{ token: admin.idToken }, { token: viewer.idToken }, adminKey, readKey]) {
      expect((await http.get(`/tenants/${tenantId}/billing`, reader)).status).toBe(200);
    }
    expect((await http.get(`/tenants/${tenantId}/billing`, messagesKey)).status).toBe(403);

    const checkout = { plan: "starter", interval: "month" };
    for (const caller of [{ token: admin.idToken }, { token: viewer.idToken }]) {
      const refused = await http.post(`/tenants/${tenantId}/billing/checkout`, caller, checkout);
      expect(refused.status).toBe(403);
      expect((await http.post(`/tenants/${tenantId}/billing/portal`, caller)).status).toBe(403);
    }
    for (const key of [adminKey, readKey]) {
      expect((await http.post(`/tenants/${tenantId}/billing/checkout`, key, checkout)).status).toBe(401);
    }
    // Nothing reached Stripe for this tenant.
    expect(local.customers({ tenantId })).toEqual([]);
  });

  it("lists the plans with their limits and prices for a signed-in user", async () => {
    const user = await signUp();
    const response = await http.get("/plans", { token: user.idToken });
    expect(response.status).toBe(200);
    const plans = z
      .object({
        items: z.array(z.object({ id: z.string(), trialDays: z.number(), limits: z.object({ maxBots: z.number() }) })),
      })
      .parse(response.body);
    expect(plans.items.map((plan) => plan.id)).toEqual(["free", "starter", "business", "enterprise"]);
    expect(plans.items.find((plan) => plan.id === "business")).toMatchObject({
      trialDays: 14,
      limits: { maxBots: 10 },
    });
    expect((await http.get("/plans", undefined)).status).toBe(401);
  });

  it("names the bad field of a checkout and creates nothing", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    for (const body of [{ plan: "free" }, { plan: "gold" }, { plan: "starter", interval: "weekly" }, {}]) {
      const response = await http.post(`/tenants/${tenantId}/billing/checkout`, { token: owner.idToken }, body);
      expect(response.status).toBe(400);
      const problem = problemSchema.parse(response.body);
      expect(problem.errors?.[0]?.path).toMatch(/^body\.(plan|interval)$/);
    }
    expect(local.customers({ tenantId })).toEqual([]);
    const portal = await http.post(`/tenants/${tenantId}/billing/portal`, { token: owner.idToken });
    expect(portal.status).toBe(409);
  });

  it("refuses API sends with 402 once a failed payment's grace period is over, and sends again once paid", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const auth = { token: owner.idToken };
    const bot = z
      .object({ id: z.string() })
      .parse((await http.post(`/tenants/${tenantId}/bots`, auth, { name: "b", transport: "simulator" })).body);
    expect((await http.post(`/tenants/${tenantId}/bots/${bot.id}/connect`, auth, { method: "qr" })).status).toBe(202);
    const send = () =>
      http.post(`/tenants/${tenantId}/bots/${bot.id}/messages`, auth, {
        to: "6281234567890@s.whatsapp.net",
        content: { type: "text", text: "hi" },
      });
    expect((await send()).status).toBe(202);

    // A grace period that ended a minute ago (as Stripe's failed payment and 7 days would leave it).
    const tenant = api.firebase.firestore.doc(`tenants/${tenantId}`);
    await tenant.update({
      "billing.status": "past_due",
      "billing.pastDueSince": new Date(Date.now() - 8 * 86_400_000),
      "billing.restrictFrom": new Date(Date.now() - 60_000),
    });
    const refused = await send();
    expect(refused.status).toBe(402);
    expect(problemSchema.parse(refused.body).code).toBe("payment_required");
    expect((await billing(tenantId, owner.idToken)).outboundRestricted).toBe(true);

    await tenant.update({ "billing.status": "active", "billing.pastDueSince": null, "billing.restrictFrom": null });
    expect((await send()).status).toBe(202);
  });
});

describe("the stripeWebhook function", () => {
  it("refuses an unsigned or wrongly signed POST with 400 and changes nothing", async () => {
    const payload = JSON.stringify({
      id: uniqueId("evt"),
      type: "customer.subscription.deleted",
      data: { object: {} },
    });
    const unsigned = await fetch(webhook.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: payload,
    });
    expect(unsigned.status).toBe(400);
    const forged = await fetch(webhook.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "stripe-signature": `t=${Math.floor(Date.now() / 1000)},v1=${"0".repeat(64)}`,
      },
      body: payload,
    });
    expect(forged.status).toBe(400);
    const id = z.object({ id: z.string() }).parse(JSON.parse(payload)).id;
    expect((await api.firebase.firestore.doc(stripeEventPath(id)).get()).exists).toBe(false);
    expect((await fetch(webhook.url)).status).toBe(405);
  });

  it("answers 503 without Stripe configured, so Stripe keeps the event", async () => {
    const logger = createLogger({ level: "silent", service: "functions", version: "9.9.9" });
    const unconfigured = await serve(asFunction(stripeWebhookRequestHandler(null, logger)));
    try {
      const response = await fetch(unconfigured.url, { method: "POST", body: "{}" });
      expect(response.status).toBe(503);
    } finally {
      await unconfigured.close();
    }
  });
});
