import { invalidRequest, resourceMissing, StripeApiError } from "./errors.ts";
import type { FormObject } from "./form.ts";
import type { ApiRequest, SubscriptionLifecycle } from "./lifecycle.ts";
import {
  expandable,
  expandUnder,
  renderCheckoutSession,
  renderCustomer,
  renderDeletedCustomer,
  renderInvoice,
  renderPortalSession,
  renderPrice,
  renderSubscription,
} from "./objects.ts";
import {
  checkoutCreateParams,
  customerCreateParams,
  parseParams,
  portalCreateParams,
  priceListParams,
  retrieveParams,
  subscriptionCancelParams,
  subscriptionListParams,
  subscriptionUpdateParams,
} from "./params.ts";
import { type CustomerRecord, type LocalStripeState, newId, type SubscriptionRecord } from "./state.ts";

export interface ApiContext {
  state: LocalStripeState;
  lifecycle: SubscriptionLifecycle;
}

export interface ApiCall {
  method: string;
  /** The path after `/v1/`, split. */
  segments: readonly string[];
  form: FormObject;
  request: NonNullable<ApiRequest>;
}

/** The Stripe REST endpoints our code calls. Synchronous after the body is read: one request at a time changes state. */
export function handleApi(ctx: ApiContext, call: ApiCall): unknown {
  const { state, lifecycle } = ctx;
  const { method, segments, form } = call;
  // `checkout/sessions` and `billing_portal/sessions` are one resource of two segments.
  const nested = segments[0] === "checkout" || segments[0] === "billing_portal";
  const resource = nested ? `${segments[0]}/${segments[1]}` : segments[0];
  const [id, extra] = segments.slice(nested ? 2 : 1);
  const route = `${method} ${resource}${id === undefined ? "" : "/:id"}${extra === undefined ? "" : `/${extra}`}`;

  switch (route) {
    case "POST customers": {
      const params = parseParams(customerCreateParams, form);
      const customer: CustomerRecord = {
        id: newId("cus"),
        created: lifecycle.now(),
        name: params.name ?? null,
        email: params.email ?? null,
        metadata: withoutEmpty(params.metadata ?? {}),
        deleted: false,
      };
      state.customers.set(customer.id, customer);
      return renderCustomer(customer);
    }
    case "GET customers/:id": {
      parseExpand(retrieveParams, form, expandable.customer);
      const customer = found(state.customers.get(id ?? ""), "customer", id);
      return customer.deleted ? renderDeletedCustomer(customer) : renderCustomer(customer);
    }
    case "POST customers/:id": {
      const params = parseParams(customerCreateParams, form);
      const customer = liveCustomer(state, id);
      if (params.name !== undefined) customer.name = params.name || null;
      if (params.email !== undefined) customer.email = params.email || null;
      if (params.metadata) customer.metadata = withoutEmpty({ ...customer.metadata, ...params.metadata });
      return renderCustomer(customer);
    }
    case "DELETE customers/:id": {
      parseParams(retrieveParams, form);
      const customer = liveCustomer(state, id);
      // Deleting a customer cancels its subscriptions at once, as Stripe does.
      for (const subscription of state.subscriptions.values()) {
        if (subscription.customer === customer.id && subscription.status !== "canceled") {
          lifecycle.cancelNow(subscription, call.request);
        }
      }
      customer.deleted = true;
      return renderDeletedCustomer(customer);
    }
    case "GET prices": {
      const params = parseParams(priceListParams, form);
      const expand = checkExpand(
        params.expand,
        expandable.price.map((p) => `data.${p}`),
      );
      const keys = params.lookup_keys;
      const data = [...state.prices.values()]
        .reverse()
        .filter((p) => !keys || keys.includes(p.lookupKey))
        .filter((p) => params.active === undefined || p.active === params.active)
        .filter((p) => !params.product || p.product === params.product)
        // Every local price is a recurring one in USD.
        .filter(() => (!params.currency || params.currency === "usd") && (!params.type || params.type === "recurring"))
        .sort((a, b) => b.created - a.created);
      return list(
        "/v1/prices",
        data.map((p) => renderPrice(state, p, expandUnder(expand, "data"))),
        params.limit,
      );
    }
    case "GET prices/:id": {
      const expand = parseExpand(retrieveParams, form, expandable.price);
      return renderPrice(state, found(state.prices.get(id ?? ""), "price", id), expand);
    }
    case "POST checkout/sessions": {
      const params = parseParams(checkoutCreateParams, form);
      const expand = checkExpand(params.expand, expandable.checkoutSession);
      if (params.mode !== "subscription") {
        throw invalidRequest("The local Stripe supports only mode=subscription.", "mode");
      }
      if (params.customer && params.customer_email) {
        throw invalidRequest("You may only specify one of these parameters: customer, customer_email.", "customer");
      }
      const line = params.line_items[0];
      const price = line ? state.prices.get(line.price) : undefined;
      if (!line || !price) throw resourceMissing("price", line?.price ?? "", "line_items[0][price]");
      if (!price.active) throw invalidRequest(`The price ${price.id} is not active.`, "line_items[0][price]");
      let customerId = params.customer;
      if (customerId) liveCustomer(state, customerId, "customer");
      else {
        // Checkout makes a customer from what the buyer types in; here, from customer_email.
        const customer: CustomerRecord = {
          id: newId("cus"),
          created: lifecycle.now(),
          name: null,
          email: params.customer_email ?? null,
          metadata: {},
          deleted: false,
        };
        state.customers.set(customer.id, customer);
        customerId = customer.id;
      }
      const now = lifecycle.now();
      const session = {
        id: newId("cs_test"),
        created: now,
        expiresAt: now + 86_400,
        customer: customerId,
        customerEmail: params.customer_email ?? null,
        price: price.id,
        quantity: line.quantity ?? 1,
        successUrl: params.success_url,
        cancelUrl: params.cancel_url ?? null,
        clientReferenceId: params.client_reference_id ?? null,
        metadata: withoutEmpty(params.metadata ?? {}),
        subscriptionMetadata: withoutEmpty(params.subscription_data?.metadata ?? {}),
        trialDays: params.subscription_data?.trial_period_days ?? 0,
        allowPromotionCodes: params.allow_promotion_codes ?? null,
        status: "open" as const,
        subscription: null,
        invoice: null,
      };
      state.checkoutSessions.set(session.id, session);
      return renderCheckoutSession(state, session, expand);
    }
    case "GET checkout/sessions/:id": {
      const expand = parseExpand(retrieveParams, form, expandable.checkoutSession);
      return renderCheckoutSession(state, found(state.checkoutSessions.get(id ?? ""), "checkout.session", id), expand);
    }
    case "POST billing_portal/sessions": {
      const params = parseParams(portalCreateParams, form);
      checkExpand(params.expand, expandable.portalSession);
      liveCustomer(state, params.customer, "customer");
      const portal = {
        id: newId("bps"),
        created: lifecycle.now(),
        customer: params.customer,
        returnUrl: params.return_url ?? null,
      };
      state.portalSessions.set(portal.id, portal);
      return renderPortalSession(state, portal);
    }
    case "GET subscriptions": {
      const params = parseParams(subscriptionListParams, form);
      const expand = checkExpand(
        params.expand,
        expandable.subscription.map((p) => `data.${p}`),
      );
      const status = params.status;
      const data = [...state.subscriptions.values()]
        .reverse()
        .filter((s) => !params.customer || s.customer === params.customer)
        .filter((s) => !params.price || s.price === params.price)
        .filter((s) => {
          if (status === "all") return true;
          if (status === "ended") return s.status === "canceled" || s.status === "incomplete_expired";
          if (status) return s.status === status;
          // Without a status, Stripe lists the subscriptions that are not canceled.
          return s.status !== "canceled";
        })
        .sort((a, b) => b.created - a.created);
      return list(
        "/v1/subscriptions",
        data.map((s) => renderSubscription(state, s, expandUnder(expand, "data"))),
        params.limit,
      );
    }
    case "GET subscriptions/:id": {
      const expand = parseExpand(retrieveParams, form, expandable.subscription);
      return renderSubscription(state, subscriptionOf(state, id), expand);
    }
    case "POST subscriptions/:id":
      return updateSubscription(ctx, subscriptionOf(state, id), form, call.request);
    case "DELETE subscriptions/:id": {
      const params = parseParams(subscriptionCancelParams, form);
      const expand = checkExpand(params.expand, expandable.subscription);
      const subscription = subscriptionOf(state, id);
      // Stripe answers a second cancel as if the subscription were gone.
      if (subscription.status === "canceled") throw resourceMissing("subscription", subscription.id);
      lifecycle.cancelNow(subscription, call.request);
      return renderSubscription(state, subscription, expand);
    }
    case "GET invoices/:id": {
      const expand = parseExpand(retrieveParams, form, expandable.invoice);
      return renderInvoice(state, found(state.invoices.get(id ?? ""), "invoice", id), expand);
    }
  }
  throw new StripeApiError(
    404,
    "invalid_request_error",
    `Unrecognized request URL (${method}: /v1/${segments.join("/")}). The local Stripe serves only the endpoints WhatsDeX calls.`,
  );
}

