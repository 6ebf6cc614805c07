import {
  baseEnvSchema,
  defaultTraceExporter,
  deployedBy,
  failClosedWhenDeployed,
  projectIdFrom,
  type TraceExporterKind,
} from "@whatsdex/core";
import { z } from "zod";

/** Only for the emulators and tests: production must set its own (Secret Manager). */
const DEVELOPMENT_PEPPER = "whatsdex-development-pepper-not-for-production";

export const functionsEnvSchema = baseEnvSchema
  .extend({
    /** Set by the Functions emulator; traces then never leave the machine. */
    FUNCTIONS_EMULATOR: z.enum(["true", "false"]).optional(),
    HEALTH_FIRESTORE_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(2_000),
    /** Largest JSON body the API accepts, in bytes. */
    API_BODY_LIMIT_BYTES: z.coerce.number().int().min(1_024).max(10_485_760).default(102_400),
    /** Keyed hash of API key secrets; changing it invalidates every key. */
    API_KEY_PEPPER: z.string().min(32, "must be at least 32 characters").optional(),
    /** How long an instance reuses a verified ID token, a member's role or an API key it read; revocations reach other instances within it. */
    ACCESS_CACHE_TTL_MS: z.coerce.number().int().min(0).max(300_000).default(10_000),
    /** Lets tenants create bots on the in-process WhatsApp simulator (development only). */
    ALLOW_SIMULATOR: z.enum(["true", "false"]).optional(),
    /** Webhook URLs may be http or name this machine or a private network (local development only). */
    WEBHOOKS_ALLOW_PRIVATE_TARGETS: z.enum(["true", "false"]).default("false"),
    /** Where the API queues webhook deliveries (tests, replays): BullMQ on Redis, or Cloud Tasks. */
    JOBS_DRIVER: z.enum(["bullmq", "cloudtasks"]).optional(),
    REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
    /** BullMQ's key prefix; the same as the session-runner's, so its workers see these jobs. */
    BULLMQ_PREFIX: z
      .string()
      .regex(/^[\w-]{1,64}$/)
      .default("whatsdex"),
    CLOUD_TASKS_LOCATION: z.string().min(1).optional(),
    CLOUD_TASKS_QUEUE_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9-]{1,60}$/)
      .default("whatsdex"),
    /** The identity Cloud Tasks signs delivery requests as (the session-runner accepts no other). */
    CLOUD_TASKS_SERVICE_ACCOUNT: z.email().optional(),
    /** The session-runner's URL: webhook jobs are delivered to `<url>/tasks/webhooks`, the OIDC audience. */
    TASKS_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
    /** Stripe's secret API key (`sk_live_…`/`sk_test_…`, or a restricted `rk_…`); a Secret Manager secret in production. */
    STRIPE_SECRET_KEY: z
      .string()
      .regex(/^(sk|rk)_(live|test)_\w+$/, "must be a Stripe secret key (sk_live_…, sk_test_… or rk_…)")
      .optional(),
    /** The Stripe webhook endpoint's signing secret (`whsec_…`); a Secret Manager secret in production. */
    STRIPE_WEBHOOK_SECRET: z
      .string()
      .regex(/^whsec_\w+$/, "must be a webhook signing secret (whsec_…)")
      .optional(),
    /** Another Stripe API to call instead of api.stripe.com: the local one (development and tests only). */
    STRIPE_API_URL: z.url({ protocol: /^https?$/ }).optional(),
    /** Where Stripe's Checkout and customer portal send the customer back: the dashboard's billing page. */
    BILLING_RETURN_URL: z.url({ protocol: /^https?$/ }).optional(),
    /** Days outbound sending keeps working after a subscription payment fails, before it is paused until paid. */
    BILLING_GRACE_DAYS: z.coerce.number().int().min(0).max(60).default(7),
  })
  .superRefine((env, ctx) => {
    failClosedWhenDeployed(env, ctx, {
      required: {
        API_KEY_PEPPER: { value: env.API_KEY_PEPPER, what: "keys the hash of API keys" },
        MEDIA_BUCKET: { value: env.MEDIA_BUCKET, what: "names the bucket media is kept in" },
        STRIPE_SECRET_KEY: { value: env.STRIPE_SECRET_KEY, what: "lets the API start checkouts and portals" },
        STRIPE_WEBHOOK_SECRET: { value: env.STRIPE_WEBHOOK_SECRET, what: "verifies Stripe's webhook requests" },
        BILLING_RETURN_URL: { value: env.BILLING_RETURN_URL, what: "is where customers return from Stripe" },
      },
      refused: {
        STRIPE_API_URL: env.STRIPE_API_URL !== undefined,
        ALLOW_SIMULATOR: env.ALLOW_SIMULATOR === "true",
        WEBHOOKS_ALLOW_PRIVATE_TARGETS: env.WEBHOOKS_ALLOW_PRIVATE_TARGETS === "true",
      },
    });
    // Deployed, the check above has said so already.
    if (env.NODE_ENV === "production" && !env.API_KEY_PEPPER && !deployedBy(env)) {
      ctx.addIssue({ code: "custom", path: ["API_KEY_PEPPER"], message: "is required in production" });
    }
  });

/** Locally, customers come back to the dashboard's development server. */
export function billingReturnUrl(env: FunctionsEnv): string {
  return env.BILLING_RETURN_URL ?? "http://127.0.0.1:5000/billing";
}

export function apiKeyPepper(env: FunctionsEnv): string {
  return env.API_KEY_PEPPER ?? DEVELOPMENT_PEPPER;
}

export function allowSimulator(env: FunctionsEnv): boolean {
  return env.ALLOW_SIMULATOR ? env.ALLOW_SIMULATOR === "true" : env.NODE_ENV !== "production";
}

export type FunctionsEnv = z.output<typeof functionsEnvSchema>;

/** Cloud Tasks in production, BullMQ everywhere else, unless JOBS_DRIVER says otherwise (as in the runner). */
export function jobsDriver(env: FunctionsEnv): "bullmq" | "cloudtasks" {
  return env.JOBS_DRIVER ?? (env.NODE_ENV === "production" ? "cloudtasks" : "bullmq");
}

/**
 * The settings the driver needs that are not set. The API starts without them (everything but
 * webhook tests and replays works), and those answer 503 naming them.
 */
export function missingJobsSettings(env: FunctionsEnv): string[] {
  if (jobsDriver(env) === "bullmq") return env.REDIS_URL ? [] : ["REDIS_URL"];
  const needed = {
    CLOUD_TASKS_LOCATION: env.CLOUD_TASKS_LOCATION,
    CLOUD_TASKS_SERVICE_ACCOUNT: env.CLOUD_TASKS_SERVICE_ACCOUNT,
    TASKS_BASE_URL: env.TASKS_BASE_URL,
  };
  return Object.entries(needed)
    .filter(([, value]) => !value)
    .map(([name]) => name);
}

export function traceExporterFor(env: FunctionsEnv): TraceExporterKind {
  if (env.TRACE_EXPORTER) return env.TRACE_EXPORTER;
  if (env.FUNCTIONS_EMULATOR === "true") return "none";
  return defaultTraceExporter(env.NODE_ENV);
}

export function projectIdOf(env: FunctionsEnv): string {
  const projectId = projectIdFrom(env);
  // Cloud Functions and the emulator always set GCLOUD_PROJECT; without it nothing can be reached.
  if (!projectId) throw new Error("GCLOUD_PROJECT (or GOOGLE_CLOUD_PROJECT) is not set");
  return projectId;
}
