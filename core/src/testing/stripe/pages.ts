import type {
  CheckoutSessionRecord,
  InvoiceRecord,
  LocalStripeState,
  PortalSessionRecord,
  PriceRecord,
  SubscriptionRecord,
} from "./state.ts";

/**
 * The hosted pages a customer would see on Stripe, as plain server-rendered HTML with no outside
 * assets: checkout (Pay / Cancel), the customer portal (switch plan, cancel at period end, keep the
 * subscription, return) and an invoice (Pay). Every action is a form POST; every value is escaped.
 */

const STYLE = `
body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
h1{font-size:1.4rem}.muted{color:#555}.box{border:1px solid #ccc;border-radius:8px;padding:1rem;margin:1rem 0}
button{font:inherit;padding:.5rem 1rem;border-radius:6px;border:1px solid #635bff;background:#635bff;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#635bff}form{display:inline-block;margin:.25rem .5rem .25rem 0}
:focus-visible{outline:3px solid #0a58ca;outline-offset:2px}.banner{background:#fff8e1;padding:.5rem 1rem;border-radius:6px}
`;

export function escapeHtml(value: string): string {
  return value
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)} · local Stripe</title><style>${STYLE}</style></head>
<body><main aria-labelledby="title"><h1 id="title">${escapeHtml(title)}</h1>
<p class="muted">Local Stripe for development: no card is charged, nothing leaves this machine.</p>
${body}</main></body></html>`;
}

function money(cents: number): string {
  return `$${(cents / 100).toFixed(2)}`;
}

function day(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 10);
}

function planLabel(state: LocalStripeState, price: PriceRecord): string {
  const product = state.products.get(price.product)?.name ?? price.plan;
  return `${product}, ${price.interval === "year" ? "yearly" : "monthly"}`;
}

function button(action: string, label: string, fields: Record<string, string> = {}, secondary = false): string {
  const hidden = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join("");
  return `<form method="post" action="${escapeHtml(action)}">${hidden}<button type="submit"${secondary ? ' class="secondary"' : ""}>${escapeHtml(label)}</button></form>`;
}

export function checkoutPage(state: LocalStripeState, session: CheckoutSessionRecord, now: number): string {
  const price = state.priceOf(session.price);
  const customer = state.customers.get(session.customer);
  if (session.status === "complete") {
    return page(
      "Checkout complete",
      `<p>This checkout session is already paid.</p><p><a href="${escapeHtml(successUrl(session))}">Continue</a></p>`,
    );
  }
  if (session.status === "expired" || session.expiresAt <= now) {
    const back = session.cancelUrl ? `<p><a href="${escapeHtml(session.cancelUrl)}">Go back</a></p>` : "";
    return page("Checkout expired", `<p>This checkout session has expired.</p>${back}`);
  }
  const trial =
    session.trialDays > 0
      ? `<p>${session.trialDays}-day free trial, then ${money(price.unitAmount * session.quantity)} per ${price.interval}.</p>`
      : "";
  const cancel = session.cancelUrl ? ` <a href="${escapeHtml(session.cancelUrl)}">Cancel</a>` : "";
  return page(
    "Subscribe",
    `<section class="box" aria-label="Order summary">
