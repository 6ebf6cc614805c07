import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import {
  AccessCache,
  AccessService,
  BotService,
  createKeyring,
  createRefs,
  LeaseStore,
  MediaStore,
  type PlanId,
  TenantService,
} from "@whatsdex/core";
import { requireEnv, testBucket, uniqueId } from "@whatsdex/core/testing";
import type { Firestore } from "firebase-admin/firestore";
import { pino } from "pino";
import { type BotRuntimeFactoryOptions, botRuntimeFactory } from "../../src/runner/bot-factory.ts";
import { CampaignWatch } from "../../src/runner/campaign-watch.ts";
import { Supervisor, type SupervisorOptions } from "../../src/runner/supervisor.ts";
import type { SimulatedWhatsApp } from "../../src/transport/simulator/simulator.ts";
import type { Transport } from "../../src/transport/transport.ts";
import { EventRecorder } from "./event-recorder.ts";

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
    // The tests' local Cloud Storage (testBucket), where the runner keeps media.
    STORAGE_EMULATOR_HOST: requireEnv("STORAGE_EMULATOR_HOST"),
    MEDIA_BUCKET: requireEnv("MEDIA_BUCKET"),
    BULLMQ_PREFIX: uniqueId("jobs"),
    RUNNER_TENANTS: uniqueId("no-tenant"),
    ...overrides,
  };
}

/** A tenant on `plan` with `count` bots (simulator unless said) that want to run, made through the real services. */
export async function tenantWithBots(
  db: Firestore,
  count: number,
  plan: PlanId = "business",
  transport: "simulator" | "baileys" = "simulator",
) {
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
    const { id } = await bots.create(access, { name: `bot ${i}`, transport });
    await bots.connect(access, id, { method: "qr" });
    botIds.push(id);
  }
  return { tenantId, botIds, access, bots };
}

/** One keyring for every test supervisor, as every instance of a deployment shares AUTH_STATE_KEYS. */
const fleetKeyring = createKeyring(new Map([["k1", randomBytes(32)]]), "k1");

export interface TestSupervisorOptions
  extends Partial<Omit<SupervisorOptions, "db" | "transports" | "onlyTenants" | "createBotRuntime">>,
    Partial<Omit<BotRuntimeFactoryOptions, "db">> {
  /** The simulator (for simulator bots), the production transport (for baileys bots), or both. */
  whatsapp?: SimulatedWhatsApp;
  baileys?: Transport;
  tenantIds: readonly string[];
  /**
   * The lease TTL; renewals and the expiry watchdog follow from it. Long by default: on a loaded
   * machine (the full suite on two cores) a 3 s lease's renewal can stall past its watchdog and end
   * a test's socket mid-conversation. Tests about expiry and takeover set their own.
   */
  ttlMs?: number;
}

/**
 * An in-process supervisor for tests, built as main.ts builds it (a bot runtime factory handed to
 * the supervisor): only the given tenants (the emulator is shared by every test file), the
 * simulator transport, fast backoff and scans, leases renewed at a third of the TTL.
 */
export function testSupervisor(db: Firestore, options: TestSupervisorOptions): Supervisor {
  const {
    whatsapp,
    baileys,
    tenantIds,
    ttlMs = 15_000,
    keyring = fleetKeyring,
    logger = pino({ level: process.env.DEBUG_FLEET ? "debug" : "silent" }),
    backoff = { initialMs: 20, maxMs: 200, stableMs: 1_000, loopCloses: 5, loopWindowMs: 5_000 },
    commands,
    queues,
    wiki,
    version,
    sendTimeoutMs,
    sendMaxWaitMs,
    events,
    eventSink = new EventRecorder(),
    keepInboundMedia,
    campaignClock,
    campaigns,
    media = new MediaStore(testBucket()),
    ...overrides
  } = options;
  const createBotRuntime = botRuntimeFactory({
    db,
    keyring,
    logger,
    backoff,
    ...(commands ? { commands } : {}),
    ...(queues ? { queues } : {}),
    ...(wiki ? { wiki } : {}),
    ...(version ? { version } : {}),
    ...(sendTimeoutMs ? { sendTimeoutMs } : {}),
    ...(sendMaxWaitMs ? { sendMaxWaitMs } : {}),
    ...(events ? { events } : {}),
    eventSink,
    media,
    ...(keepInboundMedia ? { keepInboundMedia } : {}),
    ...(campaignClock ? { campaignClock } : {}),
    campaigns: campaigns ?? new CampaignWatch({ db, onlyTenants: tenantIds, logger }),
  });
  return new Supervisor({
    db,
    onlyTenants: tenantIds,
    leases: new LeaseStore(db, { ttlMs, takeoverGraceMs: 300 }),
    instanceId: uniqueId("runner"),
    capacity: 10,
    transports: { ...(whatsapp ? { simulator: whatsapp.transport() } : {}), ...(baileys ? { baileys } : {}) },
    createBotRuntime,
    logger,
    renewEveryMs: Math.round(ttlMs / 3),
    expirySafetyMs: Math.round(ttlMs / 5),
    scanEveryMs: 200,
    ...overrides,
  });
}
