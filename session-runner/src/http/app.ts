import type { Logger } from "@whatsdex/core";
import express, { type Express, type Router } from "express";
import type { RunnerMetrics } from "../metrics/registry.ts";
import type { Health } from "./health.ts";

export interface RunnerHttpDeps {
  health: Health;
  metrics: RunnerMetrics;
  logger: Logger;
  version: string;
  instanceId: string;
  /** Mounted before the 404: the Cloud Tasks receivers, when jobs run on Cloud Tasks. */
  routes?: ReadonlyArray<{ path: string; router: Router }>;
}

/** The runner's own HTTP surface: `/healthz` for Cloud Run's probes, `/status` per bot, `/metrics` for Prometheus. */
export function createRunnerApp(deps: RunnerHttpDeps): Express {
  const app = express();
  app.disable("x-powered-by");

  app.use((req, res, next) => {
    const stop = deps.metrics.httpDuration.startTimer();
    res.once("finish", () => {
      // Unmatched paths share one label value, so a scanner cannot blow up the series count.
      const route = req.route?.path ? String(req.route.path) : "unmatched";
      deps.metrics.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
      stop({ method: req.method, route });
    });
    next();
  });

  app.get("/healthz", (_req, res) => {
    const serving = deps.health.phase === "serving";
    res
      .status(serving ? 200 : 503)
      .set("Cache-Control", "no-store")
      .json({
        status: deps.health.phase,
        version: deps.version,
        instanceId: deps.instanceId,
        uptimeSeconds: Math.round((Date.now() - deps.health.startedAt) / 1000),
      });
  });

  // Per bot: connection state and time since the server last answered. Cloud Run keeps this service
  // internal; nothing here is a secret, but it lists tenants, so it is not for the public internet.
  app.get("/status", (_req, res) => {
    res.set("Cache-Control", "no-store").json({ instanceId: deps.instanceId, bots: deps.health.bots });
  });

  app.get("/metrics", async (_req, res, next) => {
    try {
      const body = await deps.metrics.registry.metrics();
      res.type(deps.metrics.registry.contentType).send(body);
    } catch (error) {
      next(error);
    }
  });

  for (const { path, router } of deps.routes ?? []) app.use(path, router);

  app.use((_req, res) => {
    res.status(404).type("application/problem+json").json({ status: 404, title: "Not found", code: "not_found" });
  });
  return app;
}