function updateSubscription(
  ctx: ApiContext,
  subscription: SubscriptionRecord,
  form: FormObject,
  request: NonNullable<ApiRequest>,
): unknown {
  const { state, lifecycle } = ctx;
  const params = parseParams(subscriptionUpdateParams, form);
  const expand = checkExpand(params.expand, expandable.subscription);
  const changesPlan = params.items !== undefined || params.cancel_at_period_end !== undefined;
  if (subscription.status === "canceled" && (changesPlan || params.proration_behavior !== undefined)) {
    throw invalidRequest("A canceled subscription can only update its cancellation_details and metadata.");
  }
  // Everything is checked before anything changes.
  const item = params.items?.[0];
  let newPrice: string | undefined;
  if (item) {
    if (item.id === undefined) {
      throw invalidRequest(
        "The local Stripe keeps one item per subscription: name it with items[0][id] to change its price.",
        "items[0][id]",
      );
    }
    if (item.id !== subscription.itemId) throw resourceMissing("subscription item", item.id, "items[0][id]");
    if (item.price !== undefined) {
      const price = state.prices.get(item.price);
      if (!price) throw resourceMissing("price", item.price, "items[0][price]");
      if (!price.active) throw invalidRequest(`The price ${price.id} is not active.`, "items[0][price]");
      newPrice = price.id;
    }
  }
  if (newPrice) lifecycle.switchPrice(subscription, newPrice, request);
  if (params.cancel_at_period_end !== undefined && params.cancel_at_period_end !== subscription.cancelAtPeriodEnd) {
    lifecycle.setCancelAtPeriodEnd(subscription, params.cancel_at_period_end, request);
  }
  if (params.metadata !== undefined) {
    const changes =
      params.metadata === ""
        ? Object.fromEntries(Object.keys(subscription.metadata).map((key) => [key, ""]))
        : params.metadata;
    lifecycle.setMetadata(subscription, changes, request);
  }
  return renderSubscription(state, subscription, expand);
}

