import { Timestamp } from "firebase-admin/firestore";
import { pino } from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { TenantAccess } from "../src/access/access-service.ts";
import { systemAuditContext } from "../src/audit/audit-log.ts";
import { BillingService } from "../src/billing/billing-service.ts";
import type { TenantBilling } from "../src/billing/schema.ts";
import { createStripeClient, type StripeClient } from "../src/billing/stripe-client.ts";
import { StripeWebhookHandler } from "../src/billing/stripe-webhook.ts";
import { type BillingEventSink, SubscriptionSync } from "../src/billing/subscription-sync.ts";
import { BotService } from "../src/bots/bot-service.ts";
import { CampaignService } from "../src/campaigns/campaign-service.ts";
import type { CampaignDoc } from "../src/campaigns/schema.ts";
import { type EventType, eventDocSchema } from "../src/events/schema.ts";
import { zodConverter } from "../src/firestore/converter.ts";
import { campaignPath, eventsCollectionPath, stripeEventPath } from "../src/firestore/paths.ts";
import { createRefs } from "../src/firestore/refs.ts";
import { bullmqTransport } from "../src/jobs/bullmq/index.ts";
import { JobQueue, webhookJobs } from "../src/jobs/index.ts";
import { TenantService } from "../src/tenants/tenant-service.ts";
import {
  type LocalStripe,
  manualClock,
  requireEnv,
  startLocalStripe,
  testFirebase,
  uniqueId,
} from "../src/testing/index.ts";
import { UsageService } from "../src/usage/usage-service.ts";
import { WebhookEndpointService } from "../src/webhooks/endpoint-service.ts";
import { EventPublisher } from "../src/webhooks/event-publisher.ts";
import { webhookRefs } from "../src/webhooks/webhook-refs.ts";

/**
 * Billing on real parts: the real Stripe SDK against the local Stripe (its events signed as Stripe
 * signs them), the Firestore emulator, and the webhook publisher on Redis. Events are held by the
 * local Stripe and handed to the handler by each test, so they can be replayed and shuffled.
 */

const WEBHOOK_SECRET = "whsec_billingtest0123456789";
const DAY = 86_400_000;
const firebase = testFirebase();
const refs = createRefs(firebase.firestore);
const logger = pino({ level: "silent" });
const clock = manualClock();
let local: LocalStripe;
let stripe: StripeClient;
let queue: JobQueue<typeof webhookJobs>;
let publisher: EventPublisher;

beforeAll(async () => {
  local = await startLocalStripe({ port: 0, deliver: "manual", webhookSecret: WEBHOOK_SECRET });
  stripe = await createStripeClient({ secretKey: "sk_test_billing", apiUrl: local.url, maxNetworkRetries: 0 });
  const name = uniqueId("webhooks");
  queue = new JobQueue({
    name,
    definitions: webhookJobs,
    transport: bullmqTransport({ redisUrl: requireEnv("REDIS_URL"), queue: name }),
  });
  publisher = new EventPublisher({ refs: webhookRefs(firebase.firestore), queue, logger });
});

afterAll(async () => {
  await local.stop();
  await queue.close();
  await firebase.close();
});

function syncWith(events: BillingEventSink = publisher): SubscriptionSync {
  return new SubscriptionSync({ refs, events, logger, graceMs: 7 * DAY, now: clock.now });
}

function handlerWith(sync: SubscriptionSync): StripeWebhookHandler {
  return new StripeWebhookHandler({ stripe, webhookSecret: WEBHOOK_SECRET, sync, logger, now: clock.now });
}

/** Stripe's own signature for a payload, made by the SDK's test helper. */
function sign(payload: string): Promise<string> {
  return stripe.webhooks.generateTestHeaderStringAsync({ payload, secret: WEBHOOK_SECRET });
}

interface Tenant {
  tenantId: string;
  access: TenantAccess;
}

