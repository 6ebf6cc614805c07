import { once } from "node:events";
import type { Server } from "node:http";
import type { Logger, Tracing } from "@whatsdex/core";
import type { Router } from "express";
import { createMetrics, type RunnerMetrics } from "../metrics/registry.ts";
import { createRunnerApp } from "./app.ts";
import { Health } from "./health.ts";

export interface RunnerDeps {
  logger: Logger;
  tracing: Tracing;
  version: string;
  instanceId: string;
  host: string;
  port: number;
  shutdownGraceMs: number;
  routes?: ReadonlyArray<{ path: string; router: Router }>;
}

export interface Runner {
  url: string;
  health: Health;
  metrics: RunnerMetrics;
  /** Stops accepting work and finishes within `shutdownGraceMs`; safe to call twice. */
  stop(reason: string): Promise<void>;
}

export async function startRunner(deps: RunnerDeps): Promise<Runner> {
  const health = new Health();
  const metrics = createMetrics({ service: "session-runner", version: deps.version, instance: deps.instanceId });
  const app = createRunnerApp({ ...deps, health, metrics });
  const server: Server = app.listen(deps.port, deps.host);
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the runner's server has no TCP address");
  const { port } = address;
  health.serving();
  const url = `http://${deps.host === "0.0.0.0" ? "127.0.0.1" : deps.host}:${port}`;
  deps.logger.info({ url, instanceId: deps.instanceId }, "session-runner serving");

  let stopping: Promise<void> | undefined;
  const stop = (reason: string) => {
    stopping ??= shutdown(reason);
    return stopping;
  };
  async function shutdown(reason: string): Promise<void> {
    const deadline = Date.now() + deps.shutdownGraceMs;
    deps.logger.info({ reason, graceMs: deps.shutdownGraceMs }, "session-runner draining");
    health.draining();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const timer = setTimeout(() => server.closeAllConnections(), Math.max(0, deadline - Date.now() - 500));
    await closed;
    clearTimeout(timer);
    await deps.tracing.shutdown();
    deps.logger.info({ reason }, "session-runner stopped");
  }
  return { url, health, metrics, stop };
}
