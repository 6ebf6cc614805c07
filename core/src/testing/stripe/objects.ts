import type Stripe from "stripe";
import type {
  CheckoutSessionRecord,
  CustomerRecord,
  InvoiceRecord,
  LocalStripeState,
  PortalSessionRecord,
  PriceRecord,
  ProductRecord,
  SubscriptionRecord,
} from "./state.ts";

/**
 * Records rendered as the pinned API version shapes them. Each renderer's return type picks the
 * fields it fills from the SDK's own type, so a field we emit cannot drift from what the SDK (and our
 * code reading through it) expects. `expand` holds the paths asked to be expanded, relative to the object.
 */

type Expand = ReadonlySet<string>;
const none: Expand = new Set();

/** The expand paths under `prefix` (`data.product` under `data` is `product`). */
export function expandUnder(expand: Expand, prefix: string): Expand {
  const out = new Set<string>();
  for (const path of expand) if (path.startsWith(`${prefix}.`)) out.add(path.slice(prefix.length + 1));
  return out;
}

export function renderCustomer(
  c: CustomerRecord,
): Pick<
  Stripe.Customer,
  | "id"
  | "object"
  | "balance"
  | "created"
  | "default_source"
  | "description"
  | "email"
  | "livemode"
  | "metadata"
  | "name"
  | "phone"
  | "shipping"
  | "currency"
  | "delinquent"
  | "preferred_locales"
> {
  return {
    id: c.id,
    object: "customer",
    balance: 0,
    created: c.created,
    default_source: null,
    description: null,
    email: c.email,
    livemode: false,
    metadata: { ...c.metadata },
    name: c.name,
    phone: null,
    shipping: null,
    currency: null,
    delinquent: false,
    preferred_locales: [],
  };
}

export function renderDeletedCustomer(c: CustomerRecord): Stripe.DeletedCustomer {
  return { id: c.id, object: "customer", deleted: true };
}

export function renderProduct(
  p: ProductRecord,
): Pick<
  Stripe.Product,
  | "id"
  | "object"
  | "active"
  | "created"
  | "description"
  | "images"
  | "livemode"
  | "marketing_features"
  | "metadata"
  | "name"
  | "package_dimensions"
  | "shippable"
  | "type"
  | "updated"
  | "url"
> {
  return {
    id: p.id,
    object: "product",
    active: true,
    created: p.created,
    description: null,
    images: [],
    livemode: false,
    marketing_features: [],
    metadata: { plan: p.plan },
    name: p.name,
    package_dimensions: null,
    shippable: null,
    type: "service",
    updated: p.created,
    url: null,
  };
}

export function renderPrice(state: LocalStripeState, p: PriceRecord, expand: Expand = none) {
  const product = state.products.get(p.product);
  const shaped: Pick<
    Stripe.Price,
    | "id"
    | "object"
    | "active"
    | "billing_scheme"
    | "created"
    | "currency"
    | "custom_unit_amount"
    | "livemode"
    | "lookup_key"
    | "metadata"
    | "nickname"
    | "recurring"
    | "tax_behavior"
    | "tiers_mode"
    | "transform_quantity"
    | "type"
    | "unit_amount"
  > = {
    id: p.id,
    object: "price",
    active: p.active,
    billing_scheme: "per_unit",
    created: p.created,
    currency: "usd",
    custom_unit_amount: null,
    livemode: false,
    lookup_key: p.lookupKey,
    metadata: { plan: p.plan, interval: p.interval },
    nickname: null,
    recurring: {
      interval: p.interval,
      interval_count: 1,
      meter: null,
      usage_type: "licensed",
      trial_period_days: null,
    },
    tax_behavior: "unspecified",
    tiers_mode: null,
    transform_quantity: null,
    type: "recurring",
    unit_amount: p.unitAmount,
  };
  return {
    ...shaped,
    product: expand.has("product") && product ? renderProduct(product) : p.product,
    // A decimal string on the wire; the SDK turns it into its Decimal.
    unit_amount_decimal: String(p.unitAmount),
  };
}