async function newTenant(): Promise<Tenant> {
  const uid = uniqueId("owner");
  const { id } = await new TenantService(refs).create(
    { kind: "user", uid, email: `${uid}@example.com` },
    {
      name: `Billing ${uid}`,
    },
  );
  const access: TenantAccess = {
    tenantId: id,
    principal: { kind: "user", uid, email: null },
    role: "owner",
    plan: "free",
  };
  // Every billing event reaches one endpoint, so what was published can be read back.
  await new WebhookEndpointService(firebase.firestore, { allowPrivateTargets: true }).create(
    access,
    { url: "http://127.0.0.1:9/hook", events: ["*"] },
    systemAuditContext,
  );
  return { tenantId: id, access };
}

const billing = () => new BillingService({ refs, stripe, returnUrl: "http://127.0.0.1:5000/billing", now: clock.now });

/** Checkout, paid on the local Stripe's page: the subscription exists and its events wait in the local Stripe. */
async function subscribe(tenant: Tenant, plan: "starter" | "business" | "enterprise"): Promise<string> {
  const { sessionId } = await billing().startCheckout(tenant.access, { plan, interval: "month" }, systemAuditContext);
  return local.completeCheckout(sessionId).subscription.id;
}

/** The events the local Stripe holds for a subscription (or customer) since `from`, oldest first. */
function eventsSince(from: number) {
  return local.events().slice(from);
}

async function deliver(handler: StripeWebhookHandler, payloads: readonly string[]) {
  const results = [];
  for (const payload of payloads) {
    // Time passes between deliveries, as it does between Stripe's requests.
    clock.advance(1);
    results.push(await handler.handle(payload, await sign(payload)));
  }
  return results;
}

async function tenantState(tenantId: string): Promise<{ plan: string; billing: TenantBilling; sub: string | null }> {
  const tenant = (await refs.tenant(tenantId).get()).data();
  if (!tenant) throw new Error("no tenant");
  return { plan: tenant.plan, billing: tenant.billing, sub: tenant.stripeSubscriptionId };
}

/** The state that matters (syncedAt, the read time, differs run to run by design). */
function comparable(state: { plan: string; billing: TenantBilling; sub: string | null }) {
  const { syncedAt: _syncedAt, ...rest } = state.billing;
  return { plan: state.plan, sub: state.sub, billing: JSON.parse(JSON.stringify(rest)) };
}

async function publishedTypes(tenantId: string): Promise<EventType[]> {
  const events = await eventsOf(tenantId).orderBy("createdAt").get();
  return events.docs.map((doc) => doc.data().type);
}

function eventsOf(tenantId: string) {
  return firebase.firestore.collection(eventsCollectionPath(tenantId)).withConverter(zodConverter(eventDocSchema));
}

function shuffle<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

beforeEach(() => {
  clock.advance(1_000);
});

