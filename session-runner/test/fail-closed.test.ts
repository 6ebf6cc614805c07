import { randomBytes } from "node:crypto";
import { ConfigError, parseEnv } from "@whatsdex/core";
import { describe, expect, it } from "vitest";
import { allowSimulator, authStateKeys, localWhatsApp, runnerEnvSchema } from "../src/config.ts";
import { trustLocalWhatsApp } from "../src/transport/baileys/local-whatsapp.ts";

/** What Cloud Run sets in every instance of a service (PORT aside). */
const cloudRun = {
  K_SERVICE: "session-runner",
  K_REVISION: "session-runner-00012-abc",
  K_CONFIGURATION: "session-runner",
};
const production = {
  ...cloudRun,
  NODE_ENV: "production",
  GOOGLE_CLOUD_PROJECT: "whatsdex-prod",
  CLOUD_TASKS_LOCATION: "us-central1",
  CLOUD_TASKS_SERVICE_ACCOUNT: "tasks@whatsdex-prod.iam.gserviceaccount.com",
  TASKS_BASE_URL: "https://session-runner-abc-uc.a.run.app",
  MEDIA_BUCKET: "whatsdex-prod-media",
};

function problems(env: Record<string, string>): Map<string, string> {
  try {
    parseEnv(runnerEnvSchema, env);
  } catch (error) {
    if (error instanceof ConfigError) return new Map(error.issues.map((i) => [i.path, i.message]));
    throw error;
  }
  return new Map();
}

describe("session-runner configuration on Cloud Run (fail closed)", () => {
  it("refuses to start without the session keys and with the simulator, naming every problem at once", () => {
    const found = problems({
      ...cloudRun,
      GOOGLE_CLOUD_PROJECT: "whatsdex-prod",
      REDIS_URL: "redis://10.0.0.3:6379",
      ALLOW_SIMULATOR: "true",
      SIMULATOR_PHONES_PORT: "7000",
      FIRESTORE_EMULATOR_HOST: "127.0.0.1:8080",
      STORAGE_EMULATOR_HOST: "http://127.0.0.1:9199",
    });
    expect([...found.keys()].sort()).toEqual([
      "ALLOW_SIMULATOR",
      "AUTH_STATE_KEYS",
      "FIRESTORE_EMULATOR_HOST",
      "MEDIA_BUCKET",
      "NODE_ENV",
      "SIMULATOR_PHONES_PORT",
      "STORAGE_EMULATOR_HOST",
    ]);
    expect(found.get("AUTH_STATE_KEYS")).toMatch(/^is required but not set .*K_SERVICE is set/);
  });

  it("names the production secret once, with the rest of production's requirements", () => {
    let paths: string[] = [];
    try {
      parseEnv(runnerEnvSchema, production);
    } catch (error) {
      if (error instanceof ConfigError) paths = error.issues.map((issue) => issue.path);
    }
    expect(paths).toEqual(["AUTH_STATE_KEYS"]);
  });

  it("starts with its secrets, sealing with them, simulator off", () => {
    const spec = `k1:${randomBytes(32).toString("base64")}`;
    const env = parseEnv(runnerEnvSchema, { ...production, AUTH_STATE_KEYS: spec });
    expect(authStateKeys(env).activeKeyId).toBe("k1");
    expect(allowSimulator(env)).toBe(false);
  });

  it("refuses a local WhatsApp server in production, on Cloud Run or not, and when half configured", () => {
    const local = {
      LOCAL_WHATSAPP_URL: "ws://127.0.0.1:7100/ws/chat",
      LOCAL_WHATSAPP_ROOT_KEY: randomBytes(32).toString("base64"),
    };
    const spec = `k1:${randomBytes(32).toString("base64")}`;
    expect(problems({ ...production, AUTH_STATE_KEYS: spec, ...local }).get("LOCAL_WHATSAPP_URL")).toMatch(
      /development only/,
    );
    const { K_SERVICE: _s, K_REVISION: _r, K_CONFIGURATION: _c, ...offCloudRun } = production;
    expect(problems({ ...offCloudRun, AUTH_STATE_KEYS: spec, ...local }).get("LOCAL_WHATSAPP_URL")).toMatch(
      /refused in production/,
    );
    const dev = { GOOGLE_CLOUD_PROJECT: "demo-whatsdex", REDIS_URL: "redis://127.0.0.1:6379" };
    expect(problems({ ...dev, LOCAL_WHATSAPP_URL: local.LOCAL_WHATSAPP_URL }).get("LOCAL_WHATSAPP_ROOT_KEY")).toMatch(
      /go together/,
    );
    expect(problems({ ...dev, ...local, LOCAL_WHATSAPP_ROOT_KEY: "c2hvcnQ=" }).get("LOCAL_WHATSAPP_ROOT_KEY")).toMatch(
      /32 bytes/,
    );
    expect(
      problems({ ...dev, LOCAL_WHATSAPP_MEDIA_ORIGIN: "https://127.0.0.1:7443" }).get("LOCAL_WHATSAPP_MEDIA_CA_FILE"),
    ).toMatch(/go together, with LOCAL_WHATSAPP_URL/);
    const target = localWhatsApp(parseEnv(runnerEnvSchema, { ...dev, ...local }));
    expect(target?.rootKey).toHaveLength(32);
    // The trust itself is refused in production too, whatever built the configuration.
    expect(() => trustLocalWhatsApp({ url: local.LOCAL_WHATSAPP_URL, rootKey: randomBytes(32) }, "production")).toThrow(
      /refused with NODE_ENV=production/,
    );
  });

  it("keeps development defaults off Cloud Run", () => {
    const env = parseEnv(runnerEnvSchema, {
      GOOGLE_CLOUD_PROJECT: "demo-whatsdex",
      REDIS_URL: "redis://127.0.0.1:6379",
      SIMULATOR_PHONES_PORT: "0",
    });
    expect(authStateKeys(env).activeKeyId).toBe("dev");
    expect(allowSimulator(env)).toBe(true);
  });
});
