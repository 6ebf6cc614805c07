import {
  createLogger,
  type FetchMedia,
  MediaStore,
  type StripeClient,
  startTracing,
  type Tracing,
} from "@whatsdex/core";
import { JobQueue, queueNames, webhookJobs } from "@whatsdex/core/jobs";
import { bullmqTransport } from "@whatsdex/core/jobs/bullmq";
import { type CapturedLogs, captureLogs, requireEnv, testBucket, testFirebase, uniqueId } from "@whatsdex/core/testing";
import express, { type Express } from "express";
import { getAuth } from "firebase-admin/auth";
import { afterEach } from "vitest";
import { z } from "zod";
import { createApiApp, type RateLimitOptions } from "../../src/http/app.ts";
import { createApiServices } from "../../src/services.ts";
import { unconfiguredWebhookQueue } from "../../src/webhooks/queue.ts";
import { serve } from "../serve.ts";
import {
  ConformanceLog,
  checkingResponses,
  publishedDocument,
  type ResponseValidator,
  responseValidator,
} from "./openapi-conformance.ts";

/**
 * Every response of every test API is checked against the published OpenAPI document; a test
 * whose requests got an undocumented status, content type, field or missing header fails here,
 * whatever it asserted itself. (Hooks exist only under Vitest; the benchmarks import this file too.)
 */
const conformance = new ConformanceLog();
let validator: ResponseValidator | undefined;
if (process.env.VITEST) afterEach(() => failOnViolations("in this test"));

function failOnViolations(when: string): void {
  const violations = conformance.take();
  if (violations.length > 0) {
    throw new Error(`Responses outside the OpenAPI document ${when}:\n${violations.join("\n")}`);
  }
}

export interface TestApi {
  url: string;
  firebase: ReturnType<typeof testFirebase>;
  tracing: Tracing;
  logs: CapturedLogs;
  /** BullMQ's key prefix of the queues this API adds jobs to (a worker with it runs them). */
  bullmqPrefix: string;
  close(): Promise<void>;
}

export const TEST_PEPPER = "test-pepper-0123456789-0123456789-abcdef";

/** The real API app, over HTTP on a free port, wired to the Firestore and Auth emulators. */
export async function startTestApi(
  options: {
    bodyLimitBytes?: number;
    /**
     * As the Cloud Functions runtime does: the body is read before the app sees it and kept in
     * `req.rawBody` (multipart only here, which the platform leaves unparsed).
     */
    platformReadsBody?: boolean;
    accessCacheTtlMs?: number;
    traceExporter?: "memory" | "none";
    /** How sends fetch media from URLs (absent: such sends are refused as unavailable). */
    fetchMedia?: FetchMedia;
    /** Budgets other than `roomyRateLimits` (the rate limit tests use the plan catalog's). */
    rateLimits?: Partial<RateLimitOptions>;
    /** As WEBHOOKS_ALLOW_PRIVATE_TARGETS=true (local development); off, as in production, by default. */
    allowPrivateWebhookTargets?: boolean;
    /** As an API without the job queue's settings: webhook tests and replays answer 503. */
    withoutWebhookQueue?: boolean;
    /** The Stripe the billing routes call (the local one); absent, as without STRIPE_SECRET_KEY. */
    stripe?: StripeClient;
  } = {},
): Promise<TestApi> {
  requireEnv("FIREBASE_AUTH_EMULATOR_HOST");
  // The session-runner's `webhooks` queue on the test Redis, under a prefix of this API's own.
  const bullmqPrefix = uniqueId("api");
  const webhookQueue = options.withoutWebhookQueue
    ? unconfiguredWebhookQueue(["REDIS_URL"])
    : new JobQueue({
        name: queueNames.webhooks,
        definitions: webhookJobs,
        transport: bullmqTransport({
          redisUrl: requireEnv("REDIS_URL"),
          queue: queueNames.webhooks,
          prefix: bullmqPrefix,
        }),
      });
  const firebase = testFirebase();
  const logs = captureLogs();
  const tracing = await startTracing({
    serviceName: "api-test",
    version: "9.9.9",
    exporter: options.traceExporter ?? "memory",
  });
  const logger = createLogger({ level: "info", service: "functions", version: "9.9.9", destination: logs.stream });
  const services = createApiServices({
    firestore: firebase.firestore,
    auth: getAuth(firebase.app),
    logger,
    apiKeyPepper: TEST_PEPPER,
    allowSimulator: true,
    accessCacheTtlMs: options.accessCacheTtlMs ?? 10_000,
    allowPrivateWebhookTargets: options.allowPrivateWebhookTargets ?? false,
    webhookQueue,
    media: new MediaStore(testBucket()),
    ...(options.fetchMedia ? { fetchMedia: options.fetchMedia } : {}),
    ...(options.stripe ? { stripe: options.stripe, billingReturnUrl: "http://127.0.0.1:5000/billing" } : {}),
  });
  const app = createApiApp({
    logger,
    tracer: tracing.tracer,
    version: "9.9.9",
    firestore: firebase.firestore,
    services,
    healthFirestoreTimeoutMs: 5_000,
    bodyLimitBytes: options.bodyLimitBytes ?? 102_400,
    rateLimits: options.rateLimits ?? roomyRateLimits,
  });
  const server = await serveApi(options.platformReadsBody ? readBodyFirst(app) : app);
  return {
    url: server.url,
    firebase,
    tracing,
    logs,
    bullmqPrefix,
    async close() {
      await server.close();
      await webhookQueue.close();
      await tracing.shutdown();
      await firebase.close();
      // Requests made outside a test (in beforeAll) are checked too.
      failOnViolations("outside a test");
    },
  };
}