describe("the Stripe webhook", () => {
  it("applies checkout's events: the plan, the period and the customer are on the tenant", async () => {
    const tenant = await newTenant();
    const from = local.events().length;
    const subscriptionId = await subscribe(tenant, "starter");
    const events = eventsSince(from);
    expect(events.map((event) => event.type)).toEqual(
      expect.arrayContaining(["customer.subscription.created", "checkout.session.completed"]),
    );
    const results = await deliver(
      handlerWith(syncWith()),
      events.map((event) => event.payload),
    );
    expect(results.every((result) => result.status === 200)).toBe(true);
    const state = await tenantState(tenant.tenantId);
    expect(state.plan).toBe("starter");
    expect(state.sub).toBe(subscriptionId);
    expect(state.billing.status).toBe("trialing");
    expect(state.billing.interval).toBe("month");
    expect(state.billing.currentPeriodEnd).not.toBeNull();
    const summary = await billing().summary(tenant.tenantId);
    expect(summary).toMatchObject({ plan: "starter", status: "trialing", usage: { bots: { used: 0, limit: 3 } } });
    expect(await publishedTypes(tenant.tenantId)).toContain("billing.subscription_updated");
  });

  it("gives the same final state however often and in whatever order the events arrive", async () => {
    const tenant = await newTenant();
    const from = local.events().length;
    const subscriptionId = await subscribe(tenant, "business");
    local.failPayment(subscriptionId);
    local.pay(subscriptionId);
    local.renew(subscriptionId);
    local.cancelAtPeriodEnd(subscriptionId);
    const payloads = eventsSince(from).map((event) => event.payload);
    expect(payloads.length).toBeGreaterThanOrEqual(6);

    const handler = handlerWith(syncWith());
    await deliver(handler, payloads);
    const reference = comparable(await tenantState(tenant.tenantId));
    expect(reference.plan).toBe("business");
    expect(reference.billing.cancelAt).not.toBeNull();
    const recorded = await Promise.all(
      payloads.map(
        async (payload) => (await firebase.firestore.doc(stripeEventPath(JSON.parse(payload).id)).get()).exists,
      ),
    );
    expect(recorded.every(Boolean)).toBe(true);
    const published = (await publishedTypes(tenant.tenantId)).length;

    // Every event ten times more, shuffled: Stripe's at-least-once, any-order delivery.
    const replays = shuffle(
      payloads.flatMap((payload) => Array.from({ length: 10 }, () => payload)),
      7,
    );
    const results = await deliver(handler, replays);
    expect(results.every((result) => result.status === 200 && result.body.outcome === "replayed")).toBe(true);
    expect(comparable(await tenantState(tenant.tenantId))).toEqual(reference);
    expect((await publishedTypes(tenant.tenantId)).length).toBe(published);
  });

  it("reaches the same state from events delivered in any order the first time", async () => {
    const tenant = await newTenant();
    const from = local.events().length;
    const subscriptionId = await subscribe(tenant, "starter");
    local.failPayment(subscriptionId);
    local.pay(subscriptionId);
    const payloads = eventsSince(from).map((event) => event.payload);
    await deliver(handlerWith(syncWith()), shuffle(payloads, 3));
    const state = await tenantState(tenant.tenantId);
    // The subscription as Stripe has it now, whichever event came last.
    const now = await stripe.subscriptions.retrieve(subscriptionId);
    expect(state.billing.status).toBe(now.status);
    expect(state.billing.pastDueSince).toBeNull();
    expect(state.plan).toBe("starter");
  });

  it("never applies an older read of the subscription over a newer one (a slow, concurrent delivery)", async () => {
    const tenant = await newTenant();
    const from = local.events().length;
    const subscriptionId = await subscribe(tenant, "starter");
    const sync = syncWith();
    await deliver(
      handlerWith(sync),
      eventsSince(from).map((event) => event.payload),
    );
    const before = await stripe.subscriptions.retrieve(subscriptionId);
    const readBefore = clock.advance(1);
    local.failPayment(subscriptionId);
    const after = await stripe.subscriptions.retrieve(subscriptionId);
    const readAfter = clock.advance(1);
    const event = (id: string) => ({
      id,
      type: "customer.subscription.updated",
      created: Math.floor(readAfter / 1000),
    });

    expect(
      await sync.apply(event(uniqueId("evt")), { tenantId: tenant.tenantId, subscription: after, readAt: readAfter }),
    ).toBe("applied");
    // The read that started first commits last: recorded, and changes nothing.
    expect(
      await sync.apply(event(uniqueId("evt")), { tenantId: tenant.tenantId, subscription: before, readAt: readBefore }),
    ).toBe("stale");
    expect((await tenantState(tenant.tenantId)).billing.status).toBe("past_due");
  });

  it("refuses a bad or missing signature with 400 and writes nothing", async () => {
    const tenant = await newTenant();
    const from = local.events().length;
    await subscribe(tenant, "starter");
    const [first] = eventsSince(from);
    if (!first) throw new Error("no event");
    const handler = handlerWith(syncWith());
    const forged = await stripe.webhooks.generateTestHeaderStringAsync({
      payload: first.payload,
      secret: "whsec_someoneelse",
    });
    expect((await handler.handle(first.payload, forged)).status).toBe(400);
    expect((await handler.handle(first.payload, undefined)).status).toBe(400);
    // A body changed after signing does not verify either.
    const tampered = first.payload.replace(first.id, `${first.id}x`);
    expect(tampered).not.toBe(first.payload);
    expect((await handler.handle(tampered, await sign(first.payload))).status).toBe(400);
    expect((await firebase.firestore.doc(stripeEventPath(first.id)).get()).exists).toBe(false);
    expect((await tenantState(tenant.tenantId)).plan).toBe("free");
  });

  it("answers 200 to event types it does not act on, without recording them", async () => {
    const payload = JSON.stringify({
      id: uniqueId("evt"),
      object: "event",
      type: "charge.refunded",
      created: Math.floor(Date.now() / 1000),
      data: { object: { id: "ch_1", object: "charge" } },
      api_version: "2026-11-18.endive",
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
    });
    const result = await handlerWith(syncWith()).handle(payload, await sign(payload));
    expect(result).toEqual({ status: 200, body: { received: true, outcome: "unhandled" } });
  });

  it("records an event only with its effect: a write that fails leaves neither, and the redelivery applies it", async () => {
    const tenant = await newTenant();
    const from = local.events().length;
    await subscribe(tenant, "starter");
    const created = eventsSince(from).find((event) => event.type === "customer.subscription.created");
    if (!created) throw new Error("no customer.subscription.created");
    const failingWrites: BillingEventSink = {
      stage: async (tx, tenantId, events) => {
        await publisher.stage(tx, tenantId, events);
        throw new Error("the transaction's write failed");
      },
      dispatchStaged: (tenantId, ids) => publisher.dispatchStaged(tenantId, ids),
    };
    const failed = await handlerWith(syncWith(failingWrites)).handle(created.payload, await sign(created.payload));
    expect(failed.status).toBeGreaterThanOrEqual(500);
    expect((await firebase.firestore.doc(stripeEventPath(created.id)).get()).exists).toBe(false);
    expect((await tenantState(tenant.tenantId)).plan).toBe("free");
    expect(await publishedTypes(tenant.tenantId)).toEqual([]);

    const retried = await handlerWith(syncWith()).handle(created.payload, await sign(created.payload));
    expect(retried).toMatchObject({ status: 200, body: { outcome: "applied" } });
    expect((await tenantState(tenant.tenantId)).plan).toBe("starter");
  });

  it("answers 503 when Stripe cannot be reached to re-read the subscription, so Stripe retries", async () => {
    const tenant = await newTenant();
    const from = local.events().length;
    await subscribe(tenant, "starter");
    const [event] = eventsSince(from);
    if (!event) throw new Error("no event");
    const unreachable = await createStripeClient({
      secretKey: "sk_test_x",
      apiUrl: "http://127.0.0.1:9",
      maxNetworkRetries: 0,
    });
    const handler = new StripeWebhookHandler({
      stripe: unreachable,
      webhookSecret: WEBHOOK_SECRET,
      sync: syncWith(),
      logger,
    });
    expect((await handler.handle(event.payload, await sign(event.payload))).status).toBe(503);
    expect((await firebase.firestore.doc(stripeEventPath(event.id)).get()).exists).toBe(false);
  });
});

