import type { ControlCustomer, ControlEvent, ControlSubscription } from "@whatsdex/core/testing/stripe-control";

const day = (seconds: number) => new Date(seconds * 1000).toISOString().slice(0, 10);
const money = (cents: number) => `$${(cents / 100).toFixed(2)}`;

/** One subscription in a few lines: what the tenant pays for, and what happens next. */
export function describeSubscription(s: ControlSubscription): string {
  const lines = [`${s.id}  ${s.status}  ${s.plan} ${s.interval}ly (${money(s.amount)}/${s.interval})`];
  if (s.status === "canceled") {
    lines.push(`  ended; the period ran to ${day(s.currentPeriodEnd)}`);
  } else {
    lines.push(
      `  period ${day(s.currentPeriodStart)} to ${day(s.currentPeriodEnd)}${s.cancelAtPeriodEnd ? ", then cancels" : ""}`,
    );
  }
  if (s.status === "trialing" && s.trialEnd) lines.push(`  trial ends ${day(s.trialEnd)}`);
  const invoice = s.latestInvoice;
  if (invoice) {
    const retry = invoice.nextPaymentAttempt ? `, next attempt ${day(invoice.nextPaymentAttempt)}` : "";
    lines.push(`  latest invoice ${invoice.id}: ${invoice.status}, ${money(invoice.amountDue)}${retry}`);
  }
  return lines.join("\n");
}

export function describeCustomer(c: ControlCustomer): string {
  return `customer ${c.id}${c.name ? `  ${c.name}` : ""}${c.email ? `  <${c.email}>` : ""}`;
}

export function describeEvent(e: ControlEvent): string {
  const last = e.attempts.at(-1);
  const delivery =
    e.state === "delivered"
      ? `delivered (${last?.status ?? 200})`
      : e.state === "failed"
        ? `failed after ${e.attempts.length} attempts (${last?.error ?? `HTTP ${last?.status}`})`
        : last
          ? `retrying (last: ${last.error ?? `HTTP ${last.status}`})`
          : "queued";
  return `  ${e.type.padEnd(38)} ${e.id}  ${delivery}`;
}
