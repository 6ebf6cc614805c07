import { baseEnvSchema, defaultTraceExporter, type TraceExporterKind } from "@whatsdex/core";
import { z } from "zod";

export const runnerEnvSchema = baseEnvSchema.extend({
  /** Cloud Run sets PORT. */
  PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  HOST: z.string().min(1).default("0.0.0.0"),
  /** Names this instance in leases and logs; Cloud Run gives none, so one is made at start. */
  RUNNER_INSTANCE_ID: z
    .string()
    .regex(/^[\w.-]{1,100}$/, "must be 1-100 letters, digits, '.', '_' or '-'")
    .optional(),
  /** Cloud Run allows 10 s between SIGTERM and SIGKILL; shutdown must fit inside it. */
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(100).max(9_500).default(8_000),
});

export type RunnerEnv = z.output<typeof runnerEnvSchema>;

export function traceExporterFor(env: RunnerEnv): TraceExporterKind {
  return env.TRACE_EXPORTER ?? defaultTraceExporter(env.NODE_ENV);
}