describe("what a plan change does", () => {
  it("stops the bots over a smaller plan, newest first, keeping the one the tenant marked", async () => {
    const tenant = await newTenant();
    const from = local.events().length;
    const subscriptionId = await subscribe(tenant, "business");
    const handler = handlerWith(syncWith());
    await deliver(
      handler,
      eventsSince(from).map((event) => event.payload),
    );
    expect((await tenantState(tenant.tenantId)).plan).toBe("business");

    const bots = new BotService(refs, { allowSimulator: true });
    const access = { ...tenant.access, plan: "business" as const };
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const { id } = await bots.create(access, { name: `bot ${i}`, transport: "simulator" });
      await bots.connect(access, id, { method: "qr" });
      ids.push(id);
    }
    const keep = ids[4] ?? "";
    await bots.update(tenant.tenantId, keep, { keepOnDowngrade: true });
    const before = local.events().length;
    local.cancelNow(subscriptionId);
    await deliver(
      handler,
      eventsSince(before).map((event) => event.payload),
    );

    const state = await tenantState(tenant.tenantId);
    expect(state.plan).toBe("free");
    expect(state.billing.status).toBe("canceled");
    const after = await Promise.all(ids.map(async (id) => (await refs.bot(tenant.tenantId, id).get()).data()));
    const running = ids.filter((_, i) => after[i]?.desiredState === "running");
    expect(running).toEqual([keep]);
    for (const [i, bot] of after.entries()) {
      if (ids[i] === keep) continue;
      expect(bot?.stoppedFor).toMatchObject({ reason: "plan_limit", plan: "free" });
      const outbox = await refs
        .outbox(tenant.tenantId, ids[i] ?? "")
        .where("kind", "==", "disconnect")
        .get();
      expect(outbox.size).toBe(1);
    }
    // Starting another is refused while the plan has no room; the kept one still runs.
    await expect(bots.connect({ ...access, plan: "free" }, ids[0] ?? "", { method: "qr" })).rejects.toMatchObject({
      code: "plan_limit",
    });
    const updated = await eventsOf(tenant.tenantId).where("type", "==", "billing.subscription_updated").get();
    const stopped = updated.docs.map((doc) => JSON.parse(doc.data().body).data.stoppedBotIds as string[]);
    expect(stopped.find((list) => list.length === 9)?.sort()).toEqual(ids.filter((id) => id !== keep).sort());
  });

  it("pauses the campaigns a smaller plan does not allow, with the reason, and refuses to resume them", async () => {
    const tenant = await newTenant();
    const from = local.events().length;
    const subscriptionId = await subscribe(tenant, "business");
    const handler = handlerWith(syncWith());
    await deliver(
      handler,
      eventsSince(from).map((event) => event.payload),
    );
    // Two running campaigns: one of 5,000 people (too many for Starter's 1,000), one of 500.
    const at = Timestamp.now();
    const campaign = (addressed: number): CampaignDoc => ({
      name: `to ${addressed}`,
      botIds: ["bot-1"],
      message: null,
      templateId: "tpl-1",
      audience: { kind: "tags", tags: ["all"], match: "any" },
      startAt: null,
      timezone: "UTC",
      pacing: { profile: "standard", overrides: {} },
      status: "running",
      statusReason: null,
      planning: { state: "done", cursor: null, recipients: addressed, addressed },
      createdBy: "user:owner",
      createdAt: at,
      updatedAt: at,
      startedAt: at,
      endedAt: null,
    });
    await firebase.firestore.doc(campaignPath(tenant.tenantId, "big")).set(campaign(5_000));
    await firebase.firestore.doc(campaignPath(tenant.tenantId, "small")).set(campaign(500));

    // Downgraded to Starter in the portal: Stripe switches the price.
    const mark = local.events().length;
    const subscription = await stripe.subscriptions.retrieve(subscriptionId);
    const starter = (await stripe.prices.list({ lookup_keys: ["whatsdex_starter_month"] })).data[0]?.id ?? "";
    await stripe.subscriptions.update(subscriptionId, {
      items: [{ id: subscription.items.data[0]?.id ?? "", price: starter }],
    });
    await deliver(
      handler,
      eventsSince(mark).map((event) => event.payload),
    );
    expect((await tenantState(tenant.tenantId)).plan).toBe("starter");

    const campaigns = new CampaignService(refs);
    const big = await campaigns.get(tenant.tenantId, "big");
    expect(big.campaign).toMatchObject({ status: "paused", statusReason: expect.stringContaining("1000 recipients") });
    expect((await campaigns.get(tenant.tenantId, "small")).campaign.status).toBe("running");
    const updated = await eventsOf(tenant.tenantId).where("type", "==", "billing.subscription_updated").get();
    const paused = updated.docs.map((doc) => JSON.parse(doc.data().body).data.pausedCampaignIds as string[]);
    expect(paused).toContainEqual(["big"]);
    await expect(
      campaigns.resume({ ...tenant.access, plan: "starter" }, "big", systemAuditContext),
    ).rejects.toMatchObject({ code: "plan_limit" });
  });

  it("keeps sending through the grace period after a failed payment, then refuses sends until paid", async () => {
    const tenant = await newTenant();
    const from = local.events().length;
    const subscriptionId = await subscribe(tenant, "starter");
    const sync = syncWith();
    const handler = handlerWith(sync);
    await deliver(
      handler,
      eventsSince(from).map((event) => event.payload),
    );
    const usage = new UsageService(firebase.firestore, { now: clock.now });
    const send = () => firebase.firestore.runTransaction((tx) => usage.takeMessageIn(tx, tenant.tenantId));

    let mark = local.events().length;
    local.failPayment(subscriptionId);
    await deliver(
      handler,
      eventsSince(mark).map((event) => event.payload),
    );
    let state = await tenantState(tenant.tenantId);
    expect(state.billing.status).toBe("past_due");
    expect(state.plan).toBe("starter");
    expect(state.billing.restricted).toBe(false);
    await expect(send()).resolves.toBeUndefined();
    expect(await publishedTypes(tenant.tenantId)).toContain("billing.payment_failed");

    // Past the grace period: sends are refused at once, and the sweep announces it once.
    clock.advance(7 * DAY + 1_000);
    await expect(send()).rejects.toMatchObject({ code: "payment_required" });
    expect(await sync.restrictDue()).toBeGreaterThanOrEqual(1);
    state = await tenantState(tenant.tenantId);
    expect(state.billing.restricted).toBe(true);
    expect((await publishedTypes(tenant.tenantId)).filter((type) => type === "billing.restricted")).toHaveLength(1);
    expect(
      await new BillingService({ refs, stripe, returnUrl: "http://x.test", now: clock.now }).summary(tenant.tenantId),
    ).toMatchObject({
      outboundRestricted: true,
      restricted: true,
    });

    mark = local.events().length;
    local.pay(subscriptionId);
    await deliver(
      handler,
      eventsSince(mark).map((event) => event.payload),
    );
    state = await tenantState(tenant.tenantId);
    expect(state.billing).toMatchObject({
      status: "active",
      restricted: false,
      restrictFrom: null,
      pastDueSince: null,
    });
    await expect(send()).resolves.toBeUndefined();
    expect(await publishedTypes(tenant.tenantId)).toContain("billing.restored");
  });

  it("never lets a late event of an old subscription undo a newer one", async () => {
    const tenant = await newTenant();
    let mark = local.events().length;
    const first = await subscribe(tenant, "starter");
    const firstEvents = eventsSince(mark).map((event) => event.payload);
    const handler = handlerWith(syncWith());
    await deliver(handler, firstEvents);
    mark = local.events().length;
    local.cancelNow(first);
    const cancelled = eventsSince(mark).map((event) => event.payload);
    await deliver(handler, cancelled);
    expect((await tenantState(tenant.tenantId)).plan).toBe("free");

    mark = local.events().length;
    const second = await subscribe(tenant, "business");
    await deliver(
      handler,
      eventsSince(mark).map((event) => event.payload),
    );
    expect(await tenantState(tenant.tenantId)).toMatchObject({ plan: "business", sub: second });
    // The first subscription's deletion, delivered again late under a new event id, changes nothing.
    const late = JSON.parse(cancelled.find((p) => JSON.parse(p).type === "customer.subscription.deleted") ?? "{}");
    const payload = JSON.stringify({ ...late, id: uniqueId("evt") });
    expect((await handler.handle(payload, await sign(payload))).body.outcome).toBe("ignored");
    expect(await tenantState(tenant.tenantId)).toMatchObject({ plan: "business", sub: second });
  });
});

