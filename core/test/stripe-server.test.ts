import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Stripe from "stripe";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { priceLookupKey } from "../src/billing/schema.ts";
import { createStripeClient, STRIPE_API_VERSION, type StripeClient } from "../src/billing/stripe-client.ts";
import { type LocalStripe, manualClock, startLocalStripe, uniqueId, waitFor } from "../src/testing/index.ts";

/**
 * The local Stripe driven by the real `stripe` SDK (built as production builds it, pointed at the
 * server), its hosted pages driven over HTTP as a browser would, and its webhook events received
 * by a server here that verifies each one with the SDK's `constructEventAsync`.
 */

interface Received {
  event: Stripe.Event;
  body: string;
}

/** A webhook endpoint: verifies every request, answers from a script (200 once the script is used up). */
class Receiver {
  readonly received: Received[] = [];
  readonly rejected: string[] = [];
  readonly replies: number[] = [];
  private server: Server | undefined;
  url = "";
  secret = "";

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        const status = this.replies.shift() ?? 200;
        Stripe.webhooks.constructEventAsync(body, req.headers["stripe-signature"] ?? "", this.secret).then(
          (event) => {
            if (status >= 200 && status < 300) this.received.push({ event, body });
            res.writeHead(status).end();
          },
          (error: unknown) => {
            this.rejected.push(error instanceof Error ? error.message : String(error));
            res.writeHead(400).end();
          },
        );
      });
    });
    this.server.listen(0, "127.0.0.1");
    await once(this.server, "listening");
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/stripe`;
  }

  types(subscription?: string): string[] {
    return this.received
      .filter((r) => !subscription || subscriptionOfEvent(r.event) === subscription)
      .map((r) => r.event.type);
  }

  async waitForCount(count: number): Promise<Received[]> {
    return waitFor(`${count} webhook events (have ${this.received.length})`, async () =>
      this.received.length >= count ? this.received.slice(0, count) : undefined,
    );
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function subscriptionOfEvent(event: Stripe.Event): string | null {
  const object: unknown = event.data.object;
  if (!object || typeof object !== "object") return null;
  if ("object" in object && object.object === "subscription" && "id" in object) return String(object.id);
  if ("subscription" in object && typeof object.subscription === "string") return object.subscription;
  if ("parent" in object) {
    const parent = (object as Stripe.Invoice).parent;
    const sub = parent?.subscription_details?.subscription;
    return typeof sub === "string" ? sub : null;
  }
  return null;
}

const receiver = new Receiver();
let local: LocalStripe;
let stripe: StripeClient;
const clock = manualClock(Date.UTC(2026, 0, 31, 12));

beforeAll(async () => {
  await receiver.start();
  local = await startLocalStripe({ now: clock.now, retryDelaysMs: [20, 40], deliveryTimeoutMs: 2_000 });
  local.setWebhookUrl(receiver.url);
  receiver.secret = local.webhookSecret;
  stripe = await createStripeClient({ secretKey: "sk_test_123", apiUrl: local.url, maxNetworkRetries: 0 });
});

afterAll(async () => {
  await local?.stop();
  await receiver.stop();
});

afterEach(() => {
  expect(receiver.rejected).toEqual([]);
});

async function priceId(plan: "starter" | "business" | "enterprise", interval: "month" | "year"): Promise<string> {
  const prices = await stripe.prices.list({ lookup_keys: [priceLookupKey(plan, interval)], active: true });
  const price = prices.data[0];
  if (!price) throw new Error(`no price for ${plan} ${interval}`);
  return price.id;
}

/** A tenant's customer and a subscription made through the hosted checkout page, as a buyer would. */
async function subscribe(
  plan: "starter" | "business" | "enterprise",
  interval: "month" | "year",
  trialDays?: number,
): Promise<{ tenantId: string; customer: string; subscription: string; session: string }> {
  const tenantId = uniqueId("tenant");
  const customer = await stripe.customers.create({ name: tenantId, metadata: { tenantId } });
  const session = await stripe.checkout.sessions.create({
    mode: "subscription",
    customer: customer.id,
    line_items: [{ price: await priceId(plan, interval), quantity: 1 }],
    success_url: "http://app.test/billing?session={CHECKOUT_SESSION_ID}",
    cancel_url: "http://app.test/billing?canceled=1",
    client_reference_id: tenantId,
    subscription_data: { metadata: { tenantId }, ...(trialDays ? { trial_period_days: trialDays } : {}) },
  });
  const pay = await fetch(`${local.url}/checkout/${session.id}/pay`, { method: "POST", redirect: "manual" });
  expect(pay.status).toBe(303);
  const done = await stripe.checkout.sessions.retrieve(session.id);
  if (typeof done.subscription !== "string") throw new Error("checkout made no subscription");
  await local.idle();
  return { tenantId, customer: customer.id, subscription: done.subscription, session: session.id };
}

describe("the local Stripe's API, through the real SDK", () => {
  it("finds prices by lookup key, with their product expanded", async () => {
    const prices = await stripe.prices.list({
      lookup_keys: [priceLookupKey("starter", "month"), priceLookupKey("business", "year")],
      active: true,
      expand: ["data.product"],
    });
    const byKey = new Map(prices.data.map((p) => [p.lookup_key, p]));
    expect(byKey.get("whatsdex_starter_month")?.unit_amount).toBe(2_900);
    expect(byKey.get("whatsdex_starter_month")?.recurring?.interval).toBe("month");
    expect(byKey.get("whatsdex_business_year")?.unit_amount).toBe(99_000);
    const product = byKey.get("whatsdex_business_year")?.product;
    expect(typeof product === "object" && product && "name" in product ? product.name : null).toBe("Business");
    expect(prices.data).toHaveLength(2);
  });

  it("creates a customer once per Idempotency-Key, and refuses the key with other parameters", async () => {
    const key = uniqueId("customer");
    const first = await stripe.customers.create({ name: "Acme", metadata: { tenantId: key } }, { idempotencyKey: key });
    const again = await stripe.customers.create({ name: "Acme", metadata: { tenantId: key } }, { idempotencyKey: key });
    expect(again.id).toBe(first.id);
    expect(local.customers({ tenantId: key })).toHaveLength(1);
    await expect(
      stripe.customers.create({ name: "Other", metadata: { tenantId: key } }, { idempotencyKey: key }),
    ).rejects.toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(await stripe.customers.retrieve(first.id)).toMatchObject({ name: "Acme", metadata: { tenantId: key } });
  });

  it("answers a bad API key with StripeAuthenticationError, an unknown id with resource_missing", async () => {
    const wrong = await createStripeClient({ secretKey: "sk_live_nope", apiUrl: local.url, maxNetworkRetries: 0 });
    await expect(wrong.customers.create({ name: "x" })).rejects.toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    const missing = await stripe.subscriptions.retrieve("sub_doesnotexist").catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(missing).toMatchObject({ code: "resource_missing", statusCode: 404, param: "id" });
  });

  it("refuses unknown and missing parameters, naming them, and changes nothing", async () => {
    const before = local.customers().length;
    const unknown = await stripe
      .rawRequest("POST", "/v1/customers", { name: "x", nickname: "y" })
      .catch((error: unknown) => error);
    expect(unknown).toMatchObject({ code: "parameter_unknown", param: "nickname" });
    const customer = await stripe.customers.create({ name: "Buyer" });
    const missing = await stripe.checkout.sessions
      .create({ mode: "subscription", customer: customer.id, success_url: "http://app.test/ok" })
      .catch((error: unknown) => error);
    expect(missing).toMatchObject({ code: "parameter_missing", param: "line_items" });
    const badPrice = await stripe.checkout.sessions
      .create({
        mode: "subscription",
        customer: customer.id,
        success_url: "http://app.test/ok",
        line_items: [{ price: "price_nope", quantity: 1 }],
      })
      .catch((error: unknown) => error);
    expect(badPrice).toMatchObject({ code: "resource_missing", param: "line_items[0][price]" });
    expect(local.customers().length).toBe(before + 1);
  });
});

describe("customers", () => {
  it("updates a customer, and deleting one cancels its subscriptions and leaves a deleted stub", async () => {
    const { customer, subscription } = await subscribe("starter", "month");
    const updated = await stripe.customers.update(customer, { email: "billing@acme.test", metadata: { note: "vip" } });
    expect(updated.email).toBe("billing@acme.test");
    expect(updated.metadata).toMatchObject({ note: "vip" });
    expect(await stripe.customers.del(customer)).toEqual({ id: customer, object: "customer", deleted: true });
    expect(await stripe.customers.retrieve(customer)).toMatchObject({ id: customer, deleted: true });
    expect((await stripe.subscriptions.retrieve(subscription)).status).toBe("canceled");
    await expect(stripe.customers.del(customer)).rejects.toMatchObject({ code: "resource_missing" });
    await expect(stripe.billingPortal.sessions.create({ customer })).rejects.toMatchObject({
      code: "resource_missing",
      param: "customer",
    });
    await local.idle();
    expect(receiver.types(subscription).at(-1)).toBe("customer.subscription.deleted");
  });

  it("refuses another API version, and an unknown endpoint", async () => {
    const older = new Stripe("sk_test_123", {
      apiVersion: "2025-03-31.basil" as Stripe.LatestApiVersion,
      host: "127.0.0.1",
      port: new URL(local.url).port,
      protocol: "http",
      maxNetworkRetries: 0,
    });
    await expect(older.customers.create({ name: "x" })).rejects.toThrow(/speaks API version 2026-11-18.endive only/);
    await expect(stripe.rawRequest("GET", "/v1/charges", {})).rejects.toThrow(/Unrecognized request URL/);
  });
});

describe("checkout", () => {
  it("shows the plan on the checkout page; Pay subscribes, redirects, and sends the events in Stripe's order", async () => {
    const tenantId = uniqueId("tenant");
    const customer = await stripe.customers.create({ name: "Acme", email: "owner@acme.test", metadata: { tenantId } });
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      customer: customer.id,
      line_items: [{ price: await priceId("business", "month"), quantity: 1 }],
      success_url: "http://app.test/billing?session={CHECKOUT_SESSION_ID}",
      cancel_url: "http://app.test/billing?canceled=1",
      client_reference_id: tenantId,
      metadata: { tenantId },
      subscription_data: { metadata: { tenantId } },
      allow_promotion_codes: true,
    });
    expect(session.status).toBe("open");
    expect(session.url).toBe(`${local.url}/checkout/${session.id}`);

    const page = await fetch(session.url ?? "");
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain("Business, monthly");
    expect(html).toContain("$99.00 per month");
    expect(html).toContain(`<form method="post" action="/checkout/${session.id}/pay">`);
    expect(html).toContain('<button type="submit">Pay</button>');
    expect(html).toContain('href="http://app.test/billing?canceled=1"');

    const paid = await fetch(`${local.url}/checkout/${session.id}/pay`, { method: "POST", redirect: "manual" });
    expect(paid.status).toBe(303);
    expect(paid.headers.get("location")).toBe(`http://app.test/billing?session=${session.id}`);
    // A second click pays nothing twice.
    const again = await fetch(`${local.url}/checkout/${session.id}/pay`, { method: "POST", redirect: "manual" });
    expect(again.status).toBe(303);

    const done = await stripe.checkout.sessions.retrieve(session.id, { expand: ["subscription"] });
    expect(done).toMatchObject({
      status: "complete",
      payment_status: "paid",
      client_reference_id: tenantId,
      url: null,
    });
    const subscription = done.subscription;
    if (!subscription || typeof subscription === "string") throw new Error("subscription not expanded");
    expect(subscription.status).toBe("active");
    expect(subscription.metadata).toEqual({ tenantId });
    const item = subscription.items.data[0];
    expect(item?.price.lookup_key).toBe("whatsdex_business_month");
    expect(item?.current_period_start).toBe(clock.now() / 1000);
    // 31 January + a month is the last day of February.
    expect(item?.current_period_end).toBe(Date.UTC(2026, 1, 28, 12) / 1000);

    const invoice = await stripe.invoices.retrieve(String(subscription.latest_invoice));
    expect(invoice).toMatchObject({ status: "paid", amount_paid: 9_900, billing_reason: "subscription_create" });
    expect(invoice.parent?.subscription_details?.subscription).toBe(subscription.id);

    await local.idle();
    expect(receiver.types(subscription.id)).toEqual([
      "customer.subscription.created",
      "invoice.paid",
      "checkout.session.completed",
    ]);
    const events = receiver.received.filter((r) => subscriptionOfEvent(r.event) === subscription.id);
    for (const { event } of events) {
      expect(event).toMatchObject({ object: "event", api_version: STRIPE_API_VERSION, livemode: false });
      expect(event.id).toMatch(/^evt_/);
    }
    const completed = events[2]?.event.data.object as Stripe.Checkout.Session;
    expect(completed).toMatchObject({ id: session.id, status: "complete", subscription: subscription.id });
    expect(
      local
        .events()
        .filter((e) => e.orderKey === subscription.id)
        .every((e) => e.state === "delivered"),
    ).toBe(true);
  });

  it("escapes what the page shows, and refuses a success_url that is not http(s)", async () => {
    const customer = await stripe.customers.create({ email: '"><script>alert(1)</script>@x.test' });
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      customer: customer.id,
      line_items: [{ price: await priceId("starter", "month"), quantity: 1 }],
      success_url: "http://app.test/ok",
      cancel_url: 'http://app.test/"onmouseover="alert(1)',
    });
    const html = await (await fetch(session.url ?? "")).text();
    expect(html).not.toContain("<script>");
    expect(html).toContain("&quot;&gt;&lt;script&gt;");
    expect(html).not.toContain('"onmouseover="');
    await expect(
      stripe.checkout.sessions.create({
        mode: "subscription",
        customer: customer.id,
        line_items: [{ price: await priceId("starter", "month"), quantity: 1 }],
        success_url: "javascript:alert(1)",
      }),
    ).rejects.toMatchObject({ param: "success_url" });
  });

  it("starts a trial when asked: trialing until trial_end, nothing billed yet", async () => {
    const { subscription } = await subscribe("starter", "month", 14);
    const sub = await stripe.subscriptions.retrieve(subscription);
    expect(sub.status).toBe("trialing");
    expect(sub.trial_end).toBe(clock.now() / 1000 + 14 * 86_400);
    expect(sub.items.data[0]?.current_period_end).toBe(sub.trial_end);
    expect(sub.latest_invoice).toBeNull();
    expect(receiver.types(subscription)).toEqual(["customer.subscription.created", "checkout.session.completed"]);
  });
});

