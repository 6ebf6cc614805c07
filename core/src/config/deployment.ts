import { z } from "zod";

/**
 * Fail closed (DESIGN decision 15): a process that Google's serverless platforms run refuses to
 * start with development defaults (the public API key pepper, the public session key, the
 * simulator) instead of quietly using them. Whether we are deployed is read from what the platform
 * itself sets, because NODE_ENV is ours to forget.
 */

/** Set in every Cloud Run service and Cloud Functions (1st and 2nd gen) instance, or Cloud Run job task. */
export const platformVariables = [
  "K_SERVICE",
  "K_REVISION",
  "K_CONFIGURATION",
  "FUNCTION_TARGET",
  "CLOUD_RUN_JOB",
] as const;

/**
 * Variables both deployables declare so that the fail-closed check can see them: the platform's
 * markers, and the emulator hosts, which must never point a deployed process at an emulator (with
 * `FIREBASE_AUTH_EMULATOR_HOST` set, firebase-admin accepts unsigned ID tokens).
 */
export const deploymentEnvShape = {
  K_SERVICE: z.string().optional(),
  K_REVISION: z.string().optional(),
  K_CONFIGURATION: z.string().optional(),
  FUNCTION_TARGET: z.string().optional(),
  CLOUD_RUN_JOB: z.string().optional(),
  FIRESTORE_EMULATOR_HOST: z.string().optional(),
  FIREBASE_AUTH_EMULATOR_HOST: z.string().optional(),
  /** The local storage server or the Firebase Storage emulator, as a URL (`http://127.0.0.1:9199`). */
  STORAGE_EMULATOR_HOST: z.url({ protocol: /^https?$/ }).optional(),
};

type DeploymentEnv = { [K in keyof typeof deploymentEnvShape]?: string | undefined } & {
  FUNCTIONS_EMULATOR?: string | undefined;
};

/**
 * The platform variable that shows this process is deployed (`"K_SERVICE"`), or undefined locally,
 * in tests and under the Functions emulator (which sets K_SERVICE and FUNCTION_TARGET too, along
 * with FUNCTIONS_EMULATOR=true).
 */
export function deployedBy(env: DeploymentEnv): string | undefined {
  if (env.FUNCTIONS_EMULATOR === "true") return undefined;
  return platformVariables.find((name) => env[name] !== undefined && env[name] !== "");
}

/** What a deployed process must have, and what it must not have; each entry is one problem. */
export interface DeployedRules {
  /** Settings that have a development default: variable → what it is, for the message. */
  required: Record<string, { value: unknown; what: string }>;
  /** Development-only settings: variable → whether it is set to something a deployment must refuse. */
  refused: Record<string, boolean>;
}

/**
 * Adds one issue per problem to a schema's refinement, so that parseEnv lists every missing
 * secret and refused setting in one error. No-op unless `deployedBy(env)` names a variable.
 */
export function failClosedWhenDeployed(
  env: DeploymentEnv & { NODE_ENV: string },
  ctx: z.RefinementCtx,
  rules: DeployedRules,
): void {
  const marker = deployedBy(env);
  if (!marker) return;
  const where = `on Cloud Run / Cloud Functions (${marker} is set)`;
  if (env.NODE_ENV !== "production") {
    ctx.addIssue({ code: "custom", path: ["NODE_ENV"], message: `must be "production" ${where}` });
  }
  for (const [name, { value, what }] of Object.entries(rules.required)) {
    if (value === undefined || value === "") {
      ctx.addIssue({
        code: "custom",
        path: [name],
        message: `${what}; required ${where}, with no development default`,
      });
    }
  }
  const refused = {
    ...rules.refused,
    FIRESTORE_EMULATOR_HOST: env.FIRESTORE_EMULATOR_HOST !== undefined,
    FIREBASE_AUTH_EMULATOR_HOST: env.FIREBASE_AUTH_EMULATOR_HOST !== undefined,
    STORAGE_EMULATOR_HOST: env.STORAGE_EMULATOR_HOST !== undefined,
  };
  for (const [name, set] of Object.entries(refused)) {
    if (set) ctx.addIssue({ code: "custom", path: [name], message: `is for development only; refused ${where}` });
  }
}
