/**
 * `npm run dev`: the platform on one machine. The Firestore, Auth and Functions emulators (with the
 * project's rules and indexes), a Redis, the functions rebuilt on change, the local WhatsApp server
 * (ADR 26), the session-runner (with its BullMQ workers) restarted on change, and a demo tenant
 * seeded through the API with a bot linked, through the production Baileys socket, to a phone on
 * the local WhatsApp server — then it prints how to talk to it. Ctrl-C stops exactly what this started.
 *
 *   --fresh         start from empty emulators, a new local WhatsApp server and a new demo tenant
 *   --free-ports    pick free ports instead of firebase.json's (the end-to-end test runs beside a dev stack)
 *   --home <dir>    where emulator data, the WhatsApp server's state, the demo's ids and the logs live (default .dev/)
 *   --simulator     the demo bot on the in-process simulator instead (ADR 12), whose phones serve the phone API
 *   --verbose       the session-runner logs at debug level
 */
import { createWriteStream, mkdirSync, rmSync, type WriteStream, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  DEFAULT_DEV_HOME,
  DEMO_BOT_NUMBER,
  DEMO_EMAIL,
  DEMO_PLAN,
  type DemoSeed,
  describeWebhook,
  readableEmulatorLine,
  readableLogLine,
  readDocument,
  seedDemo,
  seedDemoWebhook,
  startWebhookReceiver,
  type WebhookReceiver,
  watchLinking,
  writeDevEndpoints,
} from "@whatsdex/devtools/dev";
import { PhoneClient } from "@whatsdex/devtools/phone-client";
import { LocalWhatsApp, loadState, type PhoneApi, saveStateOnChange, startPhoneApi } from "@whatsdex/local-whatsapp";
import { pino } from "pino";
import { z } from "zod";
import { LOCAL_STRIPE_DEV_PORT } from "../core/src/testing/stripe/control-schema.ts";
import { type Emulators, PROJECT_ID, startEmulators } from "./lib/emulators.ts";
import { freePorts } from "./lib/ports.ts";
import { checkPrerequisites, ROOT } from "./lib/prerequisites.ts";
import { type Managed, pipeWithPrefix, run, startGroup, stopGroup } from "./lib/processes.ts";
import { provideRedis, type RedisHandle } from "./lib/redis.ts";
import { type LocalStorageHandle, provideStorage } from "./lib/storage.ts";
import { type LocalStripeHandle, provideStripe } from "./lib/stripe.ts";
import { httpOk, pollUntil } from "./lib/wait.ts";

const started = performance.now();
const { values: flags } = parseArgs({
  options: {
    fresh: { type: "boolean", default: false },
    "free-ports": { type: "boolean", default: false },
    home: { type: "string", default: DEFAULT_DEV_HOME },
    verbose: { type: "boolean", default: false },
    simulator: { type: "boolean", default: false },
  },
});
const home = resolve(flags.home);
const dataDir = join(home, "emulator-data");
const logDir = join(home, "logs");
const print = (line: string) => process.stdout.write(`${line}\n`);

const children: Managed[] = [];
const logs: WriteStream[] = [];
let redis: RedisHandle | undefined;
let emulators: Emulators | undefined;
let storage: LocalStorageHandle | undefined;
let stripe: LocalStripeHandle | undefined;
let stopping = false;
let stopWatching = () => {};
let receiver: WebhookReceiver | undefined;
let whatsapp: { server: LocalWhatsApp; phones: PhoneApi; stopSaving: () => Promise<void> } | undefined;

async function stopAll(): Promise<void> {
  if (stopping) return;
  stopping = true;
  stopWatching();
  print("stopping…");
  await Promise.allSettled([...children.map((child) => stopGroup(child)), receiver?.close()]);
  // After the runner: its sockets are gone, and the state saved last is the one it left.
  await whatsapp?.stopSaving().catch(() => undefined);
  await Promise.allSettled([whatsapp?.phones.close(), whatsapp?.server.close()]);
  // Last, so that the runner and watchers are gone before the data is exported.
  await Promise.allSettled([emulators?.stop(), redis?.stop()]);
  await Promise.allSettled([storage?.stop(), stripe?.stop()]);
  await Promise.allSettled(logs.map((log) => new Promise((done) => log.end(done))));
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void stopAll().then(() => process.exit(0));
  });
}

