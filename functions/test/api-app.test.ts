import { Firestore } from "@google-cloud/firestore";
import { createLogger, MediaStore, type Tracing } from "@whatsdex/core";
import { type CapturedLogs, testBucket } from "@whatsdex/core/testing";
import { getAuth } from "firebase-admin/auth";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createApiApp } from "../src/http/app.ts";
import { createApiServices } from "../src/services.ts";
import { unconfiguredWebhookQueue } from "../src/webhooks/queue.ts";
import { roomyRateLimits, serveApi, startTestApi, TEST_PEPPER, type TestApi } from "./support/test-api.ts";

let api: TestApi;
let tracing: Tracing;
let logs: CapturedLogs;
beforeAll(async () => {
  api = await startTestApi({ bodyLimitBytes: 1_024 });
  ({ tracing, logs } = api);
});
beforeEach(() => tracing.memoryExporter?.reset());
afterAll(() => api.close());

describe("api app", () => {
  it("GET /v1/healthz reports the version and a reachable Firestore", async () => {
    const response = await fetch(`${api.url}/v1/healthz`);
    expect(response.status).toBe(200);
    expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(await response.json()).toMatchObject({
      status: "ok",
      version: "9.9.9",
      firestore: { reachable: true, latencyMs: expect.any(Number) },
    });
  });

  it("traces each request with its route and status, continuing the caller's trace", async () => {
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    await fetch(`${api.url}/v1/healthz`, {
      headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01`, "x-request-id": "req-123" },
    });
    const span = tracing.memoryExporter?.getFinishedSpans().find((s) => s.name === "GET /v1/healthz");
    expect(span?.spanContext().traceId).toBe(traceId);
    expect(span?.attributes).toMatchObject({ "http.route": "/v1/healthz", "http.response.status_code": 200 });
    const line = logs.lines().find((l) => l.requestId === "req-123");
    expect(line?.["logging.googleapis.com/trace"]).toBe(traceId);
  });

  it("answers an unknown route with a problem+json 404", async () => {
    const response = await fetch(`${api.url}/v1/nope?secret=1`);
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toContain("application/problem+json");
    expect(await response.json()).toMatchObject({
      type: "urn:whatsdex:problem:not_found",
      status: 404,
      code: "not_found",
      instance: "/v1/nope",
    });
  });

  it("rejects malformed and oversized JSON bodies with named problems", async () => {
    const post = (body: string) =>
      fetch(`${api.url}/v1/healthz`, { method: "POST", headers: { "content-type": "application/json" }, body });
    const malformed = await post("{not json");
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({
      code: "validation_failed",
      detail: "The request body is not valid JSON.",
    });
    const oversized = await post(JSON.stringify({ text: "x".repeat(2_000) }));
    expect(oversized.status).toBe(413);
    expect(await oversized.json()).toMatchObject({ code: "payload_too_large" });
  });

  it("reports 503 when Firestore does not answer", async () => {
    // A Firestore client aimed at a closed port (the emulator variable wins over settings, so it is
    // swapped while the client is built): the probe must give up after its timeout, not hang.
    const previous = process.env.FIRESTORE_EMULATOR_HOST;
    process.env.FIRESTORE_EMULATOR_HOST = "127.0.0.1:1";
    const deadFirestore = new Firestore({ projectId: "demo-whatsdex" });
    process.env.FIRESTORE_EMULATOR_HOST = previous;
    const logger = createLogger({ level: "silent", service: "functions", version: "9.9.9" });
    const broken = await serveApi(
      createApiApp({
        logger,
        tracer: tracing.tracer,
        version: "9.9.9",
        firestore: deadFirestore,
        services: createApiServices({
          firestore: deadFirestore,
          auth: getAuth(api.firebase.app),
          logger,
          apiKeyPepper: TEST_PEPPER,
          allowSimulator: true,
          accessCacheTtlMs: 0,
          allowPrivateWebhookTargets: false,
          webhookQueue: unconfiguredWebhookQueue(["REDIS_URL"]),
          media: new MediaStore(testBucket()),
        }),
        healthFirestoreTimeoutMs: 300,
        bodyLimitBytes: 1_024,
        rateLimits: roomyRateLimits,
      }),
    );
    try {
      const response = await fetch(`${broken.url}/v1/healthz`);
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ status: "unavailable", firestore: { reachable: false } });
    } finally {
      await broken.close();
      await deadFirestore.terminate(); // waits out the client's retries of the abandoned read (~7 s)
    }
  });
});