function liveCustomer(state: LocalStripeState, id: string | undefined, param = "id"): CustomerRecord {
  const customer = state.customers.get(id ?? "");
  if (!customer || customer.deleted) throw resourceMissing("customer", id ?? "", param);
  return customer;
}

function subscriptionOf(state: LocalStripeState, id: string | undefined): SubscriptionRecord {
  return found(state.subscriptions.get(id ?? ""), "subscription", id);
}

function found<T>(value: T | undefined, kind: string, id: string | undefined, param = "id"): T {
  if (value === undefined) throw resourceMissing(kind, id ?? "", param);
  return value;
}

function withoutEmpty(metadata: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata).filter(([, value]) => value !== ""));
}

function parseExpand(schema: typeof retrieveParams, form: FormObject, allowed: readonly string[]): ReadonlySet<string> {
  return checkExpand(parseParams(schema, form).expand, allowed);
}

function checkExpand(paths: readonly string[] | undefined, allowed: readonly string[]): ReadonlySet<string> {
  for (const path of paths ?? []) {
    if (!allowed.includes(path)) {
      throw invalidRequest(`This property cannot be expanded (${path}).`, "expand");
    }
  }
  return new Set(paths ?? []);
}

function list<T>(url: string, data: T[], limit = 10) {
  return { object: "list" as const, data: data.slice(0, limit), has_more: data.length > limit, url };
}
