import { context, propagation, SpanStatusCode } from "@opentelemetry/api";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { inSpan, startTracing, type Tracing } from "../src/index.ts";

let tracing: Tracing;
beforeAll(async () => {
  tracing = await startTracing({ serviceName: "tracing-test", version: "0.0.1", exporter: "memory" });
});
beforeEach(() => tracing.memoryExporter?.reset());
afterAll(() => tracing.shutdown());

const spans = () => tracing.memoryExporter?.getFinishedSpans() ?? [];

describe("tracing", () => {
  it("records spans with the service resource and nests children across awaits", async () => {
    await inSpan(tracing.tracer, "parent", { "whatsdex.tenant_id": "t1" }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      await inSpan(tracing.tracer, "child", {}, async () => undefined);
    });
    const [child, parent] = spans();
    expect(parent?.name).toBe("parent");
    expect(parent?.attributes["whatsdex.tenant_id"]).toBe("t1");
    expect(child?.parentSpanContext?.spanId).toBe(parent?.spanContext().spanId);
    expect(parent?.resource.attributes["service.name"]).toBe("tracing-test");
  });

  it("marks a span as failed when its work throws, and rethrows", async () => {
    await expect(
      inSpan(tracing.tracer, "boom", {}, async () => {
        throw new Error("kaput");
      }),
    ).rejects.toThrow("kaput");
    const [span] = spans();
    expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: "kaput" });
    expect(span?.events[0]?.name).toBe("exception");
  });

  it("continues a trace from a W3C traceparent header", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const carrier = { traceparent: `00-${traceId}-00f067aa0ba902b7-01` };
    const parent = propagation.extract(context.active(), carrier);
    await context.with(parent, () => inSpan(tracing.tracer, "continued", {}, async () => undefined));
    expect(spans()[0]?.spanContext().traceId).toBe(traceId);
  });
});

describe("Cloud Trace exporter", () => {
  it("loads and wires into the provider (the production path), exporting nothing without spans", async () => {
    // Stop the memory provider of this file first: the globals hold one provider at a time.
    await tracing.shutdown();
    const cloud = await startTracing({ serviceName: "t", version: "0", exporter: "cloud-trace", projectId: "demo-x" });
    expect(cloud.memoryExporter).toBeUndefined();
    await cloud.shutdown();
    tracing = await startTracing({ serviceName: "tracing-test", version: "0.0.1", exporter: "memory" });
  });
});
