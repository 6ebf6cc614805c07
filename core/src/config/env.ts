import { z } from "zod";
import { ConfigError } from "../errors/domain-error.ts";
import { fieldIssues } from "../errors/zod-issues.ts";
import { mediaEnvShape } from "../media/media-bucket.ts";
import { deploymentEnvShape } from "./deployment.ts";

export const logLevels = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;

/**
 * Variables every deployable reads. Each deployable extends this with its own and parses once, in
 * its composition root; nothing else reads `process.env`.
 */
export const baseEnvSchema = z.object({
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  LOG_LEVEL: z.enum(logLevels).default("info"),
  /** Set by Cloud Functions and the emulators; Cloud Run needs it set at deploy time. */
  GOOGLE_CLOUD_PROJECT: z.string().min(1).optional(),
  GCLOUD_PROJECT: z.string().min(1).optional(),
  /** Release identifier reported by health checks, logs and traces; defaults to the package version. */
  SERVICE_VERSION: z.string().min(1).optional(),
  TRACE_EXPORTER: z.enum(["cloud-trace", "memory", "none"]).optional(),
  TRACE_SAMPLE_RATIO: z.coerce.number().min(0).max(1).default(1),
  /** Set by the platform (K_SERVICE, …) and the emulators; read to fail closed when deployed. */
  ...deploymentEnvShape,
  ...mediaEnvShape,
});

export type Env = Record<string, string | undefined>;

/**
 * Parses `env` with `schema`, reporting every missing or bad variable at once (not the first one),
 * because a deploy that fails on one variable per attempt wastes a release cycle each.
 */
export function parseEnv<S extends z.ZodType>(schema: S, env: Env): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const issues = fieldIssues(result.error).map((issue) => ({
    path: issue.path,
    message: describeIssue(issue.path, issue.message, env),
  }));
  const lines = issues.map((i) => `  - ${i.path || "(environment)"}: ${i.message}`);
  throw new ConfigError(`Invalid environment configuration:\n${lines.join("\n")}`, issues);
}

function describeIssue(variable: string, message: string, env: Env): string {
  const value = env[variable];
  if (value === undefined) return `is required but not set (${message})`;
  // Values may be secrets: say how long the bad value is, never what it is.
  return `${message} (got a value of ${value.length} characters)`;
}

export interface ExitOnError {
  exit: (code: number) => never;
  stderr: { write: (text: string) => unknown };
}

/** For composition roots: parse, or print every problem and exit 1 before anything starts. */
export function loadEnvOrExit<S extends z.ZodType>(
  schema: S,
  env: Env,
  io: ExitOnError = { exit: (code) => process.exit(code), stderr: process.stderr },
): z.output<S> {
  try {
    return parseEnv(schema, env);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr.write(`${error.message}\n`);
      return io.exit(1);
    }
    throw error;
  }
}

/** The Google Cloud project id from whichever variable the platform set. */
export function projectIdFrom(env: {
  GOOGLE_CLOUD_PROJECT?: string | undefined;
  GCLOUD_PROJECT?: string | undefined;
}): string | undefined {
  return env.GOOGLE_CLOUD_PROJECT ?? env.GCLOUD_PROJECT;
}
