import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { type LocalStripe, startLocalStripe, uniqueId } from "@whatsdex/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * `npm run stripe` as a developer runs it: the CLI in its own process against a local Stripe
 * started here, whose webhook events go to a receiver here that answers 200.
 */

const cli = fileURLToPath(new URL("../src/stripe/cli.ts", import.meta.url));
let local: LocalStripe;
let receiver: Server;
const received: string[] = [];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to its end (it stops by itself; only if it hangs is this child, by its pid, stopped). */
async function run(...args: string[]): Promise<Run> {
  const child = spawn(process.execPath, ["--conditions=@whatsdex/source", cli, ...args], {
    env: { ...process.env, STRIPE_LOCAL_URL: local.url },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const hung = setTimeout(() => {
    if (child.pid) process.kill(child.pid);
  }, 15_000);
  const [code] = (await once(child, "exit")) as [number | null];
  clearTimeout(hung);
  return { code, stdout, stderr };
}

async function subscribedTenant(): Promise<{ tenantId: string; subscription: string }> {
  const stripe = await local.client();
  const tenantId = uniqueId("tenant");
  const customer = await stripe.customers.create({ name: "CLI tenant", metadata: { tenantId } });
  const [price] = (await stripe.prices.list({ lookup_keys: ["whatsdex_business_month"] })).data;
  const session = await stripe.checkout.sessions.create({
    mode: "subscription",
    customer: customer.id,
    line_items: [{ price: price?.id ?? "", quantity: 1 }],
    success_url: "http://app.test/ok",
    subscription_data: { metadata: { tenantId } },
  });
  const { subscription } = local.completeCheckout(session.id);
  await local.idle();
  return { tenantId, subscription: subscription.id };
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      received.push(String(req.headers["stripe-signature"] ?? ""));
      res.writeHead(200).end();
    });
  });
  receiver.listen(0, "127.0.0.1");
  await once(receiver, "listening");
  local = await startLocalStripe({
    webhookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`,
    retryDelaysMs: [],
  });
});

afterAll(async () => {
  await local?.stop();
  receiver?.closeAllConnections();
  await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
});

describe("npm run stripe", () => {
  it("lists its actions with --help", async () => {
    const result = await run("--help");
    expect(result.code).toBe(0);
    for (const action of ["status", "renew", "fail", "pay", "action-required", "cancel", "end-period", "cancel-now"]) {
      expect(result.stdout).toContain(`  ${action} `);
    }
    expect(result.stdout).toContain("trial-will-end");
  });

  it("refuses an unknown action or tenant with exit code 2, saying which", async () => {
    const action = await run("explode", "t1");
    expect(action.code).toBe(2);
    expect(action.stderr).toContain('Unknown action "explode"');
    const tenant = await run("renew", "no-such-tenant");
    expect(tenant.code).toBe(2);
    expect(tenant.stderr).toContain('Unknown tenant "no-such-tenant"');
  });

  it("shows a tenant's subscription, renews it and fails its payment, naming the events sent", async () => {
    const { tenantId, subscription } = await subscribedTenant();
    const status = await run("status", tenantId);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`${subscription}  active  business monthly ($99.00/month)`);

    const renew = await run("renew", tenantId);
    expect(renew.code).toBe(0);
    expect(renew.stdout).toMatch(/customer\.subscription\.updated\s+evt_\w+\s+delivered \(200\)/);
    expect(renew.stdout).toMatch(/invoice\.paid\s+evt_\w+\s+delivered \(200\)/);

    const fail = await run("fail", tenantId);
    expect(fail.code).toBe(0);
    expect(fail.stdout).toContain("past_due");
    expect(fail.stdout).toContain("invoice.payment_failed");
    expect(local.subscriptions({ tenantId })[0]?.status).toBe("past_due");

    expect((await run("pay", tenantId)).code).toBe(0);
    const nothing = await run("pay", tenantId);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toContain("has no open invoice");

    const cancel = await run("cancel", tenantId);
    expect(cancel.stdout).toContain("then cancels");
    const end = await run("end-period", tenantId);
    expect(end.stdout).toContain("customer.subscription.deleted");
    expect(local.subscriptions({ tenantId })[0]?.status).toBe("canceled");
  });

  it("says so when no local Stripe is running", async () => {
    const result = await run("status", "t1", "--url", "http://127.0.0.1:9");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("No local Stripe answers at http://127.0.0.1:9");
  });
});