describe("the customer portal", () => {
  it("switches the plan, schedules a cancellation and takes it back, each an updated event", async () => {
    const { customer, subscription } = await subscribe("starter", "month");
    const portal = await stripe.billingPortal.sessions.create({ customer, return_url: "http://app.test/billing" });
    expect(portal.url).toBe(`${local.url}/portal/${portal.id}`);
    const html = await (await fetch(portal.url)).text();
    expect(html).toContain("Starter, monthly");
    expect(html).toContain("Switch to Business, monthly ($99.00/month)");
    expect(html).toContain('href="http://app.test/billing"');

    const business = await priceId("business", "month");
    const post = (verb: string, fields: Record<string, string>) =>
      fetch(`${local.url}/portal/${portal.id}/${verb}`, {
        method: "POST",
        body: new URLSearchParams({ subscription, ...fields }),
        redirect: "manual",
      });
    expect((await post("switch", { price: business })).status).toBe(303);
    let sub = await stripe.subscriptions.retrieve(subscription);
    expect(sub.items.data[0]?.price.lookup_key).toBe("whatsdex_business_month");

    expect((await post("cancel", {})).status).toBe(303);
    sub = await stripe.subscriptions.retrieve(subscription);
    expect(sub.cancel_at_period_end).toBe(true);
    expect(sub.cancel_at).toBe(sub.items.data[0]?.current_period_end);
    expect(await (await fetch(portal.url)).text()).toContain("Don&#39;t cancel");

    expect((await post("renew", {})).status).toBe(303);
    sub = await stripe.subscriptions.retrieve(subscription);
    expect(sub).toMatchObject({ cancel_at_period_end: false, cancel_at: null });

    await local.idle();
    const updates = receiver.received
      .filter((r) => r.event.type === "customer.subscription.updated" && subscriptionOfEvent(r.event) === subscription)
      .map((r) => r.event.data);
    expect(updates).toHaveLength(3);
    const switched = updates[0]?.previous_attributes as Partial<Stripe.Subscription> | undefined;
    expect(switched?.items?.data[0]?.price.lookup_key).toBe("whatsdex_starter_month");
    expect(updates[1]?.previous_attributes).toMatchObject({ cancel_at_period_end: false, cancel_at: null });
    expect(updates[2]?.previous_attributes).toMatchObject({ cancel_at_period_end: true });
  });

  it("refuses to act on another customer's subscription", async () => {
    const mine = await subscribe("starter", "month");
    const theirs = await subscribe("starter", "month");
    const portal = await stripe.billingPortal.sessions.create({ customer: mine.customer });
    const response = await fetch(`${local.url}/portal/${portal.id}/cancel`, {
      method: "POST",
      body: new URLSearchParams({ subscription: theirs.subscription }),
      redirect: "manual",
    });
    expect(response.status).toBe(403);
    expect((await stripe.subscriptions.retrieve(theirs.subscription)).cancel_at_period_end).toBe(false);
  });
});

