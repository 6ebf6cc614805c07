import { trace } from "@opentelemetry/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger, startTracing, type Tracing } from "../src/index.ts";
import { captureLogs } from "../src/testing/index.ts";

let tracing: Tracing;
beforeAll(async () => {
  tracing = await startTracing({ serviceName: "logger-test", version: "1.2.3", exporter: "memory" });
});
afterAll(() => tracing.shutdown());

function logger(level: "info" | "debug" = "info") {
  const logs = captureLogs();
  const log = createLogger({ level, service: "api", version: "1.2.3", projectId: "demo-x", destination: logs.stream });
  return { log, logs };
}

describe("logger", () => {
  it("writes Cloud Logging JSON: severity, message, time, serviceContext", () => {
    const { log, logs } = logger();
    log.warn({ botId: "b1" }, "socket closed");
    const [line] = logs.lines();
    expect(line).toMatchObject({
      severity: "WARNING",
      message: "socket closed",
      botId: "b1",
      serviceContext: { service: "api", version: "1.2.3" },
    });
    expect(typeof line?.time).toBe("string");
  });

  it("binds tenant, bot and request on children", () => {
    const { log, logs } = logger();
    log.child({ tenantId: "t1" }).child({ botId: "b1", requestId: "r1" }).error("failed");
    expect(logs.lines()[0]).toMatchObject({ severity: "ERROR", tenantId: "t1", botId: "b1", requestId: "r1" });
  });

  it("redacts secrets and masks phone numbers in fields and messages", () => {
    const { log, logs } = logger();
    log.info(
      {
        apiKey: "wdx_live_secret",
        req: { headers: { authorization: "Bearer abc.def", "x-api-key": "wdx_k" } },
        contact: { phone: "+6281234567890", jid: "6281234567890@s.whatsapp.net", lid: "12345678901234@lid" },
        remoteJid: "99887766554@lid",
      },
      "message from 6281234567890:3@s.whatsapp.net and +14155550123",
    );
    const text = logs.text();
    for (const secret of ["wdx_live_secret", "abc.def", "wdx_k", "6281234567890", "14155550123"]) {
      expect(text).not.toContain(secret);
    }
    const [line] = logs.lines();
    expect(line).toMatchObject({
      apiKey: "[redacted]",
      req: { headers: { authorization: "[redacted]", "x-api-key": "[redacted]" } },
      contact: { phone: "+*********7890", jid: "*********7890@s.whatsapp.net", lid: "12345678901234@lid" },
      remoteJid: "99887766554@lid",
      message: "message from *********7890:3@s.whatsapp.net and +*******0123",
    });
  });

  it("redacts at any depth, in arrays and in child bindings, without touching the caller's object", () => {
    const { log, logs } = logger();
    const event = {
      group: { participants: ["6281234567890@s.whatsapp.net", "555123456789@lid"], admin: { phone: "0812-3456-7890" } },
      error: "send to +14155550123 failed",
    };
    const copy = structuredClone(event);
    log.child({ phone: "+6281234567890", tenantId: "t1" }).child({ token: "abc" }).warn(event, "group update");
    expect(event).toEqual(copy);
    const [line] = logs.lines();
    expect(line).toMatchObject({
      phone: "+*********7890",
      tenantId: "t1",
      token: "[redacted]",
      group: { participants: ["*********7890@s.whatsapp.net", "555123456789@lid"], admin: { phone: "****-****-7890" } },
      error: "send to +*******0123 failed",
    });
  });

  it("redacts errors wherever they are logged: message, stack, own fields and causes", () => {
    const { log, logs } = logger();
    const jid = "6281234567890@s.whatsapp.net";
    class SendError extends Error {
      readonly to = jid;
      readonly node = { attrs: { from: jid, type: "error" } };
    }
    const cause = new Error(`stanza to ${jid} timed out`);
    const err = new SendError(`could not send to ${jid}`, { cause });
    log.error(err);
    log.error({ err }, "send failed");
    log.warn({ error: err, nested: { failures: [err] } }, "retrying");
    log.child({ err }).info("from a child's bindings");
    log.error({ err: new AggregateError([err], `2 sends to +14155550123 failed`) }, "batch failed");
    const text = logs.text();
    expect(text).not.toMatch(/6281234567|14155550/);
    const [bare, withMessage, asError] = logs.lines();
    expect(bare).toMatchObject({
      message: "could not send to *********7890@s.whatsapp.net",
      err: {
        type: "SendError",
        message: "could not send to *********7890@s.whatsapp.net",
        to: "*********7890@s.whatsapp.net",
        node: { attrs: { from: "*********7890@s.whatsapp.net", type: "error" } },
        cause: { type: "Error", message: "stanza to *********7890@s.whatsapp.net timed out" },
      },
    });
    expect(bare?.err).toHaveProperty(
      "stack",
      expect.stringContaining(": could not send to *********7890@s.whatsapp.net\n    at "),
    );
    expect(withMessage).toMatchObject({ message: "send failed", err: { type: "SendError" } });
    expect(asError).toMatchObject({ error: { type: "SendError" }, nested: { failures: [{ type: "SendError" }] } });
    expect(err.to).toBe(jid);
  });

  it("links each line to the active span", () => {
    const { log, logs } = logger();
    tracing.tracer.startActiveSpan("work", (span) => {
      log.info("inside");
      span.end();
    });
    log.info("outside");
    const [inside, outside] = logs.lines();
    const { traceId, spanId } = tracing.memoryExporter?.getFinishedSpans()[0]?.spanContext() ?? {};
    expect(inside?.["logging.googleapis.com/trace"]).toBe(`projects/demo-x/traces/${traceId}`);
    expect(inside?.["logging.googleapis.com/spanId"]).toBe(spanId);
    expect(inside?.["logging.googleapis.com/trace_sampled"]).toBe(true);
    expect(outside).not.toHaveProperty("logging.googleapis.com/trace");
    expect(trace.getActiveSpan()).toBeUndefined();
  });

  it("drops lines below its level", () => {
    const { log, logs } = logger("info");
    log.debug("noise");
    expect(logs.lines()).toEqual([]);
  });
});
