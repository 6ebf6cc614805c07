import { readFileSync } from "node:fs";
import {
  baseEnvSchema,
  defaultTraceExporter,
  deployedBy,
  failClosedWhenDeployed,
  keyringSpecSchema,
  resourceIdSchema,
  type TraceExporterKind,
} from "@whatsdex/core";
import { z } from "zod";
import type { LocalWhatsAppTarget } from "./transport/baileys/local-whatsapp.ts";

/**
 * Only for the emulators: production seals WhatsApp session keys with keys from Secret Manager.
 * (32 bytes; the value is public, so nothing sealed with it is secret.)
 */
const DEVELOPMENT_KEYRING = `dev:${Buffer.from("whatsdex-development-only-key-32").toString("base64")}`;

/** `a,b,c`: tenant ids, each checked, naming the one that is not an id. */
export const tenantIdsSchema = z
  .string()
  .transform((value) =>
    value
      .split(",")
      .map((id) => id.trim())
      .filter(Boolean),
  )
  .superRefine((ids, ctx) => {
    if (ids.length === 0) ctx.addIssue({ code: "custom", message: "must name at least one tenant" });
    for (const id of ids) {
      const parsed = resourceIdSchema.safeParse(id);
      if (!parsed.success) ctx.addIssue({ code: "custom", message: `"${id}" ${parsed.error.issues[0]?.message}` });
    }
  });

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
    RUNNER_TENANTS: tenantIdsSchema.optional(),
    /** Lets this instance run bots on the in-process simulator (development only). */
    ALLOW_SIMULATOR: z.enum(["true", "false"]).optional(),
    /** Serves the simulator's phone API (`npm run chat`, the TUI, end-to-end tests) on 127.0.0.1 at this port; off when unset. */
    SIMULATOR_PHONES_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
    /** Where jobs run: BullMQ on Redis (emulators, tests) or Cloud Tasks (production). */
    JOBS_DRIVER: z.enum(["bullmq", "cloudtasks"]).optional(),
    /** BullMQ's Redis. */
    REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
    /** BullMQ's key prefix: several platforms (or test runs) can share one Redis without seeing each other's jobs. */
    BULLMQ_PREFIX: z
      .string()
      .regex(/^[\w-]{1,64}$/)
      .default("whatsdex"),
    /**
     * A local WhatsApp server (`local-whatsapp` workspace, `npm run dev`): the Baileys transport
     * connects there instead of WhatsApp. Development and tests only; refused in production.
     */
    LOCAL_WHATSAPP_URL: z.url({ protocol: /^wss?$/ }).optional(),
    /** That server's Noise root public key (base64, 32 bytes), which Baileys is told to trust. */
    LOCAL_WHATSAPP_ROOT_KEY: z
      .string()
      .refine((value) => Buffer.from(value, "base64").length === 32, "must be 32 bytes, base64")
      .optional(),
    /** Its media host (HTTPS origin): media is downloaded from there instead of WhatsApp's hosts. */
    LOCAL_WHATSAPP_MEDIA_ORIGIN: z.url({ protocol: /^https$/ }).optional(),
    /** A PEM file holding the CA of that media host's certificate, which this process then trusts. */
    LOCAL_WHATSAPP_MEDIA_CA_FILE: z.string().min(1).optional(),
    /** Jobs each worker runs at once in this instance (BullMQ concurrency; Cloud Tasks back-pressure). */
    JOBS_CONCURRENCY_MEDIA: z.coerce.number().int().min(1).max(64).default(2),
    JOBS_CONCURRENCY_AI: z.coerce.number().int().min(1).max(256).default(16),
    JOBS_CONCURRENCY_WEBHOOKS: z.coerce.number().int().min(1).max(256).default(16),
    /** Lets webhooks reach loopback and private addresses (local receivers in development); never the metadata server. */
    WEBHOOKS_ALLOW_PRIVATE_TARGETS: z.enum(["true", "false"]).default("false"),
    /** Cloud Tasks: the region of the queues, and their ids are `<prefix>-media|ai|webhooks`. */
    CLOUD_TASKS_LOCATION: z.string().min(1).optional(),
    CLOUD_TASKS_QUEUE_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9-]{1,60}$/)
      .default("whatsdex"),
    /** The queues' retry config maxAttempts (Cloud Tasks' default is 100): a job's last attempt is dead-lettered. */
    CLOUD_TASKS_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(1_000).default(100),
    /** The identity Cloud Tasks signs task requests as; the receiver accepts no other. */
    CLOUD_TASKS_SERVICE_ACCOUNT: z.email().optional(),
    /** This service's public URL: tasks are delivered to `<url>/tasks/<queue>`, and it is the OIDC audience. */
    TASKS_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
    /** Gemini (AIProcessor). Without a key, AI jobs fail with a clear dead letter. */
    GEMINI_API_KEY: z.string().min(1).optional(),
    /** A different Gemini endpoint (a local server in tests). */
    GEMINI_BASE_URL: z.url().optional(),
    AI_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(300_000).default(30_000),
    /** Wikipedia, per language: `{lang}` is replaced by the bot's language (a local server in tests). */
    WIKIPEDIA_URL: z
      .string()
      .regex(/^https?:\/\/\S*\{lang\}\S*$|^https?:\/\/\S+$/, "must be a URL, with {lang} where the language goes")
      .default("https://{lang}.wikipedia.org"),
  })
  .superRefine((env, ctx) => {
    if (!env.GOOGLE_CLOUD_PROJECT && !env.GCLOUD_PROJECT) {
      ctx.addIssue({
        code: "custom",
        path: ["GOOGLE_CLOUD_PROJECT"],
        message: "names the Firestore project; required",
      });
    }
    failClosedWhenDeployed(env, ctx, {
      required: {
        AUTH_STATE_KEYS: { value: env.AUTH_STATE_KEYS, what: "the keys that seal session keys at rest" },
        MEDIA_BUCKET: { value: env.MEDIA_BUCKET, what: "names the bucket media is kept in" },
      },
      refused: {
        ALLOW_SIMULATOR: env.ALLOW_SIMULATOR === "true",
        SIMULATOR_PHONES_PORT: env.SIMULATOR_PHONES_PORT !== undefined,
        WEBHOOKS_ALLOW_PRIVATE_TARGETS: env.WEBHOOKS_ALLOW_PRIVATE_TARGETS === "true",
        LOCAL_WHATSAPP_URL: env.LOCAL_WHATSAPP_URL !== undefined,
        LOCAL_WHATSAPP_MEDIA_CA_FILE: env.LOCAL_WHATSAPP_MEDIA_CA_FILE !== undefined,
      },
    });
    // Deployed, the check above has said so already.
    if (env.NODE_ENV === "production" && !deployedBy(env) && env.LOCAL_WHATSAPP_URL !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["LOCAL_WHATSAPP_URL"],
        message: "is for development only; refused in production",
      });
    }
    if ((env.LOCAL_WHATSAPP_URL === undefined) !== (env.LOCAL_WHATSAPP_ROOT_KEY === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: [env.LOCAL_WHATSAPP_URL === undefined ? "LOCAL_WHATSAPP_URL" : "LOCAL_WHATSAPP_ROOT_KEY"],
        message: "LOCAL_WHATSAPP_URL and LOCAL_WHATSAPP_ROOT_KEY go together",
      });
    }
    const media = [env.LOCAL_WHATSAPP_MEDIA_ORIGIN, env.LOCAL_WHATSAPP_MEDIA_CA_FILE];
    if (media.some((value) => value !== undefined) && (media.includes(undefined) || !env.LOCAL_WHATSAPP_URL)) {
      ctx.addIssue({
        code: "custom",
        path: [
          env.LOCAL_WHATSAPP_MEDIA_ORIGIN === undefined
            ? "LOCAL_WHATSAPP_MEDIA_ORIGIN"
            : "LOCAL_WHATSAPP_MEDIA_CA_FILE",
        ],
        message: "LOCAL_WHATSAPP_MEDIA_ORIGIN and LOCAL_WHATSAPP_MEDIA_CA_FILE go together, with LOCAL_WHATSAPP_URL",
      });
    }
    // Deployed, the check above has said so already.
    if (env.NODE_ENV === "production" && !env.AUTH_STATE_KEYS && !deployedBy(env)) {
      ctx.addIssue({ code: "custom", path: ["AUTH_STATE_KEYS"], message: "is required in production" });
    }
    if (jobsDriver(env) === "bullmq" && !env.REDIS_URL) {
      ctx.addIssue({ code: "custom", path: ["REDIS_URL"], message: "is required with JOBS_DRIVER=bullmq" });
    }
    if (jobsDriver(env) === "cloudtasks") {
      for (const name of ["CLOUD_TASKS_LOCATION", "CLOUD_TASKS_SERVICE_ACCOUNT", "TASKS_BASE_URL"] as const) {
        if (!env[name])
          ctx.addIssue({ code: "custom", path: [name], message: "is required with JOBS_DRIVER=cloudtasks" });
      }
    }
  });

/** Cloud Tasks in production, BullMQ everywhere else, unless JOBS_DRIVER says otherwise. */
export function jobsDriver(env: { JOBS_DRIVER?: "bullmq" | "cloudtasks" | undefined; NODE_ENV: string }) {
  return env.JOBS_DRIVER ?? (env.NODE_ENV === "production" ? "cloudtasks" : "bullmq");
}

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

/** The local WhatsApp server the Baileys transport is pointed at, when one is configured. */
export function localWhatsApp(env: RunnerEnv): LocalWhatsAppTarget | undefined {
  if (!env.LOCAL_WHATSAPP_URL || !env.LOCAL_WHATSAPP_ROOT_KEY) return undefined;
  const media =
    env.LOCAL_WHATSAPP_MEDIA_ORIGIN && env.LOCAL_WHATSAPP_MEDIA_CA_FILE
      ? { origin: env.LOCAL_WHATSAPP_MEDIA_ORIGIN, caPem: readFileSync(env.LOCAL_WHATSAPP_MEDIA_CA_FILE, "utf8") }
      : undefined;
  return { url: env.LOCAL_WHATSAPP_URL, rootKey: Buffer.from(env.LOCAL_WHATSAPP_ROOT_KEY, "base64"), media };
}
