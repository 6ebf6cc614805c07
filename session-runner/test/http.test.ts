import { createLogger, startTracing, type Tracing } from "@whatsdex/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Runner, startRunner } from "../src/http/server.ts";

let tracing: Tracing;
let runner: Runner;
beforeAll(async () => {
  tracing = await startTracing({ serviceName: "runner-test", version: "1.0.0", exporter: "memory" });
  runner = await startRunner({
    logger: createLogger({ level: "silent", service: "session-runner", version: "1.0.0" }),
    tracing,
    version: "1.0.0",
    instanceId: "runner-test-1",
    host: "127.0.0.1",
    port: 0,
    shutdownGraceMs: 2_000,
  });
});
afterAll(() => runner.stop("test over"));

describe("session-runner HTTP", () => {
  it("GET /healthz reports serving, version and instance", async () => {
    const response = await fetch(`${runner.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "serving", version: "1.0.0", instanceId: "runner-test-1" });
  });

  it("GET /metrics serves Prometheus text with process and HTTP metrics", async () => {
    await fetch(`${runner.url}/healthz`);
    await fetch(`${runner.url}/no-such-page`);
    const response = await fetch(`${runner.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/plain");
    const text = await response.text();
    expect(text).toContain("# TYPE process_cpu_seconds_total counter");
    expect(text).toMatch(/http_requests_total\{method="GET",route="\/healthz",status="200",service="session-runner"/);
    expect(text).toMatch(/http_requests_total\{method="GET",route="unmatched",status="404"/);
    expect(text).toContain('instance="runner-test-1"');
  });
});
