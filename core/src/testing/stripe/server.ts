import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { isPaidPlan, priceLookupKey } from "../../billing/schema.ts";
import { createStripeClient, STRIPE_API_VERSION, type StripeClient } from "../../billing/stripe-client.ts";
import { type Plan, PlanCatalog } from "../../plans/plan-catalog.ts";
import { handleApi } from "./api.ts";
import { eventSummary, findCustomers, findSubscriptions, runAction, subscriptionSummary } from "./control.ts";
import {
  type ControlAction,
  type ControlCustomer,
  type ControlResult,
  type ControlSubscription,
  controlActionSchema,
} from "./control-schema.ts";
import { ControlError, StripeApiError } from "./errors.ts";
import { FormError, parseForm } from "./form.ts";
import { SubscriptionLifecycle } from "./lifecycle.ts";
import { checkoutPage, invoicePage, messagePage, portalPage, portalSubscription, successUrl } from "./pages.ts";
import { LocalStripeState, newId, type SubscriptionRecord } from "./state.ts";
import { type DeliveryAttempt, type LocalStripeEvent, WebhookSender } from "./webhook-sender.ts";

/** Any `sk_test_…` key is accepted; this is the one the local stack is given. */
export const LOCAL_STRIPE_API_KEY = "sk_test_local_whatsdex";

export interface LocalStripeOptions {
  /** Default 0: a free port. */
  port?: number;
  host?: string;
  /** Where events are POSTed; may be set later with `setWebhookUrl`. Until then events wait. */
  webhookUrl?: string;
  /** Default: a fresh `whsec_…`. */
  webhookSecret?: string;
  /** Plans sold: a Product per paid plan, a monthly Price at its price and a yearly one at 10×. Default: the catalog. */
  plans?: readonly Plan[];
  /** The clock objects are dated by (ms); tests move it. Default Date.now. */
  now?: () => number;
  /** `manual`: events are kept, not posted, until `flush()` (or `redeliver`). Default `auto`. */
  deliver?: "auto" | "manual";
  /** Waits before each retry of a failed delivery. Default 1 s, 5 s, 30 s, 2 min. */
  retryDelaysMs?: readonly number[];
  /** How long one delivery waits for the receiver. Default 10 s. */
  deliveryTimeoutMs?: number;
}

export interface LocalStripe {
  port: number;
  /** `http://host:port`: the `apiUrl` for `createStripeClient`, and where the hosted pages are. */
  url: string;
  apiKey: string;
  webhookSecret: string;
  /** The real SDK pointed at this server (no retries: a test sees the first answer). */
  client(): Promise<StripeClient>;
  setWebhookUrl(url: string): void;
  customers(filter?: { tenantId?: string }): ControlCustomer[];
  subscriptions(filter?: { tenantId?: string; customer?: string }): ControlSubscription[];
  /** The hosted checkout page's Pay button, without the page. */
  completeCheckout(sessionId: string): ControlResult;
  act(subscriptionId: string, action: ControlAction): ControlResult;
  renew(subscriptionId: string): ControlResult;
  failPayment(subscriptionId: string): ControlResult;
  pay(subscriptionId: string): ControlResult;
  requireAction(subscriptionId: string): ControlResult;
  cancelAtPeriodEnd(subscriptionId: string): ControlResult;
  endPeriod(subscriptionId: string): ControlResult;
  cancelNow(subscriptionId: string): ControlResult;
  trialWillEnd(subscriptionId: string): ControlResult;
  pause(subscriptionId: string): ControlResult;
  resume(subscriptionId: string): ControlResult;
  unpaid(subscriptionId: string): ControlResult;
  /** Every event so far, in the order they happened, with their delivery attempts. */
  events(): readonly LocalStripeEvent[];
  /** Posts one event again, now (Stripe delivers at least once). */
  redeliver(eventId: string): Promise<DeliveryAttempt>;
  /** Delivers what is waiting (manual mode) and settles when nothing is in flight. */
  flush(): Promise<void>;
  /** Settles when no delivery is in flight or waiting for a retry. */
  idle(): Promise<void>;
  /** A `Stripe-Signature` header for a payload, signed now with the webhook secret. */
  sign(payload: string): Promise<string>;
  stop(): Promise<void>;
}

