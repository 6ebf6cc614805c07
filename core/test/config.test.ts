import { describe, expect, it } from "vitest";
import { z } from "zod";
import { baseEnvSchema, ConfigError, loadEnvOrExit, parseEnv } from "../src/index.ts";

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
});
