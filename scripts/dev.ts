/**
 * `npm run dev`: the platform on one machine. Firestore, Auth and Functions emulators (firebase.json's
 * ports, data kept in .emulator-data/ between runs unless `--fresh`), a Redis, the functions rebuilt
 * on change, and the session-runner restarted on change. Ctrl-C stops exactly what this started.
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { type Emulators, startEmulators } from "./lib/emulators.ts";
import { checkPrerequisites, ROOT } from "./lib/prerequisites.ts";
import { type Managed, pipeWithPrefix, run, startGroup, stopGroup } from "./lib/processes.ts";
import { provideRedis, type RedisHandle } from "./lib/redis.ts";

const RUNNER_PORT = 8090;
const fresh = process.argv.includes("--fresh");
const dataDir = join(ROOT, ".emulator-data");
const print = (line: string) => process.stdout.write(`${line}\n`);

const children: Managed[] = [];
let redis: RedisHandle | undefined;
let emulators: Emulators | undefined;
let stopping = false;

async function stopAll(): Promise<void> {
  if (stopping) return;
  stopping = true;
  print("stopping…");
  await Promise.allSettled(children.map((child) => stopGroup(child)));
  // Last, so that the runner and watchers are gone before the data is exported.
  await Promise.allSettled([emulators?.stop(), redis?.stop()]);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void stopAll().then(() => process.exit(0));
  });
}

function startChild(name: string, command: string, args: string[], env: Record<string, string> = {}): Managed {
  const child = startGroup(name, command, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  pipeWithPrefix(child, print);
  children.push(child);
  void child.exited.then((code) => {
    if (!stopping) print(`[${name}] exited with ${code}; Ctrl-C to stop the rest`);
  });
  return child;
}

async function main(): Promise<void> {
  const prerequisites = await checkPrerequisites();
  if (fresh) rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(join(ROOT, ".cache"), { recursive: true });
  // The emulator loads functions/lib at start, so build once before the watcher takes over.
  const built = await run("npm", ["run", "build", "--workspace", "functions", "--silent"], { cwd: ROOT });
  if (built !== 0) throw new Error("the functions build failed");

  redis = await provideRedis();
  emulators = await startEmulators({
    root: ROOT,
    only: ["auth", "firestore", "functions"],
    ports: "configured",
    output: { write: print },
    dataDir,
    ...prerequisites,
  });
  const env = { ...emulators.env, REDIS_URL: redis.url };

  startChild("functions-build", process.execPath, [join(ROOT, "functions", "scripts", "build.ts"), "--watch"]);
  startChild(
    "session-runner",
    process.execPath,
    ["--watch", "--conditions=@whatsdex/source", join(ROOT, "session-runner", "src", "main.ts")],
    { ...env, PORT: String(RUNNER_PORT), HOST: "127.0.0.1", LOG_LEVEL: "debug", TRACE_EXPORTER: "none" },
  );

  print("");
  print("WhatsDeX is running locally:");
  print(`  API             ${emulators.functionsUrl}/api/v1`);
  print(`  API reference   ${emulators.functionsUrl}/api/v1/docs/`);
  print(`  try             curl -s ${emulators.functionsUrl}/api/v1/healthz`);
  print(`  session-runner  http://127.0.0.1:${RUNNER_PORT}/healthz  ·  /metrics`);
  print(`  Firestore       ${env.FIRESTORE_EMULATOR_HOST}  ·  Auth ${env.FIREBASE_AUTH_EMULATOR_HOST}`);
  print(`  Redis           ${redis.url} (${redis.source})`);
  print(`  data            ${fresh ? "fresh start; " : ""}kept in .emulator-data/ (npm run dev -- --fresh to wipe)`);
  print("Ctrl-C stops everything started here.");
}

main().catch(async (error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  await stopAll();
  process.exit(1);
});