describe("subscriptions through the API", () => {
  it("updates the plan by item, cancels now, and a second cancel is resource_missing", async () => {
    const { subscription } = await subscribe("starter", "month");
    const sub = await stripe.subscriptions.retrieve(subscription);
    const itemId = sub.items.data[0]?.id ?? "";
    const yearly = await stripe.subscriptions.update(subscription, {
      items: [{ id: itemId, price: await priceId("business", "year") }],
      proration_behavior: "create_prorations",
      metadata: { note: "upgraded" },
    });
    expect(yearly.items.data[0]?.price.lookup_key).toBe("whatsdex_business_year");
    expect(yearly.metadata).toMatchObject({ note: "upgraded" });
    const badItem = await stripe.subscriptions
      .update(subscription, { items: [{ id: "si_nope", price: await priceId("starter", "month") }] })
      .catch((error: unknown) => error);
    expect(badItem).toMatchObject({ code: "resource_missing", param: "items[0][id]" });

    const key = `close-${subscription}`;
    const canceled = await stripe.subscriptions.cancel(subscription, {}, { idempotencyKey: key });
    expect(canceled.status).toBe("canceled");
    // Retried with its key (a crash after Stripe answered), the cancel answers the same.
    expect((await stripe.subscriptions.cancel(subscription, {}, { idempotencyKey: key })).id).toBe(subscription);
    expect(canceled.ended_at).not.toBeNull();
    expect((await stripe.subscriptions.retrieve(subscription)).status).toBe("canceled");
    await expect(stripe.subscriptions.cancel(subscription)).rejects.toMatchObject({ code: "resource_missing" });
    await expect(stripe.subscriptions.update(subscription, { cancel_at_period_end: true })).rejects.toBeInstanceOf(
      Stripe.errors.StripeInvalidRequestError,
    );
    const listed = await stripe.subscriptions.list({ customer: canceled.customer as string, status: "all" });
    expect(listed.data.map((s) => s.id)).toEqual([subscription]);
    expect((await stripe.subscriptions.list({ customer: canceled.customer as string })).data).toEqual([]);

    await local.idle();
    const types = receiver.types(subscription);
    expect(types.slice(3)).toEqual([
      "customer.subscription.updated",
      "invoice.paid",
      "customer.subscription.updated",
      "customer.subscription.deleted",
    ]);
    const deleted = receiver.received.find(
      (r) => r.event.type === "customer.subscription.deleted" && subscriptionOfEvent(r.event) === subscription,
    );
    expect(deleted?.event.request?.id).toMatch(/^req_/);
  });
});

