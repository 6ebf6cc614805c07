import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  baseEnvSchema,
  ConfigError,
  deployedBy,
  failClosedWhenDeployed,
  loadEnvOrExit,
  parseEnv,
} from "../src/index.ts";

const schema = baseEnvSchema.extend({
  PORT: z.coerce.number().int().min(1).max(65535),
  REDIS_URL: z.url(),
});

describe("env config", () => {
  it("applies defaults and types values from the schema", () => {
    const env = parseEnv(schema, { PORT: "8080", REDIS_URL: "redis://127.0.0.1:6379" });
    expect(env.PORT).toBe(8080);
    expect(env.LOG_LEVEL).toBe("info");
    expect(env.NODE_ENV).toBe("development");
  });

  it("lists every missing and bad variable at once, without echoing values", () => {
    let caught: unknown;
    try {
      parseEnv(schema, { PORT: "not-a-port", LOG_LEVEL: "loud" });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const error = caught as ConfigError;
    expect(error.code).toBe("config_invalid");
    expect(error.issues.map((i) => i.path).sort()).toEqual(["LOG_LEVEL", "PORT", "REDIS_URL"]);
    expect(error.message).toContain("REDIS_URL: is required but not set");
    expect(error.message).toContain("PORT:");
    expect(error.message).not.toContain("not-a-port");
  });

  it("prints the problems and exits 1 at boot", () => {
    let written = "";
    const exitCodes: number[] = [];
    const exit = (code: number): never => {
      exitCodes.push(code);
      throw new Error("exited");
    };
    expect(() => loadEnvOrExit(schema, {}, { exit, stderr: { write: (text: string) => (written += text) } })).toThrow(
      "exited",
    );
    expect(exitCodes).toEqual([1]);
    expect(written).toContain("PORT");
    expect(written).toContain("REDIS_URL");
  });

  it("knows it is deployed from what Cloud Run and Cloud Functions set, except under the Functions emulator", () => {
    expect(deployedBy({})).toBeUndefined();
    expect(deployedBy({ K_SERVICE: "api" })).toBe("K_SERVICE");
    expect(deployedBy({ K_REVISION: "api-00001-abc" })).toBe("K_REVISION");
    expect(deployedBy({ FUNCTION_TARGET: "api" })).toBe("FUNCTION_TARGET");
    expect(deployedBy({ CLOUD_RUN_JOB: "backfill" })).toBe("CLOUD_RUN_JOB");
    expect(deployedBy({ K_SERVICE: "api", FUNCTION_TARGET: "api", FUNCTIONS_EMULATOR: "true" })).toBeUndefined();
  });

  it("lists every missing secret and refused setting of a deployed process in one error", () => {
    const deployable = baseEnvSchema
      .extend({ SECRET_A: z.string().optional(), SECRET_B: z.string().optional(), DEV_ONLY: z.string().optional() })
      .superRefine((env, ctx) =>
        failClosedWhenDeployed(env, ctx, {
          required: {
            SECRET_A: { value: env.SECRET_A, what: "seals things" },
            SECRET_B: { value: env.SECRET_B, what: "signs things" },
          },
          refused: { DEV_ONLY: env.DEV_ONLY !== undefined },
        }),
      );
    expect(() => parseEnv(deployable, { DEV_ONLY: "1" })).not.toThrow();
    let caught: unknown;
    try {
      parseEnv(deployable, { K_SERVICE: "svc", NODE_ENV: "production", SECRET_B: "b", DEV_ONLY: "1" });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const { issues, message } = caught as ConfigError;
    expect(issues.map((i) => i.path)).toEqual(["SECRET_A", "DEV_ONLY"]);
    expect(message).toContain(
      "SECRET_A: is required but not set (seals things; required on Cloud Run / Cloud Functions (K_SERVICE is set)",
    );
    expect(message).toContain(
      "DEV_ONLY: is for development only; refused on Cloud Run / Cloud Functions (K_SERVICE is set)",
    );
  });
});