const MAX_BODY = 256 * 1024;

/**
 * A local stand-in for Stripe that speaks the part of its REST API WhatsDeX calls (customers, prices
 * by lookup key, Checkout and portal sessions, subscriptions, invoices) to the real `stripe` SDK
 * pointed at it (`createStripeClient({apiUrl})`), serves the hosted pages a customer would click
 * through (checkout with Pay, the customer portal, an invoice), and sends signed webhook events to
 * a URL, retried and in order per subscription, like Stripe. A control API (`/_control/…`, and the
 * same as methods here) makes the rest of a subscription's life happen on demand: renewals, failed
 * payments, the end of a period. State lives in memory. Form-encoded parameters are validated as
 * Stripe does (unknown ones refused); POSTs honour Idempotency-Key; objects have the pinned API
 * version's shapes. Not modelled: prorations, coupons, taxes, payment methods, multiple items.
 */
export async function startLocalStripe(options: LocalStripeOptions = {}): Promise<LocalStripe> {
  const now = options.now ?? Date.now;
  const host = options.host ?? "127.0.0.1";
  const webhookSecret = options.webhookSecret ?? newId("whsec");
  const state = new LocalStripeState();
  const sender = new WebhookSender({
    secret: webhookSecret,
    url: options.webhookUrl,
    deliver: options.deliver ?? "auto",
    retryDelaysMs: options.retryDelaysMs ?? [1_000, 5_000, 30_000, 120_000],
    timeoutMs: options.deliveryTimeoutMs ?? 10_000,
  });
  const lifecycle = new SubscriptionLifecycle({ state, sender, now });
  seedPlans(state, options.plans ?? PlanCatalog.all(), lifecycle.now());

  const subscriptionOf = (id: string): SubscriptionRecord => {
    const subscription = state.subscriptions.get(id);
    if (!subscription) throw new ControlError(`No such subscription: ${id}`, 404);
    return subscription;
  };
  const result = (subscription: SubscriptionRecord, events: LocalStripeEvent[]): ControlResult => ({
    subscription: subscriptionSummary(state, subscription),
    events: events.map(eventSummary),
  });
  const act = (id: string, action: ControlAction): ControlResult => {
    const subscription = subscriptionOf(id);
    return result(subscription, runAction(lifecycle, subscription, action));
  };
  const completeCheckout = (sessionId: string): ControlResult => {
    const session = state.checkoutSessions.get(sessionId);
    if (!session) throw new ControlError(`No such checkout session: ${sessionId}`, 404);
    const events = lifecycle.completeCheckout(session);
    return result(subscriptionOf(session.subscription ?? ""), events);
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://local");
    const method = req.method ?? "GET";
    const segments = url.pathname.split("/").slice(1).map(decodeURIComponent);
    if (segments[0] === "v1") return handleStripeApi(req, res, method, segments.slice(1), url);
    if (segments[0] === "_control") return handleControl(req, res, method, segments.slice(1), url);
    return handlePage(req, res, method, segments, url);
  }

  async function handleStripeApi(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    segments: string[],
    url: URL,
  ): Promise<void> {
    const requestId = newId("req");
    const headers = { "request-id": requestId, "stripe-version": STRIPE_API_VERSION };
    try {
      const apiKey = /^Bearer (sk_test_[A-Za-z0-9_]+)$/.exec(req.headers.authorization ?? "")?.[1];
      if (!apiKey) {
        return json(res, 401, headers, {
          error: {
            type: "invalid_request_error",
            message: req.headers.authorization
              ? "Invalid API Key provided: the local Stripe accepts any sk_test_… key."
              : "You did not provide an API key. Provide it in the Authorization header as a Bearer token.",
          },
        });
      }
      const version = req.headers["stripe-version"];
      if (version !== undefined && version !== STRIPE_API_VERSION) {
        throw new StripeApiError(
          400,
          "invalid_request_error",
          `The local Stripe speaks API version ${STRIPE_API_VERSION} only (this request asked for ${String(version)}).`,
        );
      }
      const body = (await readBody(req)).toString("utf8");
      const form = parseForm(method === "GET" || method === "DELETE" ? url.search.slice(1) : body);
      const header = req.headers["idempotency-key"];
      // Stripe keys POSTs and DELETEs; a retried cancel with its key gets the first answer back.
      const idempotencyKey = (method === "POST" || method === "DELETE") && typeof header === "string" ? header : null;
      const fingerprint = `${method} ${url.pathname}?${url.search} ${body}`;
      const scope = `${apiKey} ${idempotencyKey}`;
      if (idempotencyKey) {
        if (idempotencyKey.length > 255) {
          throw new StripeApiError(400, "invalid_request_error", "Idempotency keys are at most 255 characters.");
        }
        const kept = state.idempotency.get(scope);
        if (kept && kept.fingerprint !== fingerprint) {
          throw new StripeApiError(
            400,
            "idempotency_error",
            `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`,
          );
        }
        if (kept) {
          return send(
            res,
            kept.status,
            { ...headers, "idempotent-replayed": "true", "idempotency-key": idempotencyKey },
            kept.body,
          );
        }
      }
      const answer = JSON.stringify(
        handleApi({ state, lifecycle }, { method, segments, form, request: { id: requestId, idempotencyKey } }),
      );
      // Only a request that ran is remembered: a refused one may be retried with the same key.
      if (idempotencyKey) state.remember(scope, { fingerprint, status: 200, body: answer });
      return send(res, 200, idempotencyKey ? { ...headers, "idempotency-key": idempotencyKey } : headers, answer);
    } catch (error) {
      const problem =
        error instanceof StripeApiError
          ? error
          : error instanceof FormError
            ? new StripeApiError(400, "invalid_request_error", error.message, { param: error.param })
            : error instanceof ControlError
              ? new StripeApiError(400, "invalid_request_error", error.message)
              : new StripeApiError(500, "api_error", error instanceof Error ? error.message : String(error));
      return json(res, problem.status, headers, problem.body());
    }
  }

  async function handleControl(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    segments: string[],
    url: URL,
  ): Promise<void> {
    const query = (name: string) => url.searchParams.get(name) ?? undefined;
    try {
      const [what, id, verb] = segments;
      if (method === "GET" && what === "customers" && id === undefined) {
        return json(res, 200, {}, { data: findCustomers(state, { tenantId: query("tenantId") }) });
      }
      if (method === "GET" && what === "subscriptions" && id === undefined) {
        const filter = { tenantId: query("tenantId"), customer: query("customer") };
        return json(res, 200, {}, { data: findSubscriptions(state, filter).map((s) => subscriptionSummary(state, s)) });
      }
      if (method === "GET" && what === "subscriptions" && id !== undefined && verb === undefined) {
        return json(res, 200, {}, subscriptionSummary(state, subscriptionOf(id)));
      }
      if (method === "POST" && what === "subscriptions" && id !== undefined && verb !== undefined) {
        const action = controlActionSchema.safeParse(verb);
        if (!action.success) {
          throw new ControlError(`Unknown action ${verb}: one of ${controlActionSchema.options.join(", ")}.`, 400);
        }
        return json(res, 200, {}, act(id, action.data));
      }
      if (method === "POST" && what === "checkout-sessions" && id !== undefined && verb === "complete") {
        return json(res, 200, {}, completeCheckout(id));
      }
      if (method === "GET" && what === "events" && id === undefined) {
        return json(res, 200, {}, { data: sender.events.map(eventSummary), webhookUrl: sender.webhookUrl ?? null });
      }
      if (method === "POST" && what === "events" && id !== undefined && verb === "redeliver") {
        if (!sender.events.some((e) => e.id === id)) throw new ControlError(`No such event: ${id}`, 404);
        return json(res, 200, {}, await sender.redeliver(id));
      }
      if (method === "POST" && what === "flush" && id === undefined) {
        await sender.flush();
        return json(res, 200, {}, { data: sender.events.map(eventSummary), webhookUrl: sender.webhookUrl ?? null });
      }
      if (method === "POST" && what === "webhook-url" && id === undefined) {
        const body = z
          .object({ url: z.url({ protocol: /^https?$/ }) })
          .safeParse(JSON.parse((await readBody(req)).toString("utf8") || "{}"));
        if (!body.success) throw new ControlError('Expected {"url": "http(s)://…"}.', 400);
        sender.setUrl(body.data.url);
        return json(res, 200, {}, { url: body.data.url });
      }
      throw new ControlError(`No control route ${method} /_control/${segments.join("/")}`, 404);
    } catch (error) {
      const status = error instanceof ControlError ? error.status : error instanceof SyntaxError ? 400 : 500;
      const message = error instanceof Error ? error.message : String(error);
      return json(res, status, {}, { error: { message } });
    }
  }

  async function handlePage(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    segments: string[],
    url: URL,
  ): Promise<void> {
    const [kind, id, verb] = segments;
    try {
      const fields = method === "POST" ? parseForm((await readBody(req)).toString("utf8")) : {};
      const field = (name: string) => {
        const value = fields[name];
        return typeof value === "string" ? value : undefined;
      };
      if (kind === "return" && method === "GET") {
        // Where `npm run dev` sends customers back (BILLING_RETURN_URL) until the dashboard has a billing page.
        const outcome = url.searchParams.get("checkout");
        const said =
          outcome === "success"
            ? "Payment received. Stripe's events are on their way to the stripeWebhook function: GET …/billing shows the new plan in a moment."
            : outcome === "cancelled"
              ? "Checkout cancelled: nothing was bought."
              : "Back from the customer portal.";
        return html(res, 200, messagePage("Back from Stripe", said));
      }
      if (kind === "checkout" && id !== undefined) {
        const session = state.checkoutSessions.get(id);
        if (!session) return html(res, 404, messagePage("Not found", "No such checkout session."));
        if (method === "GET" && verb === undefined)
          return html(res, 200, checkoutPage(state, session, lifecycle.now()));
        if (method === "POST" && verb === "pay") {
          // A second click on Pay (or a reload) lands on the same success page, and pays nothing twice.
          if (session.status === "open" && session.expiresAt > lifecycle.now()) lifecycle.completeCheckout(session);
          if (session.status !== "complete") return html(res, 410, checkoutPage(state, session, lifecycle.now()));
          return redirect(res, successUrl(session));
        }
      }
      if (kind === "portal" && id !== undefined) {
        const portal = state.portalSessions.get(id);
        if (!portal) return html(res, 404, messagePage("Not found", "No such portal session."));
        if (method === "GET" && verb === undefined)
          return html(res, 200, portalPage(state, portal, url.searchParams.get("notice")));
        if (method === "POST" && verb !== undefined) {
          const subscription = state.subscriptions.get(field("subscription") ?? "");
          // The portal acts only on the customer's own subscription.
          if (
            !subscription ||
            subscription.customer !== portal.customer ||
            subscription !== portalSubscription(state, portal.customer)
          ) {
            return html(res, 403, messagePage("Not allowed", "That subscription is not this customer's current one."));
          }
          let notice: string;
          if (verb === "switch") {
            const price = state.prices.get(field("price") ?? "");
            if (!price?.active) return html(res, 400, messagePage("Unknown plan", "Choose one of the plans listed."));
            lifecycle.switchPrice(subscription, price.id, null);
            notice = "Your plan was changed.";
          } else if (verb === "cancel") {
            lifecycle.setCancelAtPeriodEnd(subscription, true, null);
            notice = "Your subscription will be canceled at the end of the period.";
          } else if (verb === "renew") {
            lifecycle.setCancelAtPeriodEnd(subscription, false, null);
            notice = "Your subscription will continue.";
          } else {
            return html(res, 404, messagePage("Not found", "No such portal action."));
          }
          return redirect(res, `/portal/${portal.id}?notice=${encodeURIComponent(notice)}`);
        }
      }
      if (kind === "invoice" && id !== undefined) {
        const invoice = state.invoices.get(id);
        if (!invoice) return html(res, 404, messagePage("Not found", "No such invoice."));
        if (method === "GET" && verb === undefined) return html(res, 200, invoicePage(state, invoice));
        if (method === "POST" && verb === "pay") {
          if (invoice.status === "open") lifecycle.payInvoice(invoice);
          return redirect(res, `/invoice/${invoice.id}`);
        }
      }
      return html(res, 404, messagePage("Not found", "The local Stripe has no such page."));
    } catch (error) {
      const status =
        error instanceof ControlError
          ? error.status
          : error instanceof FormError || error instanceof BodyTooLarge
            ? 400
            : 500;
      return html(
        res,
        status,
        messagePage("Could not do that", error instanceof Error ? error.message : String(error)),
      );
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const status = error instanceof FormError ? 400 : error instanceof BodyTooLarge ? 413 : 500;
      json(
        res,
        status,
        {},
        { error: { type: "invalid_request_error", message: error instanceof Error ? error.message : String(error) } },
      );
    });
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve((server.address() as AddressInfo).port));
  });
  const url = `http://${host}:${port}`;
  state.origin = url;

  return {
    port,
    url,
    apiKey: LOCAL_STRIPE_API_KEY,
    webhookSecret,
    client: () => createStripeClient({ secretKey: LOCAL_STRIPE_API_KEY, apiUrl: url, maxNetworkRetries: 0 }),
    setWebhookUrl: (webhookUrl) => sender.setUrl(webhookUrl),
    customers: (filter = {}) => findCustomers(state, filter),
    subscriptions: (filter = {}) => findSubscriptions(state, filter).map((s) => subscriptionSummary(state, s)),
    completeCheckout,
    act,
    renew: (id) => act(id, "renew"),
    failPayment: (id) => act(id, "fail-payment"),
    pay: (id) => act(id, "pay"),
    requireAction: (id) => act(id, "require-action"),
    cancelAtPeriodEnd: (id) => act(id, "cancel-at-period-end"),
    endPeriod: (id) => act(id, "end-period"),
    cancelNow: (id) => act(id, "cancel-now"),
    trialWillEnd: (id) => act(id, "trial-will-end"),
    pause: (id) => act(id, "pause"),
    resume: (id) => act(id, "resume"),
    unpaid: (id) => act(id, "unpaid"),
    events: () => sender.events,
    redeliver: (id) => sender.redeliver(id),
    flush: () => sender.flush(),
    idle: () => sender.idle(),
    sign: (payload) => sender.sign(payload),
    async stop() {
      sender.stop();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}

/** One Product per paid plan, with a monthly Price at the plan's price and a yearly one at ten months'. */
function seedPlans(state: LocalStripeState, plans: readonly Plan[], created: number): void {
  for (const plan of plans) {
    const planId = plan.id;
    if (!isPaidPlan(planId) || plan.priceUsdCents <= 0) continue;
    const product = { id: newId("prod"), created, name: plan.name, plan: planId };
    state.products.set(product.id, product);
    for (const interval of ["month", "year"] as const) {
      const price = {
        id: newId("price"),
        created,
        product: product.id,
        plan: planId,
        interval,
        unitAmount: interval === "year" ? plan.priceUsdCents * 10 : plan.priceUsdCents,
        lookupKey: priceLookupKey(planId, interval),
        active: true,
      };
      state.prices.set(price.id, price);
    }
  }
}

class BodyTooLarge extends Error {}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_BODY) throw new BodyTooLarge(`The request body is larger than ${MAX_BODY} bytes.`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  res.writeHead(status, {
    ...headers,
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

function json(res: ServerResponse, status: number, headers: Record<string, string>, body: unknown): void {
  send(res, status, headers, JSON.stringify(body));
}

function html(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    "content-type": "text/html; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    // The pages load nothing from elsewhere and may not be framed.
    "content-security-policy":
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http: https:; frame-ancestors 'none'",
  });
  res.end(body);
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(303, { location, "content-length": "0" }).end();
}