describe("what Stripe does by itself, on demand", () => {
  it("renews: the next period, paid", async () => {
    const { subscription } = await subscribe("starter", "month");
    const before = await stripe.subscriptions.retrieve(subscription);
    const result = local.renew(subscription);
    expect(result.events.map((e) => e.type)).toEqual(["customer.subscription.updated", "invoice.paid"]);
    const after = await stripe.subscriptions.retrieve(subscription);
    expect(after.items.data[0]?.current_period_start).toBe(before.items.data[0]?.current_period_end);
    expect(after.status).toBe("active");
    const invoice = await stripe.invoices.retrieve(String(after.latest_invoice));
    expect(invoice).toMatchObject({ status: "paid", billing_reason: "subscription_cycle" });
  });

  it("fails a payment (past_due, retried later), fails again, then is paid (active)", async () => {
    const { subscription } = await subscribe("business", "month");
    const failed = local.failPayment(subscription);
    expect(failed.events.map((e) => e.type)).toEqual(["invoice.payment_failed", "customer.subscription.updated"]);
    expect(failed.subscription.status).toBe("past_due");
    const invoice = await stripe.invoices.retrieve(failed.subscription.latestInvoice?.id ?? "");
    expect(invoice).toMatchObject({ status: "open", attempt_count: 1, amount_remaining: 9_900 });
    expect(invoice.next_payment_attempt).toBe(clock.now() / 1000 + 3 * 86_400);

    expect(local.failPayment(subscription).events.map((e) => e.type)).toEqual(["invoice.payment_failed"]);
    const paid = local.pay(subscription);
    expect(paid.events.map((e) => e.type)).toEqual(["invoice.paid", "customer.subscription.updated"]);
    expect(paid.subscription.status).toBe("active");
    expect(paid.subscription.latestInvoice).toMatchObject({ status: "paid", attemptCount: 3 });
    expect(() => local.pay(subscription)).toThrow(/no open invoice/);
  });

  it("asks for the customer's action, and goes unpaid when Stripe gives up", async () => {
    const { subscription } = await subscribe("starter", "year");
    const action = local.requireAction(subscription);
    expect(action.events.map((e) => e.type)).toEqual([
      "invoice.payment_action_required",
      "customer.subscription.updated",
    ]);
    expect(action.subscription.status).toBe("past_due");
    const page = await (await fetch(`${local.url}/invoice/${action.subscription.latestInvoice?.id}`)).text();
    expect(page).toContain("Pay $290.00");
    const unpaid = local.unpaid(subscription);
    expect(unpaid.subscription.status).toBe("unpaid");
    // The customer pays on the hosted invoice page.
    const pay = await fetch(`${local.url}/invoice/${action.subscription.latestInvoice?.id}/pay`, {
      method: "POST",
      redirect: "manual",
    });
    expect(pay.status).toBe(303);
    expect((await stripe.subscriptions.retrieve(subscription)).status).toBe("active");
  });

  it("cancels at period end: renewing is refused, ending the period cancels", async () => {
    const { subscription } = await subscribe("starter", "month");
    const scheduled = local.cancelAtPeriodEnd(subscription);
    expect(scheduled.subscription).toMatchObject({ cancelAtPeriodEnd: true, status: "active" });
    expect(scheduled.subscription.cancelAt).toBe(scheduled.subscription.currentPeriodEnd);
    expect(() => local.renew(subscription)).toThrow(/cancel at the end of its period/);
    expect(() => local.cancelAtPeriodEnd(subscription)).toThrow(/already set to cancel/);
    const ended = local.endPeriod(subscription);
    expect(ended.events.map((e) => e.type)).toEqual(["customer.subscription.deleted"]);
    const sub = await stripe.subscriptions.retrieve(subscription);
    expect(sub.status).toBe("canceled");
    expect(sub.ended_at).toBe(scheduled.subscription.currentPeriodEnd);
  });

  it("ends a period without a cancellation as a renewal; cancels now", async () => {
    const { subscription } = await subscribe("enterprise", "month");
    expect(local.endPeriod(subscription).events.map((e) => e.type)).toEqual([
      "customer.subscription.updated",
      "invoice.paid",
    ]);
    expect(local.cancelNow(subscription).events.map((e) => e.type)).toEqual(["customer.subscription.deleted"]);
    expect(() => local.renew(subscription)).toThrow(/canceled/);
  });

  it("announces a trial's end, and a renewal ends the trial", async () => {
    const { subscription } = await subscribe("business", "month", 14);
    expect(local.trialWillEnd(subscription).events.map((e) => e.type)).toEqual([
      "customer.subscription.trial_will_end",
    ]);
    const renewed = local.renew(subscription);
    expect(renewed.subscription.status).toBe("active");
    expect(() => local.trialWillEnd(subscription)).toThrow(/needs trialing/);
  });

  it("pauses and resumes", async () => {
    const { subscription } = await subscribe("starter", "month");
    const paused = local.pause(subscription);
    expect(paused.events.map((e) => e.type)).toEqual(["customer.subscription.paused"]);
    expect((await stripe.subscriptions.retrieve(subscription)).status).toBe("paused");
    const resumed = local.resume(subscription);
    expect(resumed.events.map((e) => e.type)).toEqual(["customer.subscription.resumed", "invoice.paid"]);
    expect(resumed.subscription.status).toBe("active");
  });

  it("finds a tenant's customers and subscriptions by metadata", async () => {
    const { tenantId, subscription, customer } = await subscribe("starter", "month");
    expect(local.customers({ tenantId }).map((c) => c.id)).toEqual([customer]);
    expect(local.subscriptions({ tenantId }).map((s) => s.id)).toEqual([subscription]);
  });
});