describe("closing the account", () => {
  it("cancels the recorded subscription and any other live one of the customer, and no other tenant's", async () => {
    const tenant = await newTenant();
    const from = local.events().length;
    const recorded = await subscribe(tenant, "starter");
    await deliver(
      handlerWith(syncWith()),
      eventsSince(from).map((event) => event.payload),
    );
    // A second subscription paid a moment before closing (a checkout opened in another tab before the
    // first was paid): its events have not arrived, so the tenant does not know it.
    const service = billing();
    const customer = (await refs.tenant(tenant.tenantId).get()).data()?.stripeCustomerId ?? "";
    const price = (await stripe.prices.list({ lookup_keys: ["whatsdex_business_month"] })).data[0]?.id ?? "";
    const { id: sessionId } = await stripe.checkout.sessions.create({
      mode: "subscription",
      customer,
      success_url: "http://x.test/ok",
      line_items: [{ price, quantity: 1 }],
      subscription_data: { metadata: { tenantId: tenant.tenantId } },
    });
    const stray = local.completeCheckout(sessionId).subscription.id;
    const customerId = customer;

    await service.cancelAll(tenant.tenantId, { customerId, subscriptionId: recorded });
    for (const id of [recorded, stray]) expect((await stripe.subscriptions.retrieve(id)).status).toBe("canceled");
    // Again (a retried closing step): nothing left to cancel, and no error.
    await expect(service.cancelAll(tenant.tenantId, { customerId, subscriptionId: recorded })).resolves.toBeUndefined();

    // Another tenant's subscription on the same customer id is never touched.
    const other = await newTenant();
    const otherSub = await subscribe(other, "starter");
    const otherCustomer = (await refs.tenant(other.tenantId).get()).data()?.stripeCustomerId ?? null;
    await service.cancelAll(tenant.tenantId, { customerId: otherCustomer, subscriptionId: null });
    expect((await stripe.subscriptions.retrieve(otherSub)).status).not.toBe("canceled");
  });
});