<p><strong>${escapeHtml(planLabel(state, price))}</strong></p>
<p>${money(price.unitAmount * session.quantity)} per ${price.interval}</p>${trial}
<p class="muted">Billed to ${escapeHtml(customer?.email ?? customer?.name ?? session.customer)}</p>
</section>
${button(`/checkout/${session.id}/pay`, session.trialDays > 0 ? "Start trial" : "Pay")}${cancel}`,
  );
}

export function successUrl(session: CheckoutSessionRecord): string {
  return session.successUrl.replaceAll("{CHECKOUT_SESSION_ID}", session.id);
}

/** The customer's subscription the portal manages: the newest one not canceled, else the newest. */
export function portalSubscription(state: LocalStripeState, customer: string): SubscriptionRecord | undefined {
  const mine = [...state.subscriptions.values()]
    .reverse()
    .filter((s) => s.customer === customer)
    .sort((a, b) => b.created - a.created);
  return mine.find((s) => s.status !== "canceled") ?? mine[0];
}

export function portalPage(state: LocalStripeState, portal: PortalSessionRecord, notice: string | null): string {
  const customer = state.customers.get(portal.customer);
  const back = portal.returnUrl ? `<p><a href="${escapeHtml(portal.returnUrl)}">Return</a></p>` : "";
  const banner = notice ? `<p class="banner" role="status">${escapeHtml(notice)}</p>` : "";
  const who = `<p class="muted">${escapeHtml(customer?.name ?? "")} ${escapeHtml(customer?.email ?? "")}</p>`;
  const subscription = portalSubscription(state, portal.customer);
  if (!subscription) return page("Billing", `${banner}${who}<p>No subscription.</p>${back}`);
  const price = state.priceOf(subscription.price);
  const action = (verb: string) => `/portal/${portal.id}/${verb}`;
  const fields = { subscription: subscription.id };
  let status = `<p>Status: <strong>${escapeHtml(subscription.status)}</strong></p>`;
  if (subscription.status === "trialing" && subscription.trialEnd) {
    status += `<p>Trial ends ${day(subscription.trialEnd)}.</p>`;
  }
  if (subscription.status === "canceled") {
    status += `<p>Ended ${day(subscription.endedAt ?? subscription.periodEnd)}.</p>`;
    return page("Billing", `${banner}${who}<section class="box" aria-label="Subscription">${status}</section>${back}`);
  }
  status += subscription.cancelAtPeriodEnd
    ? `<p>Cancels ${day(subscription.periodEnd)}.</p>`
    : `<p>Renews ${day(subscription.periodEnd)}.</p>`;
  const others = [...state.prices.values()]
    .filter((p) => p.active && p.id !== price.id)
    .sort((a, b) => a.unitAmount - b.unitAmount);
  const switches = others
    .map((p) =>
      button(
        action("switch"),
        `Switch to ${planLabel(state, p)} (${money(p.unitAmount)}/${p.interval})`,
        { ...fields, price: p.id },
        true,
      ),
    )
    .join("\n");
  const cancel = subscription.cancelAtPeriodEnd
    ? button(action("renew"), "Don't cancel", fields)
    : button(action("cancel"), "Cancel at period end", fields, true);
  const open = subscription.latestInvoice ? state.invoices.get(subscription.latestInvoice) : undefined;
  const due =
    open?.status === "open"
      ? `<p>Payment due: ${money(open.amountDue)}. <a href="/invoice/${escapeHtml(open.id)}">Pay invoice</a></p>`
      : "";
  return page(
    "Billing",
    `${banner}${who}<section class="box" aria-label="Subscription">
<p><strong>${escapeHtml(planLabel(state, price))}</strong>, ${money(price.unitAmount * subscription.quantity)} per ${price.interval}</p>
${status}${due}</section>
<section aria-label="Change plan"><h2>Change plan</h2>${switches}</section>
<section aria-label="Cancellation"><h2>Cancellation</h2>${cancel}</section>
${back}`,
  );
}

export function invoicePage(state: LocalStripeState, invoice: InvoiceRecord): string {
  const price = state.priceOf(invoice.price);
  const pay = invoice.status === "open" ? button(`/invoice/${invoice.id}/pay`, `Pay ${money(invoice.amountDue)}`) : "";
  return page(
    `Invoice ${invoice.number}`,
    `<section class="box" aria-label="Invoice">
<p>${escapeHtml(planLabel(state, price))}: ${day(invoice.periodStart)} to ${day(invoice.periodEnd)}</p>
<p>Amount: ${money(invoice.amountDue)}. Status: <strong>${escapeHtml(invoice.status)}</strong></p>
</section>${pay}`,
  );
}

export function messagePage(title: string, message: string): string {
  return page(title, `<p>${escapeHtml(message)}</p>`);
}