describe("webhook delivery", () => {
  it("retries an event the receiver answered with 500, recording each attempt", async () => {
    const { subscription } = await subscribe("starter", "month");
    receiver.replies.push(500, 503);
    const [event] = local.renew(subscription).events;
    await local.idle();
    const record = local.events().find((e) => e.id === event?.id);
    expect(record?.state).toBe("delivered");
    expect(record?.attempts.map((a) => a.status)).toEqual([500, 503, 200]);
    // The next event of the subscription waited for it.
    expect(receiver.types(subscription).slice(-2)).toEqual(["customer.subscription.updated", "invoice.paid"]);
  });

  it("gives up after the last retry, and a redelivery gets it through", async () => {
    const { subscription } = await subscribe("starter", "month");
    receiver.replies.push(500, 500, 500);
    const [event] = local.cancelAtPeriodEnd(subscription).events;
    await local.idle();
    const record = local.events().find((e) => e.id === event?.id);
    expect(record?.state).toBe("failed");
    expect(record?.attempts).toHaveLength(3);
    const attempt = await local.redeliver(event?.id ?? "");
    expect(attempt).toMatchObject({ status: 200, redelivery: true });
    expect(record?.state).toBe("delivered");
  });
});

describe("manual delivery", () => {
  it("holds events until flush, and signs payloads for a test to post itself", async () => {
    const held = new Receiver();
    await held.start();
    const manual = await startLocalStripe({ deliver: "manual", webhookUrl: held.url, retryDelaysMs: [] });
    held.secret = manual.webhookSecret;
    try {
      const client = await manual.client();
      const customer = await client.customers.create({ name: "Manual" });
      const session = await client.checkout.sessions.create({
        mode: "subscription",
        customer: customer.id,
        success_url: "http://app.test/ok",
        line_items: [
          { price: (await client.prices.list({ lookup_keys: ["whatsdex_starter_month"] })).data[0]?.id ?? "" },
        ],
      });
      const done = manual.completeCheckout(session.id);
      expect(done.events.map((e) => e.type)).toEqual([
        "customer.subscription.created",
        "invoice.paid",
        "checkout.session.completed",
      ]);
      expect(manual.events().every((e) => e.state === "pending" && e.attempts.length === 0)).toBe(true);
      expect(held.received).toEqual([]);

      // Replayed out of order by the test, signed by the server's secret.
      const last = manual.events().at(-1);
      const signature = await manual.sign(last?.payload ?? "");
      const verified = await Stripe.webhooks.constructEventAsync(last?.payload ?? "", signature, manual.webhookSecret);
      expect(verified.type).toBe("checkout.session.completed");

      await manual.flush();
      expect(held.types()).toEqual(["customer.subscription.created", "invoice.paid", "checkout.session.completed"]);
      expect(manual.events().every((e) => e.state === "delivered")).toBe(true);
    } finally {
      await manual.stop();
      await held.stop();
    }
  });

  it("waits for a webhook URL, and stopping the server stops retries", async () => {
    const idle = await startLocalStripe({ retryDelaysMs: [60_000] });
    const client = await idle.client();
    const customer = await client.customers.create({ name: "No URL" });
    const session = await client.checkout.sessions.create({
      mode: "subscription",
      customer: customer.id,
      success_url: "http://app.test/ok",
      line_items: [
        { price: (await client.prices.list({ lookup_keys: ["whatsdex_starter_month"] })).data[0]?.id ?? "" },
      ],
    });
    idle.completeCheckout(session.id);
    expect(idle.events().every((e) => e.state === "pending")).toBe(true);
    // Nothing listens there: the first attempt fails and the retry is a minute away.
    idle.setWebhookUrl("http://127.0.0.1:9/unreachable");
    await waitFor("a failed attempt", async () => (idle.events()[0]?.attempts.length ? true : undefined));
    await idle.stop();
    await idle.idle();
    expect(idle.events()[0]?.attempts).toHaveLength(1);
    expect(idle.events()[0]?.attempts[0]?.status).toBe(0);
  });
});

describe("the return page", () => {
  it("tells a developer back from checkout or the portal what happened", async () => {
    const said = async (query: string) =>
      (await (await fetch(`${local.url}/return${query}`)).text()).replace(/<[^>]+>/g, " ");
    expect(await said("?checkout=success")).toMatch(/Payment received/);
    expect(await said("?checkout=cancelled")).toMatch(/nothing was bought/);
    expect(await said("")).toMatch(/customer portal/);
  });
});
