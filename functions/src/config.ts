import {
  baseEnvSchema,
  defaultTraceExporter,
  deployedBy,
  failClosedWhenDeployed,
  projectIdFrom,
  type TraceExporterKind,
} from "@whatsdex/core";
import { z } from "zod";

/** Only for the emulators and tests: production must set its own (Secret Manager). */
const DEVELOPMENT_PEPPER = "whatsdex-development-pepper-not-for-production";

export const functionsEnvSchema = baseEnvSchema
  .extend({
    /** Set by the Functions emulator; traces then never leave the machine. */
    FUNCTIONS_EMULATOR: z.enum(["true", "false"]).optional(),
    HEALTH_FIRESTORE_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(2_000),
    /** Largest JSON body the API accepts, in bytes. */
    API_BODY_LIMIT_BYTES: z.coerce.number().int().min(1_024).max(10_485_760).default(102_400),
    /** Keyed hash of API key secrets; changing it invalidates every key. */
    API_KEY_PEPPER: z.string().min(32, "must be at least 32 characters").optional(),
    /** How long an instance reuses a verified ID token, a member's role or an API key it read; revocations reach other instances within it. */
    ACCESS_CACHE_TTL_MS: z.coerce.number().int().min(0).max(300_000).default(10_000),
    /** Lets tenants create bots on the in-process WhatsApp simulator (development only). */
    ALLOW_SIMULATOR: z.enum(["true", "false"]).optional(),
  })
  .superRefine((env, ctx) => {
    failClosedWhenDeployed(env, ctx, {
      required: { API_KEY_PEPPER: { value: env.API_KEY_PEPPER, what: "keys the hash of API keys" } },
      refused: { ALLOW_SIMULATOR: env.ALLOW_SIMULATOR === "true" },
    });
    // Deployed, the check above has said so already.
    if (env.NODE_ENV === "production" && !env.API_KEY_PEPPER && !deployedBy(env)) {
      ctx.addIssue({ code: "custom", path: ["API_KEY_PEPPER"], message: "is required in production" });
    }
  });

export function apiKeyPepper(env: FunctionsEnv): string {
  return env.API_KEY_PEPPER ?? DEVELOPMENT_PEPPER;
}

export function allowSimulator(env: FunctionsEnv): boolean {
  return env.ALLOW_SIMULATOR ? env.ALLOW_SIMULATOR === "true" : env.NODE_ENV !== "production";
}

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
