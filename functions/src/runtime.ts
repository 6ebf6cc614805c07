import {
  createFirebase,
  createLogger,
  createMediaBucket,
  deployedBy,
  type Firebase,
  fetchMediaFromUrl,
  type Logger,
  MediaStore,
  mediaBucketName,
  OutboundHttp,
  packageVersion,
  parseEnv,
  startTracing,
  type Tracing,
} from "@whatsdex/core";
import type { Express } from "express";
import { getAuth } from "firebase-admin/auth";
import {
  allowSimulator,
  apiKeyPepper,
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
  const services = createApiServices({
    firestore: firebase.firestore,
    auth: getAuth(firebase.app),
    logger,
    apiKeyPepper: apiKeyPepper(env),
    allowSimulator: allowSimulator(env),
    accessCacheTtlMs: env.ACCESS_CACHE_TTL_MS,
    allowPrivateWebhookTargets: env.WEBHOOKS_ALLOW_PRIVATE_TARGETS === "true",
    webhookQueue: createWebhookQueue(env, projectId),
    media,
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
  return { env, logger, tracing, firebase, media, api };
}