/** A service of ours: its output on this terminal (JSON log lines made readable) and, raw, in logs/<name>.log. */
function startChild(name: string, command: string, args: string[], env: Record<string, string> = {}): Managed {
  const child = startGroup(name, command, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  // One run's output: a long-lived laptop stack must not grow its logs forever.
  const log = createWriteStream(join(logDir, `${name}.log`));
  logs.push(log);
  const prefix = `[${name}] `;
  pipeWithPrefix(child, (line) => {
    const raw = line.slice(prefix.length);
    log.write(`${raw}\n`);
    print(`${prefix}${readableLogLine(raw)}`);
  });
  children.push(child);
  void child.exited.then((code) => {
    if (!stopping) print(`[${name}] exited with ${code}; Ctrl-C to stop the rest`);
  });
  return child;
}

const runnerStatus = z.object({
  bots: z.array(z.object({ tenantId: z.string(), botId: z.string(), state: z.string() })),
});

/**
 * Waits for the runner to hold the demo bot (its own `/status`, not the bot document, which keeps
 * the last run's state until the runner writes), and links it the way a phone does when it asks:
 * scans the QR code the dashboard would show.
 */
async function linkDemoBot(seed: DemoSeed, urls: { runner: string; firestoreHost: string }, phones: PhoneClient) {
  const state = async () => {
    const status = runnerStatus.parse(await (await fetch(`${urls.runner}/status`)).json());
    return status.bots.find((b) => b.tenantId === seed.tenantId && b.botId === seed.botId)?.state;
  };
  const held = (wanted: string[]) => async () => wanted.includes((await state()) ?? "");
  await pollUntil("the demo bot to connect or show a QR code", held(["open", "qr"]), { timeoutMs: 60_000 });
  if ((await state()) === "qr") {
    const path = `tenants/${seed.tenantId}/bots/${seed.botId}/linking/current`;
    // The runner shows the QR code first and writes it to the bot's linking document a moment later
    // (until then the document may hold a previous run's code, which no bot shows any more).
    await pollUntil(
      "the demo bot's QR code in its linking document, scanned",
      async () => {
        const qr = (await readDocument(urls.firestoreHost, PROJECT_ID, path))?.qr;
        const code = typeof qr === "object" && qr !== null && "code" in qr ? String(qr.code) : "";
        if (!code) return false;
        // A stale code is refused (`qr_not_found`): poll again.
        await phones.link(code, DEMO_BOT_NUMBER);
        return true;
      },
      { timeoutMs: 30_000 },
    );
  }
  await pollUntil("the demo bot to be connected", held(["open"]), { timeoutMs: 60_000 });
}

/**
 * The local WhatsApp server in this process (it outlives the runner's restarts), its phone API, and
 * what the runner needs to use it: where it is, its root key, its media host and that host's CA.
 */
async function startLocalWhatsApp(port: number, phonesPort: number): Promise<Record<string, string>> {
  const logger = pino({ level: "info" }, pino.destination(join(logDir, "local-whatsapp.log")));
  const statePath = join(home, "local-whatsapp.json");
  const saved = loadState(statePath);
  const server = await LocalWhatsApp.start({ host: "127.0.0.1", port, logger, ...(saved ? { state: saved } : {}) });
  const phones = await startPhoneApi(server, { host: "127.0.0.1", port: phonesPort, logger });
  whatsapp = { server, phones, stopSaving: saveStateOnChange(server, statePath, logger) };
  // The media host's CA is new at every start: the runner reads it from this file when it starts.
  const caFile = join(home, "local-whatsapp-ca.pem");
  writeFileSync(caFile, server.media.caPem);
  return {
    LOCAL_WHATSAPP_URL: server.url,
    LOCAL_WHATSAPP_ROOT_KEY: Buffer.from(server.rootPublicKey).toString("base64"),
    LOCAL_WHATSAPP_MEDIA_ORIGIN: server.media.origin,
    LOCAL_WHATSAPP_MEDIA_CA_FILE: caFile,
  };
}

async function main(): Promise<void> {
  const prerequisites = await checkPrerequisites();
  if (flags.fresh) rmSync(home, { recursive: true, force: true });
  mkdirSync(logDir, { recursive: true });
  const [runnerPort, phonesPort = 0, webhooksPort, stripePort = 0, whatsappPort = 0] = flags["free-ports"]
    ? await freePorts(5)
    : [8090, 8091, 8092, LOCAL_STRIPE_DEV_PORT, 8093];
  // The emulator loads functions/lib at start, so build once before the watcher takes over.
  const built = await run("npm", ["run", "build", "--workspace", "functions", "--silent"], { cwd: ROOT });
  if (built !== 0) throw new Error("the functions build failed");
  // Media (uploads, stickers, received files): the runner and the functions are told where it is.
  storage = await provideStorage();
  // Billing: Stripe's API, its hosted pages and its signed events, on this machine (npm run stripe drives it).
  stripe = await provideStripe({ port: stripePort });

  // Redis first: the API (in the Functions emulator) queues webhook tests and replays on it.
  redis = await provideRedis();
  emulators = await startEmulators({
    root: ROOT,
    only: ["auth", "firestore", "functions"],
    ports: flags["free-ports"] ? "free" : "configured",
    output: { write: (line) => print(readableEmulatorLine(line)) },
    dataDir,
    // The demo webhook's receiver runs on this machine, so the API must accept its http URL.
    env: {
      ...storage.env,
      ...stripe.env,
      // No dashboard yet: customers come back from Stripe to the local Stripe's own "back" page.
      BILLING_RETURN_URL: `${stripe.url}/return`,
      REDIS_URL: redis.url,
      WEBHOOKS_ALLOW_PRIVATE_TARGETS: "true",
    },
    ...prerequisites,
  });
  const env = { ...emulators.env, ...storage.env, REDIS_URL: redis.url };
  // WhatsApp, locally: its own server on the wire (kept across restarts in <home>), or the simulator.
  const transport = flags.simulator ? "simulator" : "baileys";
  const whatsappEnv = flags.simulator
    ? { SIMULATOR_PHONES_PORT: String(phonesPort) }
    : await startLocalWhatsApp(whatsappPort, phonesPort);
  const apiUrl = `${emulators.functionsUrl}/api/v1`;
  const stripeWebhookUrl = `${emulators.functionsUrl}/stripeWebhook`;
  stripe.setWebhookUrl(stripeWebhookUrl);
  const runnerUrl = `http://127.0.0.1:${runnerPort}`;
  const phonesUrl = `http://127.0.0.1:${phonesPort}`;

  startChild("functions-build", process.execPath, [join(ROOT, "functions", "scripts", "build.ts"), "--watch"]);
  startChild(
    "session-runner",
    process.execPath,
    ["--watch", "--conditions=@whatsdex/source", join(ROOT, "session-runner", "src", "main.ts")],
    {
      ...env,
      PORT: String(runnerPort),
      HOST: "127.0.0.1",
      ...whatsappEnv,
      // Webhook receivers in development run on this machine.
      WEBHOOKS_ALLOW_PRIVATE_TARGETS: "true",
      LOG_LEVEL: flags.verbose ? "debug" : "info",
      TRACE_EXPORTER: "none",
      // Bots made from the dashboard are picked up within a second, not the production 5 s.
      RUNNER_SCAN_MS: "1000",
    },
  );

  await pollUntil("the API", () => httpOk(`${apiUrl}/healthz`), { timeoutMs: 60_000 });
  await pollUntil("the session-runner", () => httpOk(`${runnerUrl}/healthz`), { timeoutMs: 60_000 });
  const seed = await seedDemo({
    apiUrl,
    authHost: env.FIREBASE_AUTH_EMULATOR_HOST,
    firestoreHost: env.FIRESTORE_EMULATOR_HOST,
    projectId: PROJECT_ID,
    stateFile: join(home, "demo.json"),
    transport,
  });
  // A tenant's server, locally: the demo endpoint receives every event, verified, printed here.
  receiver = await startWebhookReceiver({
    port: webhooksPort,
    onEvent: (event) => print(`[webhook] ${describeWebhook(event)}`),
    onRejected: (reason) => print(`[webhook] refused a request: ${reason}`),
  });
  const webhook = await seedDemoWebhook({
    apiUrl,
    idToken: seed.idToken,
    tenantId: seed.tenantId,
    url: receiver.url,
    stateFile: join(home, "demo-webhook.json"),
  });
  receiver.setSecret(webhook.secret);
  const phones = new PhoneClient(phonesUrl);
  await linkDemoBot(seed, { runner: runnerUrl, firestoreHost: env.FIRESTORE_EMULATOR_HOST }, phones);

  writeDevEndpoints(home, {
    pid: process.pid,
    apiUrl,
    runnerUrl,
    phonesUrl,
    firestoreHost: env.FIRESTORE_EMULATOR_HOST,
    authHost: env.FIREBASE_AUTH_EMULATOR_HOST,
    projectId: PROJECT_ID,
    redisUrl: redis.url,
    logDir,
    demo: { tenantId: seed.tenantId, botId: seed.botId, botNumber: DEMO_BOT_NUMBER, apiKey: seed.apiKey },
  });
  stopWatching = watchLinking({
    firestoreHost: env.FIRESTORE_EMULATOR_HOST,
    projectId: PROJECT_ID,
    print,
    skip: (path) => path === `tenants/${seed.tenantId}/bots/${seed.botId}`,
    phonesUrl,
  });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  print("");
  print("WhatsDeX is running locally:");
  print(`  API             ${apiUrl}`);
  print(`  API reference   ${apiUrl}/docs/`);
  print(
    `  demo tenant     ${seed.tenantId} (plan ${DEMO_PLAN})${seed.created.length > 0 ? ` (made: ${seed.created.join(", ")})` : ""}`,
  );
  print(
    transport === "baileys"
      ? `  demo bot        ${seed.botId}, on Baileys, linked to the phone +${DEMO_BOT_NUMBER} of the local WhatsApp server`
      : `  demo bot        ${seed.botId}, on the simulator, linked to the simulated phone +${DEMO_BOT_NUMBER}`,
  );
  print(`  API key         ${seed.apiKey}`);
  print(`  owner           ${DEMO_EMAIL} (uid ${seed.uid}); ID token, valid 1 h:`);
  print(`  ID token        ${seed.idToken}`);
  print(`  try             curl -s -H "X-Api-Key: ${seed.apiKey}" ${apiUrl}/tenants/${seed.tenantId}/bots`);
  print(`  webhooks        ${receiver.url} gets every event of the demo tenant, signed; printed as [webhook] lines`);
  print(`  chat            npm run chat   (you, as a WhatsApp user, with the demo bot; .menu lists commands)`);
  print(`  TUI             npm run tui`);
  print(`  QR codes        a bot waiting to be linked shows its QR code (or pairing code) here, in npm run tui,`);
  print(`                  and in tenants/{t}/bots/{b}/linking/current; POST ${phonesUrl}/v1/link scans it`);
  print(`  session-runner  ${runnerUrl}/healthz  ·  /status  ·  /metrics`);
  print(
    whatsapp
      ? `  WhatsApp        ${whatsapp.server.url} (local server, Baileys bots)  ·  phones ${phonesUrl}  ·  state ${join(home, "local-whatsapp.json")}`
      : `  WhatsApp        the in-process simulator (simulator bots)  ·  phones ${phonesUrl}`,
  );
  print(`  Firestore       ${env.FIRESTORE_EMULATOR_HOST}  ·  Auth ${env.FIREBASE_AUTH_EMULATOR_HOST}`);
  print(`  Redis           ${redis.url} (${redis.source})`);
  print(`  Stripe          ${stripe.url} (local: checkout and portal pages, signed events to ${stripeWebhookUrl})`);
  print(
    `  billing         POST ${apiUrl}/tenants/${seed.tenantId}/billing/checkout {"plan":"starter"} (owner's ID token), open the url;`,
  );
  print(
    `                  npm run stripe -- status ${seed.tenantId}   (renew, fail, pay, cancel, end-period: every state)`,
  );
  print(`  Storage         ${storage.env.STORAGE_EMULATOR_HOST} (bucket ${storage.env.MEDIA_BUCKET}, in memory)`);
  print(`  data, logs      ${home} (${flags.fresh ? "fresh start; " : ""}npm run dev -- --fresh wipes it)`);
  print(`WhatsDeX ready in ${seconds} s. Ctrl-C stops everything started here.`);
}

main().catch(async (error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  await stopAll();
  process.exit(1);
});