describe("checkout and the portal", () => {
  it("creates one Stripe customer per tenant, however many checkouts", async () => {
    const tenant = await newTenant();
    const service = billing();
    const [a, b] = await Promise.all([
      service.startCheckout(tenant.access, { plan: "starter", interval: "month" }, systemAuditContext),
      service.startCheckout(tenant.access, { plan: "business", interval: "year" }, systemAuditContext),
    ]);
    expect(a.url).not.toBe(b.url);
    const tenantDoc = (await refs.tenant(tenant.tenantId).get()).data();
    expect(local.customers({ tenantId: tenant.tenantId }).map((customer) => customer.id)).toEqual([
      tenantDoc?.stripeCustomerId,
    ]);
    const portal = await service.openPortal(tenant.access);
    expect(portal.url).toMatch(/^http/);
  });

  it("sends a subscribed tenant to the portal instead of a second subscription", async () => {
    const tenant = await newTenant();
    const from = local.events().length;
    await subscribe(tenant, "starter");
    await deliver(
      handlerWith(syncWith()),
      eventsSince(from).map((event) => event.payload),
    );
    await expect(
      billing().startCheckout(tenant.access, { plan: "business", interval: "month" }, systemAuditContext),
    ).rejects.toMatchObject({ code: "conflict" });
  });

  it("refuses the portal before any subscription, and everything when Stripe is not configured", async () => {
    const tenant = await newTenant();
    await expect(billing().openPortal(tenant.access)).rejects.toMatchObject({ code: "conflict" });
    const unconfigured = new BillingService({ refs, stripe: null, returnUrl: "http://x.test" });
    await expect(
      unconfigured.startCheckout(tenant.access, { plan: "starter", interval: "month" }, systemAuditContext),
    ).rejects.toMatchObject({ code: "unavailable" });
    expect((await unconfigured.summary(tenant.tenantId)).plan).toBe("free");
  });
});