/** The app behind what the Cloud Functions runtime does to a request before our code runs. */
function readBodyFirst(app: Express): Express {
  const platform = express();
  platform.use(
    express.raw({
      type: "multipart/form-data",
      limit: "32mb",
      verify: (req, _res, buffer) => Reflect.set(req, "rawBody", buffer),
    }),
  );
  platform.use(app);
  return platform;
}

/** Serves an API app with every response checked against the OpenAPI document (see above). */
export function serveApi(app: Express): ReturnType<typeof serve> {
  validator ??= responseValidator(publishedDocument("9.9.9"));
  return serve(checkingResponses(app, validator, conformance));
}

/**
 * Budgets no functional test reaches: every test file sends all its requests from one address and
 * a few users, far faster than any client should. The limiter still runs (and sets its headers).
 */
const roomyBudget = { burst: 1_000_000, perSecond: 1_000_000 };
export const roomyRateLimits: Partial<RateLimitOptions> = {
  policy: { address: roomyBudget, forPlan: () => ({ apiKey: roomyBudget, user: roomyBudget }) },
};

export interface TestUser {
  uid: string;
  email: string;
  idToken: string;
}

const signUpResponse = z.object({ localId: z.string(), idToken: z.string() });

/** A new account in the Auth emulator, signed in: its ID token is a real emulator-issued token. */
export async function signUp(): Promise<TestUser> {
  const host = requireEnv("FIREBASE_AUTH_EMULATOR_HOST");
  const email = `${uniqueId("user")}@example.test`;
  const response = await fetch(`http://${host}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=emulator`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password: "correct-horse-battery", returnSecureToken: true }),
  });
  if (!response.ok) throw new Error(`Auth emulator sign-up failed: ${response.status} ${await response.text()}`);
  const body = signUpResponse.parse(await response.json());
  return { uid: body.localId, email, idToken: body.idToken };
}

export type Credential = { token: string } | { apiKey: string } | undefined;

export interface ApiResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON (or the text); read it through a schema: `tenantSchema.parse(response.body)`. */
  body: unknown;
}

/** A small HTTP client for the API under test. */
export function client(baseUrl: string) {
  async function call(
    method: string,
    path: string,
    credential: Credential,
    body?: unknown,
    extraHeaders: Record<string, string> = {},
  ): Promise<ApiResponse> {
    const headers: Record<string, string> = { ...extraHeaders };
    if (credential && "token" in credential) headers.authorization = `Bearer ${credential.token}`;
    if (credential && "apiKey" in credential) headers["x-api-key"] = credential.apiKey;
    let payload: string | undefined;
    if (body !== undefined) {
      headers["content-type"] ??= "application/json";
      payload = typeof body === "string" ? body : JSON.stringify(body);
    }
    const response = await fetch(`${baseUrl}/v1${path}`, {
      method,
      headers,
      ...(payload === undefined ? {} : { body: payload }),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON (the docs page): keep the text.
    }
    return { status: response.status, headers: response.headers, body: parsed };
  }
  return {
    call,
    get: (path: string, credential: Credential) => call("GET", path, credential),
    post: (path: string, credential: Credential, body?: unknown, headers?: Record<string, string>) =>
      call("POST", path, credential, body, headers),
    patch: (path: string, credential: Credential, body?: unknown) => call("PATCH", path, credential, body),
    delete: (path: string, credential: Credential) => call("DELETE", path, credential),
  };
}
