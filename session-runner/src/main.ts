/**
 * The session-runner's composition root: parse the environment (or list every problem and exit),
 * build the logger, tracing, Firestore, transports and server, start the supervisor that keeps this
 * instance's bots connected, and stop cleanly on SIGTERM inside Cloud Run's 10 s: sockets ended and
 * leases released first, so another instance can take the bots at once.
 */
import { hostname } from "node:os";
import {
  createFirebase,
  createKeyring,
  createLogger,
  createMediaBucket,
  LeaseStore,
  loadEnvOrExit,
  MediaStore,
  mediaBucketName,
  packageVersion,
  projectIdFrom,
  startTracing,
} from "@whatsdex/core";
import { allCommands } from "./commands/all-commands.ts";
import { CommandRegistry } from "./commands/command.ts";
import { allowSimulator, authStateKeys, localWhatsApp, runnerEnvSchema, traceExporterFor } from "./config.ts";
import { startRunner } from "./http/server.ts";
import { startJobWorkers } from "./jobs/workers.ts";
import { sessionMetrics, supervisorGauges } from "./metrics/session-metrics.ts";
import { botRuntimeFactory } from "./runner/bot-factory.ts";
import { CampaignWatch } from "./runner/campaign-watch.ts";
import { Supervisor } from "./runner/supervisor.ts";
import { wikipedia } from "./search/wiki-provider.ts";
import { baileysTransport } from "./transport/baileys/baileys-transport.ts";
import { trustLocalWhatsApp } from "./transport/baileys/local-whatsapp.ts";
import { SimulatedWhatsApp } from "./transport/simulator/simulator.ts";
import { startSimulatorPhones } from "./transport/simulator/simulator-phones.ts";

const env = loadEnvOrExit(runnerEnvSchema, process.env);
const version = env.SERVICE_VERSION ?? packageVersion(import.meta.url);
// Present: the schema requires one of the two variables.
const projectId = projectIdFrom(env) ?? "";
const instanceId = env.RUNNER_INSTANCE_ID ?? `${hostname()}-${process.pid}`;
const logger = createLogger({ level: env.LOG_LEVEL, service: "session-runner", version, projectId });
const tracing = await startTracing({
  serviceName: "whatsdex-session-runner",
  version,
  exporter: traceExporterFor(env),
  projectId,
  sampleRatio: env.TRACE_SAMPLE_RATIO,
});

const firebase = createFirebase({ projectId });
const media = new MediaStore(
  createMediaBucket({
    projectId,
    bucketName: mediaBucketName(env, projectId),
    emulatorHost: env.STORAGE_EMULATOR_HOST,
  }),
);
const jobs = startJobWorkers({ env, projectId, db: firebase.firestore, media, tracer: tracing.tracer, logger });

const runner = await startRunner({
  logger,
  tracing,
  version,
  instanceId,
  host: env.HOST,
  port: env.PORT,
  shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
  routes: jobs.routes,
});

const simulator = allowSimulator(env) ? new SimulatedWhatsApp() : undefined;
// Development and tests: the real Baileys socket, against a local WhatsApp server.
const local = localWhatsApp(env);
if (local) trustLocalWhatsApp(local, env.NODE_ENV);
const phones =
  simulator && env.SIMULATOR_PHONES_PORT !== undefined
    ? await startSimulatorPhones(simulator, { host: "127.0.0.1", port: env.SIMULATOR_PHONES_PORT, logger })
    : undefined;

const { keys, activeKeyId } = authStateKeys(env);
const createBotRuntime = botRuntimeFactory({
  db: firebase.firestore,
  keyring: createKeyring(keys, activeKeyId),
  logger,
  backoff: { initialMs: 2_000, maxMs: 300_000, stableMs: 60_000, loopCloses: 5, loopWindowMs: 120_000 },
  events: sessionMetrics(runner.metrics.registry).events,
  eventSink: jobs.events,
  // Commands whose backend this runner lacks are answered as unavailable and left out of the menu.
  commands: new CommandRegistry(allCommands, { unavailable: env.GEMINI_API_KEY ? [] : ["gemini"] }),
  wiki: wikipedia({
    urlTemplate: env.WIKIPEDIA_URL,
    timeoutMs: 5_000,
    userAgent: `WhatsDeX/${version} (WhatsApp bot platform)`,
  }),
  queues: { media: jobs.queues.media, ai: jobs.queues.ai },
  version,
  media,
  keepInboundMedia: (bot, mediaId, received) => media.putInbound(bot, mediaId, received),
  // One listener for the instance's campaigns, not one per bot.
  campaigns: new CampaignWatch({
    db: firebase.firestore,
    logger,
    ...(env.RUNNER_TENANTS ? { onlyTenants: env.RUNNER_TENANTS } : {}),
  }),
});
const supervisor = new Supervisor({
  db: firebase.firestore,
  leases: new LeaseStore(firebase.firestore, { ttlMs: env.LEASE_TTL_MS, takeoverGraceMs: env.LEASE_TAKEOVER_GRACE_MS }),
  instanceId,
  capacity: env.RUNNER_CAPACITY,
  ...(env.RUNNER_TENANTS ? { onlyTenants: env.RUNNER_TENANTS } : {}),
  transports: {
    baileys: baileysTransport(
      local ? { waWebSocketUrl: local.url } : {},
      local?.media ? { origins: [local.media.origin] } : {},
    ),
    ...(simulator ? { simulator: simulator.transport() } : {}),
  },
  createBotRuntime,
  logger,
  renewEveryMs: Math.round(env.LEASE_TTL_MS / 3),
  expirySafetyMs: Math.round(env.LEASE_TTL_MS / 6),
  scanEveryMs: env.RUNNER_SCAN_MS,
});
supervisorGauges(runner.metrics.registry, supervisor);
runner.health.reportBots(() => supervisor.health());
supervisor.start();

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    supervisor
      .stop()
      .then(() => Promise.all([jobs.close(), phones?.close()]))
      .then(() => runner.stop(signal))
      .then(() => firebase.close())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.fatal({ err: error }, "shutdown failed");
          process.exit(1);
        },
      );
  });
}
