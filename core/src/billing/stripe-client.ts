import type Stripe from "stripe";

/**
 * The Stripe API version every request and every webhook endpoint uses, pinned so that an SDK
 * upgrade cannot silently change the shape of what we read (periods moved to subscription items in
 * 2025-03-31.basil; invoices name their subscription under `parent`). Raise it deliberately, with the
 * webhook endpoint's version in the Stripe dashboard.
 */
export const STRIPE_API_VERSION = "2026-11-18.endive" as const satisfies Stripe.LatestApiVersion;

export type StripeClient = Stripe;

export interface StripeClientOptions {
  secretKey: string;
  /** Another Stripe API (the local one in development and tests): `http://127.0.0.1:12111`. */
  apiUrl?: string | undefined;
  /** Retries of idempotent-safe requests on network failures and 409/429/5xx (the SDK adds idempotency keys). */
  maxNetworkRetries?: number;
  timeoutMs?: number;
}

/**
 * The one way a deployable builds its Stripe client (its composition root calls this once). The SDK
 * is loaded here, on first use, not when the functions' entry is imported: every function's cold
 * start would pay for it otherwise (functions/test/deploy-artifact.test.ts).
 */
export async function createStripeClient(options: StripeClientOptions): Promise<StripeClient> {
  const { default: Stripe } = await import("stripe");
  const endpoint = options.apiUrl ? new URL(options.apiUrl) : undefined;
  return new Stripe(options.secretKey, {
    apiVersion: STRIPE_API_VERSION,
    maxNetworkRetries: options.maxNetworkRetries ?? 2,
    timeout: options.timeoutMs ?? 20_000,
    telemetry: false,
    appInfo: { name: "WhatsDeX" },
    ...(endpoint && {
      host: endpoint.hostname,
      port: endpoint.port || (endpoint.protocol === "https:" ? 443 : 80),
      protocol: endpoint.protocol === "https:" ? "https" : "http",
    }),
  });
}
