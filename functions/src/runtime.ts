import {
  type CancelSubscription,
  createFirebase,
  createLogger,
  createMediaBucket,
  createRefs,
  createStripeClient,
  deployedBy,
  EventPublisher,
  type Firebase,
  fetchMediaFromUrl,
  type Logger,
  MediaStore,
  mediaBucketName,
  OutboundHttp,
  packageVersion,
  parseEnv,
  StripeWebhookHandler,
  SubscriptionSync,
  startTracing,
  type Tracing,
  webhookRefs,
} from "@whatsdex/core";
import type { Express, Request, Response } from "express";
import { getAuth } from "firebase-admin/auth";
import { stripeWebhookRequestHandler } from "./billing/stripe-webhook.ts";
import {
  allowSimulator,
  apiKeyPepper,
  billingReturnUrl,
  type FunctionsEnv,
  functionsEnvSchema,
  projectIdOf,
  traceExporterFor,
} from "./config.ts";
import { createApiApp } from "./http/app.ts";
import { createApiServices } from "./services.ts";
import { createWebhookQueue } from "./webhooks/queue.ts";

/** Everything the functions share in one instance, built on the first invocation (not at import). */
export interface Runtime {
  env: FunctionsEnv;
  logger: Logger;
  tracing: Tracing;
  firebase: Firebase;
  /** Media in Cloud Storage (uploads, sends' copies, received media). */
  media: MediaStore;
  api: Express;
  /** Stripe's events: verified, applied once each, in any order. */
  stripeWebhook: (req: Request, res: Response) => Promise<void>;
  /** Applies Stripe's state to tenants; its `restrictDue` is the grace period's sweep. */
  billingSync: SubscriptionSync;
  /** Ends a closing account's subscription at once (the closing's first step, ADR 23). */
  cancelSubscription: CancelSubscription;
}

let runtime: Promise<Runtime> | undefined;

// Fail closed (DESIGN decision 15): deployed, a configuration that lacks a production secret or asks
// for a development feature stops the cold start, so the revision never serves, instead of failing
// each request. Locally, in tests and under the Functions emulator it is parsed on first use.
if (deployedBy(process.env)) parseEnv(functionsEnvSchema, process.env);

/**
 * The composition root of the functions deployable. Importing the module builds nothing, so that
 * `firebase deploy` can list the exports without credentials and tests can import it freely.
 */
export function getRuntime(): Promise<Runtime> {
  runtime ??= buildRuntime(process.env);
  return runtime;
}

async function buildRuntime(rawEnv: NodeJS.ProcessEnv): Promise<Runtime> {
  // A bad variable fails every invocation with the full list of problems (logged by the platform).
  const env = parseEnv(functionsEnvSchema, rawEnv);
  const version = env.SERVICE_VERSION ?? packageVersion(import.meta.url);
  const projectId = projectIdOf(env);
  const logger = createLogger({ level: env.LOG_LEVEL, service: "functions", version, projectId });
  const tracing = await startTracing({
    serviceName: "whatsdex-functions",
    version,
    exporter: traceExporterFor(env),
    projectId,
    sampleRatio: env.TRACE_SAMPLE_RATIO,
  });
  const firebase = createFirebase({ projectId });
  const media = new MediaStore(
    createMediaBucket({
      projectId,
      bucketName: mediaBucketName(env, projectId),
      emulatorHost: env.STORAGE_EMULATOR_HOST,
    }),
  );
  const webhookQueue = createWebhookQueue(env, projectId);
  // One Stripe client for the deployable; absent, billing's calls answer 503 and the rest works.
  const stripe = env.STRIPE_SECRET_KEY
    ? await createStripeClient({ secretKey: env.STRIPE_SECRET_KEY, apiUrl: env.STRIPE_API_URL })
    : null;
  // One publisher for the deployable: the API's events and billing's share its cache of endpoints.
  const events = new EventPublisher({ refs: webhookRefs(firebase.firestore), queue: webhookQueue, logger });
  const billingSync = new SubscriptionSync({
    refs: createRefs(firebase.firestore),
    events,
    logger,
    graceMs: env.BILLING_GRACE_DAYS * 86_400_000,
  });
  const stripeWebhook = stripeWebhookRequestHandler(
    stripe && env.STRIPE_WEBHOOK_SECRET
      ? new StripeWebhookHandler({ stripe, webhookSecret: env.STRIPE_WEBHOOK_SECRET, sync: billingSync, logger })
      : null,
    logger,
  );
  const services = createApiServices({
    firestore: firebase.firestore,
    auth: getAuth(firebase.app),
    logger,
    apiKeyPepper: apiKeyPepper(env),
    allowSimulator: allowSimulator(env),
    accessCacheTtlMs: env.ACCESS_CACHE_TTL_MS,
    allowPrivateWebhookTargets: env.WEBHOOKS_ALLOW_PRIVATE_TARGETS === "true",
    webhookQueue,
    events,
    media,
    stripe,
    billingReturnUrl: billingReturnUrl(env),
    // Media named by URL is fetched once, through the SSRF guard (private targets and http: development only).
    fetchMedia: (url, kind) =>
      fetchMediaFromUrl(url, kind, {
        guard: new OutboundHttp({ allowPrivate: env.WEBHOOKS_ALLOW_PRIVATE_TARGETS === "true" }),
        allowHttp: env.WEBHOOKS_ALLOW_PRIVATE_TARGETS === "true",
      }),
  });
  const api = createApiApp({
    logger,
    tracer: tracing.tracer,
    version,
    firestore: firebase.firestore,
    services,
    healthFirestoreTimeoutMs: env.HEALTH_FIRESTORE_TIMEOUT_MS,
    bodyLimitBytes: env.API_BODY_LIMIT_BYTES,
  });
  const cancelSubscription: CancelSubscription = (tenantId, stripeIds) =>
    services.billing.cancelAll(tenantId, stripeIds);
  return { env, logger, tracing, firebase, media, api, stripeWebhook, billingSync, cancelSubscription };
}
