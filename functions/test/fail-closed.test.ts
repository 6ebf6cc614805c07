import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { ConfigError, parseEnv } from "@whatsdex/core";
import { describe, expect, it } from "vitest";
import { allowSimulator, apiKeyPepper, functionsEnvSchema } from "../src/config.ts";

/** What Cloud Functions (2nd gen, on Cloud Run) sets in every instance. */
const cloudFunctions = {
  K_SERVICE: "api",
  K_REVISION: "api-00007-xyz",
  K_CONFIGURATION: "api",
  FUNCTION_TARGET: "api",
  GCLOUD_PROJECT: "whatsdex-prod",
};

/** Billing's secrets (Secret Manager) and where customers return to. */
const stripe = {
  STRIPE_SECRET_KEY: "rk_live_0123456789abcdef",
  STRIPE_WEBHOOK_SECRET: "whsec_0123456789abcdef",
  BILLING_RETURN_URL: "https://app.whatsdex.example/billing",
};

function problems(env: Record<string, string>): Map<string, string> {
  try {
    parseEnv(functionsEnvSchema, env);
  } catch (error) {
    if (error instanceof ConfigError) return new Map(error.issues.map((i) => [i.path, i.message]));
    throw error;
  }
  return new Map();
}

describe("functions configuration, deployed (fail closed)", () => {
  it("refuses to start without its secrets or in development mode, naming every problem at once", () => {
    const found = problems({
      ...cloudFunctions,
      ALLOW_SIMULATOR: "true",
      FIREBASE_AUTH_EMULATOR_HOST: "127.0.0.1:9099",
      STORAGE_EMULATOR_HOST: "http://127.0.0.1:9199",
      STRIPE_API_URL: "http://127.0.0.1:12111",
    });
    expect([...found.keys()].sort()).toEqual([
      "ALLOW_SIMULATOR",
      "API_KEY_PEPPER",
      "BILLING_RETURN_URL",
      "FIREBASE_AUTH_EMULATOR_HOST",
      "MEDIA_BUCKET",
      "NODE_ENV",
      "STORAGE_EMULATOR_HOST",
      "STRIPE_API_URL",
      "STRIPE_SECRET_KEY",
      "STRIPE_WEBHOOK_SECRET",
    ]);
    expect(found.get("STRIPE_WEBHOOK_SECRET")).toMatch(/verifies Stripe's webhook requests; required/);
    expect(found.get("API_KEY_PEPPER")).toMatch(/^is required but not set .*K_SERVICE is set/);
    expect(found.get("NODE_ENV")).toContain('must be "production"');
    expect(found.get("ALLOW_SIMULATOR")).toContain("refused on Cloud Run / Cloud Functions");
  });

  it("recognises Cloud Run by any of its variables, not only K_SERVICE", () => {
    const bucket = { MEDIA_BUCKET: "whatsdex-prod-media", ...stripe };
    expect([...problems({ FUNCTION_TARGET: "api", NODE_ENV: "production", ...bucket }).keys()]).toEqual([
      "API_KEY_PEPPER",
    ]);
    expect([...problems({ CLOUD_RUN_JOB: "backfill", NODE_ENV: "production", ...bucket }).keys()]).toEqual([
      "API_KEY_PEPPER",
    ]);
  });

  it("starts with its secrets, with the simulator off", () => {
    const pepper = randomBytes(32).toString("base64url");
    const env = parseEnv(functionsEnvSchema, {
      ...cloudFunctions,
      NODE_ENV: "production",
      API_KEY_PEPPER: pepper,
      MEDIA_BUCKET: "whatsdex-prod-media",
      ...stripe,
    });
    expect(apiKeyPepper(env)).toBe(pepper);
    expect(allowSimulator(env)).toBe(false);
  });

  it("keeps development defaults under the Functions emulator, which sets K_SERVICE too", () => {
    const env = parseEnv(functionsEnvSchema, {
      ...cloudFunctions,
      FUNCTIONS_EMULATOR: "true",
      FIREBASE_AUTH_EMULATOR_HOST: "127.0.0.1:9099",
    });
    expect(env.NODE_ENV).toBe("development");
    expect(apiKeyPepper(env)).toMatch(/development/);
    expect(allowSimulator(env)).toBe(true);
  });

  it("keeps development defaults locally and in tests", () => {
    expect(allowSimulator(parseEnv(functionsEnvSchema, { NODE_ENV: "test" }))).toBe(true);
  });

  it("stops the cold start of a deployed instance, before any request, and not the emulator's", () => {
    // Importing the entry point is what the Functions runtime does when an instance starts.
    const coldStart = (env: Record<string, string>) =>
      spawnSync(process.execPath, ["--conditions=@whatsdex/source", "-e", 'await import("./src/index.ts")'], {
        cwd: new URL("..", import.meta.url),
        env: { PATH: process.env.PATH ?? "", METADATA_SERVER_DETECTION: "none", ...cloudFunctions, ...env },
        encoding: "utf8",
        timeout: 60_000,
      });
    const deployed = coldStart({});
    expect(deployed.status).toBe(1);
    expect(deployed.stderr).toContain("API_KEY_PEPPER");
    expect(deployed.stderr).toContain("NODE_ENV");
    expect(coldStart({ FUNCTIONS_EMULATOR: "true" }).status).toBe(0);
  });
});
