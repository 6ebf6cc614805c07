import { baseEnvSchema, defaultTraceExporter, projectIdFrom, type TraceExporterKind } from "@whatsdex/core";
import { z } from "zod";

export const functionsEnvSchema = baseEnvSchema.extend({
  /** Set by the Functions emulator; traces then never leave the machine. */
  FUNCTIONS_EMULATOR: z.enum(["true", "false"]).optional(),
  HEALTH_FIRESTORE_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(2_000),
  /** Largest JSON body the API accepts, in bytes. */
  API_BODY_LIMIT_BYTES: z.coerce.number().int().min(1_024).max(10_485_760).default(102_400),
});

export type FunctionsEnv = z.output<typeof functionsEnvSchema>;

export function traceExporterFor(env: FunctionsEnv): TraceExporterKind {
  if (env.TRACE_EXPORTER) return env.TRACE_EXPORTER;
  if (env.FUNCTIONS_EMULATOR === "true") return "none";
  return defaultTraceExporter(env.NODE_ENV);
}

export function projectIdOf(env: FunctionsEnv): string {
  const projectId = projectIdFrom(env);
  // Cloud Functions and the emulator always set GCLOUD_PROJECT; without it nothing can be reached.
  if (!projectId) throw new Error("GCLOUD_PROJECT (or GOOGLE_CLOUD_PROJECT) is not set");
  return projectId;
}
