import {
  baseEnvSchema,
  defaultTraceExporter,
  keyringSpecSchema,
  resourceIdSchema,
  type TraceExporterKind,
} from "@whatsdex/core";
import { z } from "zod";

/**
 * Only for the emulators: production seals WhatsApp session keys with keys from Secret Manager.
 * (32 bytes; the value is public, so nothing sealed with it is secret.)
 */
const DEVELOPMENT_KEYRING = `dev:${Buffer.from("whatsdex-development-only-key-32").toString("base64")}`;

export const runnerEnvSchema = baseEnvSchema
  .extend({
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
    /** `id:base64key,…` — the keys that seal session keys at rest (AES-256-GCM). */
    AUTH_STATE_KEYS: keyringSpecSchema.optional(),
    /** Which of AUTH_STATE_KEYS seals new values; the first one when unset. */
    AUTH_STATE_KEY_ID: z.string().min(1).optional(),
    /** Bots one instance runs at most. */
    RUNNER_CAPACITY: z.coerce.number().int().min(1).max(2_000).default(100),
    LEASE_TTL_MS: z.coerce.number().int().min(1_000).max(300_000).default(30_000),
    /** How long past its expiry another instance's lease is left alone (clock skew between instances). */
    LEASE_TAKEOVER_GRACE_MS: z.coerce.number().int().min(0).max(60_000).default(2_000),
    /** How often the instance looks for bots that want to run and are free. */
    RUNNER_SCAN_MS: z.coerce.number().int().min(100).max(300_000).default(5_000),
    /** Comma-separated tenant ids: run only their bots (dedicated instances; isolation in shared emulators). */
    RUNNER_TENANTS: z
      .string()
      .transform((value) =>
        value
          .split(",")
          .map((id) => id.trim())
          .filter(Boolean),
      )
      .pipe(z.array(resourceIdSchema).min(1, "must name at least one tenant"))
      .optional(),
    /** Lets this instance run bots on the in-process simulator (development only). */
    ALLOW_SIMULATOR: z.enum(["true", "false"]).optional(),
  })
  .superRefine((env, ctx) => {
    if (!env.GOOGLE_CLOUD_PROJECT && !env.GCLOUD_PROJECT) {
      ctx.addIssue({
        code: "custom",
        path: ["GOOGLE_CLOUD_PROJECT"],
        message: "names the Firestore project; required",
      });
    }
    if (env.NODE_ENV === "production" && !env.AUTH_STATE_KEYS) {
      ctx.addIssue({ code: "custom", path: ["AUTH_STATE_KEYS"], message: "is required in production" });
    }
  });

export type RunnerEnv = z.output<typeof runnerEnvSchema>;

export function authStateKeys(env: RunnerEnv): { keys: ReadonlyMap<string, Buffer>; activeKeyId: string } {
  const keys = env.AUTH_STATE_KEYS ?? keyringSpecSchema.parse(DEVELOPMENT_KEYRING);
  const activeKeyId = env.AUTH_STATE_KEY_ID ?? [...keys.keys()][0] ?? "";
  return { keys, activeKeyId };
}

export function allowSimulator(env: RunnerEnv): boolean {
  return env.ALLOW_SIMULATOR ? env.ALLOW_SIMULATOR === "true" : env.NODE_ENV !== "production";
}

export function traceExporterFor(env: RunnerEnv): TraceExporterKind {
  return env.TRACE_EXPORTER ?? defaultTraceExporter(env.NODE_ENV);
}