export function renderSubscription(state: LocalStripeState, s: SubscriptionRecord, expand: Expand = none) {
  const price = state.priceOf(s.price);
  const item: Pick<
    Stripe.SubscriptionItem,
    | "id"
    | "object"
    | "billing_thresholds"
    | "created"
    | "current_period_end"
    | "current_period_start"
    | "current_trial"
    | "discounts"
    | "metadata"
    | "quantity"
    | "subscription"
    | "tax_rates"
  > = {
    id: s.itemId,
    object: "subscription_item",
    billing_thresholds: null,
    created: s.itemCreated,
    current_period_end: s.periodEnd,
    current_period_start: s.periodStart,
    current_trial: null,
    discounts: [],
    metadata: {},
    quantity: s.quantity,
    subscription: s.id,
    tax_rates: [],
  };
  const invoice = s.latestInvoice ? state.invoices.get(s.latestInvoice) : undefined;
  const customer = state.customers.get(s.customer);
  const shaped: Pick<
    Stripe.Subscription,
    | "id"
    | "object"
    | "application"
    | "application_fee_percent"
    | "billing_cycle_anchor"
    | "billing_thresholds"
    | "cancel_at"
    | "cancel_at_period_end"
    | "canceled_at"
    | "cancellation_details"
    | "collection_method"
    | "created"
    | "currency"
    | "customer_account"
    | "days_until_due"
    | "default_payment_method"
    | "default_source"
    | "description"
    | "discounts"
    | "ended_at"
    | "livemode"
    | "metadata"
    | "next_pending_invoice_item_invoice"
    | "on_behalf_of"
    | "pause_collection"
    | "pending_invoice_item_interval"
    | "pending_setup_intent"
    | "pending_update"
    | "schedule"
    | "start_date"
    | "status"
    | "test_clock"
    | "transfer_data"
    | "trial_end"
    | "trial_settings"
    | "trial_start"
  > = {
    id: s.id,
    object: "subscription",
    application: null,
    application_fee_percent: null,
    billing_cycle_anchor: s.billingCycleAnchor,
    billing_thresholds: null,
    cancel_at: s.cancelAt,
    cancel_at_period_end: s.cancelAtPeriodEnd,
    canceled_at: s.canceledAt,
    cancellation_details: { comment: null, feedback: null, feedback_option: null, reason: s.cancellationReason },
    collection_method: "charge_automatically",
    created: s.created,
    currency: "usd",
    customer_account: null,
    days_until_due: null,
    default_payment_method: null,
    default_source: null,
    description: null,
    discounts: [],
    ended_at: s.endedAt,
    livemode: false,
    metadata: { ...s.metadata },
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection: null,
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: s.startDate,
    status: s.status,
    test_clock: null,
    transfer_data: null,
    trial_end: s.trialEnd,
    trial_settings: { end_behavior: { billing_cycle_anchor: null, missing_payment_method: "create_invoice" } },
    trial_start: s.trialStart,
  };
  return {
    ...shaped,
    customer: expand.has("customer") && customer ? renderCustomer(customer) : s.customer,
    items: {
      object: "list" as const,
      data: [{ ...item, price: renderPrice(state, price, expandUnder(expand, "items.data.price")) }],
      has_more: false,
      url: `/v1/subscription_items?subscription=${s.id}`,
    },
    latest_invoice: expand.has("latest_invoice") && invoice ? renderInvoice(state, invoice) : s.latestInvoice,
  };
}

export function renderInvoice(state: LocalStripeState, i: InvoiceRecord, expand: Expand = none) {
  const customer = state.customers.get(i.customer);
  const subscription = state.subscriptions.get(i.subscription);
  const price = state.priceOf(i.price);
  const remaining = i.status === "open" ? i.amountDue - i.amountPaid : 0;
  const line: Pick<
    Stripe.InvoiceLineItem,
    | "id"
    | "object"
    | "amount"
    | "currency"
    | "description"
    | "discount_amounts"
    | "discountable"
    | "discounts"
    | "invoice"
    | "livemode"
    | "metadata"
    | "period"
    | "pretax_credit_amounts"
    | "quantity"
    | "subscription"
    | "subtotal"
    | "taxes"
  > = {
    id: `il_${i.id.slice(3)}`,
    object: "line_item",
    amount: i.amountDue,
    currency: "usd",
    description: `${i.quantity} × ${state.products.get(price.product)?.name ?? price.plan} (at $${(price.unitAmount / 100).toFixed(2)} / ${price.interval})`,
    discount_amounts: [],
    discountable: true,
    discounts: [],
    invoice: i.id,
    livemode: false,
    metadata: {},
    period: { start: i.periodStart, end: i.periodEnd },
    pretax_credit_amounts: [],
    quantity: i.quantity,
    subscription: i.subscription,
    subtotal: i.amountDue,
    taxes: [],
  };
  const shaped: Pick<
    Stripe.Invoice,
    | "id"
    | "object"
    | "account_country"
    | "account_name"
    | "amount_due"
    | "amount_overpaid"
    | "amount_paid"
    | "amount_remaining"
    | "amount_shipping"
    | "attempt_count"
    | "attempted"
    | "billing_reason"
    | "collection_method"
    | "created"
    | "currency"
    | "customer_account"
    | "customer_email"
    | "customer_name"
    | "default_payment_method"
    | "default_source"
    | "description"
    | "discounts"
    | "due_date"
    | "effective_at"
    | "hosted_invoice_url"
    | "livemode"
    | "metadata"
    | "next_payment_attempt"
    | "number"
    | "parent"
    | "period_end"
    | "period_start"
    | "starting_balance"
    | "status"
    | "status_transitions"
    | "subtotal"
    | "total"
    | "webhooks_delivered_at"
  > = {
    id: i.id,
    object: "invoice",
    account_country: "US",
    account_name: "WhatsDeX (local Stripe)",
    amount_due: i.amountDue,
    amount_overpaid: 0,
    amount_paid: i.amountPaid,
    amount_remaining: remaining,
    amount_shipping: 0,
    attempt_count: i.attemptCount,
    attempted: i.attemptCount > 0,
    billing_reason: i.billingReason,
    collection_method: "charge_automatically",
    created: i.created,
    currency: "usd",
    customer_account: null,
    customer_email: customer?.email ?? null,
    customer_name: customer?.name ?? null,
    default_payment_method: null,
    default_source: null,
    description: null,
    discounts: [],
    due_date: null,
    effective_at: i.finalizedAt,
    hosted_invoice_url: `${state.origin}/invoice/${i.id}`,
    livemode: false,
    metadata: {},
    next_payment_attempt: i.nextPaymentAttempt,
    number: i.number,
    parent: {
      type: "subscription_details",
      quote_details: null,
      subscription_details: { metadata: { ...(subscription?.metadata ?? {}) }, subscription: i.subscription },
    },
    period_end: i.periodEnd,
    period_start: i.periodStart,
    starting_balance: 0,
    status: i.status,
    status_transitions: {
      finalized_at: i.finalizedAt,
      marked_uncollectible_at: i.status === "uncollectible" ? i.created : null,
      paid_at: i.paidAt,
      voided_at: null,
    },
    subtotal: i.amountDue,
    total: i.amountDue,
    webhooks_delivered_at: null,
  };
  return {
    ...shaped,
    customer: expand.has("customer") && customer ? renderCustomer(customer) : i.customer,
    lines: { object: "list" as const, data: [line], has_more: false, url: `/v1/invoices/${i.id}/lines` },
  };
}

