/**
 * The session-runner's composition root: parse the environment (or list every problem and exit),
 * build the logger, tracing and server, and stop cleanly on SIGTERM inside Cloud Run's 10 s.
 */
import { hostname } from "node:os";
import { createLogger, loadEnvOrExit, packageVersion, projectIdFrom, startTracing } from "@whatsdex/core";
import { runnerEnvSchema, traceExporterFor } from "./config.ts";
import { startRunner } from "./server.ts";

const env = loadEnvOrExit(runnerEnvSchema, process.env);
const version = env.SERVICE_VERSION ?? packageVersion(import.meta.url);
const projectId = projectIdFrom(env);
const instanceId = env.RUNNER_INSTANCE_ID ?? `${hostname()}-${process.pid}`;
const logger = createLogger({ level: env.LOG_LEVEL, service: "session-runner", version, projectId });
const tracing = await startTracing({
  serviceName: "whatsdex-session-runner",
  version,
  exporter: traceExporterFor(env),
  projectId,
  sampleRatio: env.TRACE_SAMPLE_RATIO,
});

const runner = await startRunner({
  logger,
  tracing,
  version,
  instanceId,
  host: env.HOST,
  port: env.PORT,
  shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    runner.stop(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.fatal({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  });
}
