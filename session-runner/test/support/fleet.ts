import { fileURLToPath } from "node:url";
import { AccessCache, AccessService, BotService, createRefs, type PlanId, TenantService } from "@whatsdex/core";
import { requireEnv, uniqueId } from "@whatsdex/core/testing";
import type { Firestore } from "firebase-admin/firestore";

/** The runner's entry point, run from source as Cloud Run would start the built one. */
export const runnerMain = fileURLToPath(new URL("../../src/main.ts", import.meta.url));

/**
 * The environment a spawned runner gets: the emulators, no metadata-server probing, and a tenant
 * scope so that it never touches another test file's bots in the shared emulator.
 */
export function runnerEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    NODE_ENV: "test",
    TRACE_EXPORTER: "none",
    FIRESTORE_EMULATOR_HOST: requireEnv("FIRESTORE_EMULATOR_HOST"),
    GCLOUD_PROJECT: requireEnv("GCLOUD_PROJECT"),
    METADATA_SERVER_DETECTION: "none",
    REDIS_URL: requireEnv("REDIS_URL"),
    BULLMQ_PREFIX: uniqueId("jobs"),
    RUNNER_TENANTS: uniqueId("no-tenant"),
    ...overrides,
  };
}

/** A tenant on `plan` with `count` simulator bots that want to run, made through the real services. */
export async function tenantWithBots(db: Firestore, count: number, plan: PlanId = "business") {
  const refs = createRefs(db);
  const principal = { kind: "user" as const, uid: uniqueId("user"), email: null };
  const { id: tenantId } = await new TenantService(refs).create(principal, { name: "Fleet" });
  await refs.tenant(tenantId).update({ plan });
  const access = await new AccessService(refs, new AccessCache({ ttlMs: 0 })).require(
    principal,
    tenantId,
    "bots:write",
  );
  const bots = new BotService(refs, { allowSimulator: true });
  const botIds: string[] = [];
  for (let i = 0; i < count; i++) {
    const { id } = await bots.create(access, { name: `bot ${i}`, transport: "simulator" });
    await bots.connect(access, id, { method: "qr" });
    botIds.push(id);
  }
  return { tenantId, botIds, access, bots };
}
