/**
 * `npm run stripe -- <action> <tenantId>`: makes happen, on the local Stripe of `npm run dev`, what
 * Stripe does by itself to a tenant's subscription (a renewal, a failed payment, the end of a
 * period…), so every billing state can be walked offline. Each action sends the webhook events
 * Stripe would; the output names them and whether the webhook took them.
 *
 *   --url <url>            the local Stripe (default $STRIPE_LOCAL_URL, else http://127.0.0.1:12111)
 *   --subscription <id>    which subscription, when the tenant has had several (default: its current one)
 *
 * Exit codes: 0 done; 1 the local Stripe refused (say, `pay` with nothing to pay) or is not running;
 * 2 an unknown action or tenant.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import {
  type ControlAction,
  type ControlEvent,
  type ControlSubscription,
  LOCAL_STRIPE_DEV_PORT,
} from "@whatsdex/core/testing/stripe-control";
import { ControlRefused, ControlUnreachable, StripeControlClient } from "./control-client.ts";
import { describeCustomer, describeEvent, describeSubscription } from "./format.ts";

/** The CLI's words for the control actions, with what each one is. */
const actions: Record<string, { action: ControlAction | null; help: string }> = {
  status: { action: null, help: "the tenant's customer, subscriptions and latest invoice" },
  renew: { action: "renew", help: "the next period, paid (invoice.paid)" },
  fail: { action: "fail-payment", help: "the renewal's payment fails: past_due (or another failed attempt)" },
  pay: { action: "pay", help: "the open invoice is paid: active again" },
  "action-required": { action: "require-action", help: "the renewal needs the customer (3-D Secure): past_due" },
  cancel: { action: "cancel-at-period-end", help: "cancel at the end of the period" },
  "end-period": { action: "end-period", help: "the period ends: canceled if scheduled, else renewed" },
  "cancel-now": { action: "cancel-now", help: "cancel at once" },
  "trial-will-end": { action: "trial-will-end", help: "Stripe's notice three days before a trial ends" },
  pause: { action: "pause", help: "paused" },
  resume: { action: "resume", help: "resumed, with a new period billed now" },
  unpaid: { action: "unpaid", help: "Stripe gave up retrying a past_due invoice: unpaid" },
};

const usage = `Usage: npm run stripe -- <action> <tenantId> [--subscription <id>] [--url <url>]

Actions:
${Object.entries(actions)
  .map(([name, { help }]) => `  ${name.padEnd(16)} ${help}`)
  .join("\n")}

Talks to the local Stripe of npm run dev (STRIPE_LOCAL_URL, default http://127.0.0.1:${LOCAL_STRIPE_DEV_PORT}).
`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: "string" },
      subscription: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const [name, tenantId, ...extra] = positionals;
  if (!name) throw new UsageError("Name an action.");
  const entry = Object.hasOwn(actions, name) ? actions[name] : undefined;
  if (!entry) throw new UsageError(`Unknown action "${name}".`);
  if (!tenantId) throw new UsageError(`${name} needs a tenant id.`);
  if (extra.length > 0) throw new UsageError(`Unexpected arguments: ${extra.join(" ")}`);

  const url = values.url ?? process.env.STRIPE_LOCAL_URL ?? `http://127.0.0.1:${LOCAL_STRIPE_DEV_PORT}`;
  const client = new StripeControlClient(url);
  const subscriptions = await client.subscriptions(tenantId);
  const customers = await client.customers(tenantId);
  if (subscriptions.length === 0 && customers.length === 0) {
    throw new UsageError(
      `Unknown tenant "${tenantId}": the local Stripe at ${url} has no customer or subscription with metadata.tenantId=${tenantId}.`,
    );
  }

  if (entry.action === null) {
    for (const customer of customers) process.stdout.write(`${describeCustomer(customer)}\n`);
    if (subscriptions.length === 0) process.stdout.write("no subscription yet: subscribe through the checkout page\n");
    for (const subscription of subscriptions) process.stdout.write(`${describeSubscription(subscription)}\n`);
    return 0;
  }

  const subscription = pick(subscriptions, values.subscription, tenantId);
  const result = await client.act(subscription.id, entry.action);
  const { events, webhookUrl } = await settled(client, result.events);
  process.stdout.write(`${name}: ${describeSubscription(result.subscription)}\n`);
  process.stdout.write(
    events.length === 0 ? "No events sent.\n" : `Events sent:\n${events.map(describeEvent).join("\n")}\n`,
  );
  if (events.length > 0 && !webhookUrl) {
    process.stdout.write("The local Stripe has no webhook URL yet: the events wait until npm run dev sets one.\n");
  }
  return 0;
}

/** The subscription asked for, else the tenant's current one (the newest not canceled), else its newest. */
function pick(subscriptions: ControlSubscription[], id: string | undefined, tenantId: string): ControlSubscription {
  if (id) {
    const chosen = subscriptions.find((s) => s.id === id);
    if (!chosen) throw new UsageError(`Tenant "${tenantId}" has no subscription ${id}.`);
    return chosen;
  }
  const current = subscriptions.find((s) => s.status !== "canceled") ?? subscriptions[0];
  if (!current) {
    throw new ControlRefused(409, `Tenant "${tenantId}" has no subscription yet: subscribe through the checkout page.`);
  }
  return current;
}

/** The events as delivery left them: waits a little (polling) for the webhook to answer each. */
async function settled(
  client: StripeControlClient,
  sent: ControlEvent[],
): Promise<{ events: ControlEvent[]; webhookUrl: string | null }> {
  const ids = new Set(sent.map((e) => e.id));
  const deadline = Date.now() + 5_000;
  for (;;) {
    const { data, webhookUrl } = await client.events();
    const events = data.filter((e) => ids.has(e.id));
    // Without a webhook URL nothing will be delivered: no point waiting.
    if (!webhookUrl || events.every((e) => e.state !== "pending") || Date.now() > deadline) {
      return { events, webhookUrl };
    }
    await sleep(100);
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError) {
    process.stderr.write(`${error.message}\n\n${usage}`);
    process.exitCode = 2;
  } else if (error instanceof ControlRefused || error instanceof ControlUnreachable) {
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 1;
  } else if (error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS")) {
    process.stderr.write(`${error.message}\n\n${usage}`);
    process.exitCode = 2;
  } else {
    throw error;
  }
}
