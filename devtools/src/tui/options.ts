import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { parseEnv } from "@whatsdex/core";
import { tenantIdsSchema } from "@whatsdex/session-runner/config";
import { z } from "zod";
import { runningDevEndpoints } from "../dev/dev-endpoints.ts";

export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

export const usage = `npm run tui [-- options]

  --tenant <id>        only this tenant's bots (repeatable; env WHATSDEX_TUI_TENANTS=a,b). Default: all
  --log-file <path>    the session-runner log to tail (env WHATSDEX_LOG_FILE).
                       Default: <dev home>/logs/session-runner.log
  --runner-url <url>   where GET /metrics is read (env RUNNER_URL). Default: http://127.0.0.1:8090
  --dev-home <dir>     the \`npm run dev --home\` to connect to (env WHATSDEX_DEV_HOME). Default: .dev
  -h, --help           this text

While \`npm run dev\` runs, its <dev home>/endpoints.json says where everything is. Otherwise, or to
override it: FIRESTORE_EMULATOR_HOST and GOOGLE_CLOUD_PROJECT (default: firebase.json's emulator and
.firebaserc's project), REDIS_URL (default redis://127.0.0.1:6379), RUNNER_URL; BullMQ's key prefix
is BULLMQ_PREFIX (default whatsdex); the phone API, for the chat pane, WHATSDEX_PHONES_URL.`;

const tuiEnvSchema = z.object({
  FIRESTORE_EMULATOR_HOST: z
    .string()
    .regex(/^[\w.-]+:\d+$|^\[[\d:a-fA-F]+\]:\d+$/, "must be host:port")
    .optional(),
  GOOGLE_CLOUD_PROJECT: z.string().min(1).optional(),
  GCLOUD_PROJECT: z.string().min(1).optional(),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  BULLMQ_PREFIX: z
    .string()
    .regex(/^[\w-]{1,64}$/)
    .default("whatsdex"),
  RUNNER_URL: z.url({ protocol: /^https?$/ }).optional(),
  WHATSDEX_LOG_FILE: z.string().min(1).optional(),
  WHATSDEX_PHONES_URL: z.url({ protocol: /^https?$/ }).optional(),
  WHATSDEX_DEV_HOME: z.string().min(1).default(".dev"),
  WHATSDEX_TUI_TENANTS: tenantIdsSchema.optional(),
});

export interface TuiOptions {
  firestoreHost: string;
  projectId: string;
  redisUrl: string;
  queuePrefix: string;
  runnerUrl: string;
  logFile: string;
  /** The phone API (local WhatsApp server or simulator), for the chat pane; undefined: no chat pane. */
  phonesUrl: string | undefined;
  /** undefined: every tenant. */
  tenants: readonly string[] | undefined;
}

export type Parsed = { kind: "help" } | { kind: "run"; options: TuiOptions };

/** The TUI's settings from its arguments, then the environment, then the repository's emulator config. */
export function parseOptions(argv: readonly string[], env: Record<string, string | undefined>): Parsed {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      tenant: { type: "string", multiple: true },
      "log-file": { type: "string" },
      "runner-url": { type: "string" },
      "dev-home": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) return { kind: "help" };
  const parsed = parseEnv(tuiEnvSchema, {
    ...env,
    ...(values["log-file"] ? { WHATSDEX_LOG_FILE: values["log-file"] } : {}),
    ...(values["runner-url"] ? { RUNNER_URL: values["runner-url"] } : {}),
    ...(values["dev-home"] ? { WHATSDEX_DEV_HOME: values["dev-home"] } : {}),
    ...(values.tenant ? { WHATSDEX_TUI_TENANTS: values.tenant.join(",") } : {}),
  });
  const tenants = parsed.WHATSDEX_TUI_TENANTS;
  const home = resolve(repoRoot, parsed.WHATSDEX_DEV_HOME);
  const dev = runningDevEndpoints(home);
  return {
    kind: "run",
    options: {
      firestoreHost: parsed.FIRESTORE_EMULATOR_HOST ?? dev?.firestoreHost ?? configuredFirestoreHost(),
      projectId: parsed.GOOGLE_CLOUD_PROJECT ?? parsed.GCLOUD_PROJECT ?? dev?.projectId ?? configuredProject(),
      redisUrl: parsed.REDIS_URL ?? dev?.redisUrl ?? "redis://127.0.0.1:6379",
      queuePrefix: parsed.BULLMQ_PREFIX,
      runnerUrl: parsed.RUNNER_URL ?? dev?.runnerUrl ?? "http://127.0.0.1:8090",
      logFile: parsed.WHATSDEX_LOG_FILE
        ? resolve(process.cwd(), parsed.WHATSDEX_LOG_FILE)
        : join(dev?.logDir ?? join(home, "logs"), "session-runner.log"),
      phonesUrl: parsed.WHATSDEX_PHONES_URL ?? dev?.phonesUrl,
      tenants,
    },
  };
}

const firebaseJsonSchema = z.object({
  emulators: z.object({ firestore: z.object({ host: z.string().default("127.0.0.1"), port: z.number().int() }) }),
});
const firebaseRcSchema = z.object({ projects: z.object({ default: z.string().min(1) }) });

/** firebase.json's Firestore emulator address, where `npm run dev` starts it. */
function configuredFirestoreHost(): string {
  const config = firebaseJsonSchema.safeParse(readJson("firebase.json"));
  return config.success
    ? `${config.data.emulators.firestore.host}:${config.data.emulators.firestore.port}`
    : "127.0.0.1:8080";
}

/** .firebaserc's default project (`demo-whatsdex`: a demo project never reaches Google). */
function configuredProject(): string {
  const config = firebaseRcSchema.safeParse(readJson(".firebaserc"));
  return config.success ? config.data.projects.default : "demo-whatsdex";
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(resolve(repoRoot, file), "utf8"));
  } catch {
    return undefined;
  }
}