export function renderCheckoutSession(state: LocalStripeState, c: CheckoutSessionRecord, expand: Expand = none) {
  const price = state.priceOf(c.price);
  const subscription = c.subscription ? state.subscriptions.get(c.subscription) : undefined;
  const invoice = c.invoice ? state.invoices.get(c.invoice) : undefined;
  const customer = state.customers.get(c.customer);
  const amount = c.trialDays > 0 ? 0 : price.unitAmount * c.quantity;
  const shaped: Pick<
    Stripe.Checkout.Session,
    | "id"
    | "object"
    | "allow_promotion_codes"
    | "amount_subtotal"
    | "amount_total"
    | "cancel_url"
    | "client_reference_id"
    | "client_secret"
    | "created"
    | "currency"
    | "customer_account"
    | "customer_email"
    | "expires_at"
    | "livemode"
    | "metadata"
    | "mode"
    | "payment_intent"
    | "payment_link"
    | "payment_method_types"
    | "payment_status"
    | "status"
    | "success_url"
    | "ui_mode"
    | "url"
  > = {
    id: c.id,
    object: "checkout.session",
    allow_promotion_codes: c.allowPromotionCodes,
    amount_subtotal: amount,
    amount_total: amount,
    cancel_url: c.cancelUrl,
    client_reference_id: c.clientReferenceId,
    client_secret: null,
    created: c.created,
    currency: "usd",
    customer_account: null,
    customer_email: c.customerEmail,
    expires_at: c.expiresAt,
    livemode: false,
    metadata: { ...c.metadata },
    mode: "subscription",
    payment_intent: null,
    payment_link: null,
    payment_method_types: ["card"],
    payment_status: c.status !== "complete" ? "unpaid" : amount === 0 ? "no_payment_required" : "paid",
    status: c.status,
    success_url: c.successUrl,
    ui_mode: "hosted",
    // Stripe drops the URL once the session is no longer open.
    url: c.status === "open" ? `${state.origin}/checkout/${c.id}` : null,
  };
  return {
    ...shaped,
    customer: expand.has("customer") && customer ? renderCustomer(customer) : c.customer,
    subscription:
      expand.has("subscription") && subscription
        ? renderSubscription(state, subscription, expandUnder(expand, "subscription"))
        : c.subscription,
    invoice: expand.has("invoice") && invoice ? renderInvoice(state, invoice) : c.invoice,
  };
}

export function renderPortalSession(
  state: LocalStripeState,
  p: PortalSessionRecord,
): Pick<
  Stripe.BillingPortal.Session,
  | "id"
  | "object"
  | "configuration"
  | "created"
  | "customer"
  | "customer_account"
  | "flow"
  | "livemode"
  | "locale"
  | "on_behalf_of"
  | "return_url"
  | "url"
> {
  return {
    id: p.id,
    object: "billing_portal.session",
    configuration: "bpc_local",
    created: p.created,
    customer: p.customer,
    customer_account: null,
    flow: null,
    livemode: false,
    locale: null,
    on_behalf_of: null,
    return_url: p.returnUrl,
    url: `${state.origin}/portal/${p.id}`,
  };
}

/** What each object may expand, so an unknown path is refused as Stripe refuses it. */
export const expandable = {
  price: ["product"],
  subscription: ["customer", "latest_invoice", "items.data.price.product"],
  invoice: ["customer"],
  checkoutSession: ["customer", "subscription", "invoice", "subscription.latest_invoice", "subscription.customer"],
  customer: [],
  portalSession: [],
} as const;
