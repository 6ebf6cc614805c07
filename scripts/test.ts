/**
 * `npm test`: builds the functions, brings up the Firestore, Auth and Functions emulators and a
 * Redis, runs every workspace's Vitest project against them, and stops what it started. Arguments
 * go to Vitest (`npm test -- core/test/redis.test.ts`).
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { type Emulators, startEmulators } from "./lib/emulators.ts";
import { checkPrerequisites, ROOT } from "./lib/prerequisites.ts";
import { run } from "./lib/processes.ts";
import { provideRedis, type RedisHandle } from "./lib/redis.ts";
import { type LocalStorageHandle, provideStorage } from "./lib/storage.ts";
import { type LocalStripeHandle, provideStripe } from "./lib/stripe.ts";

const started = performance.now();
console.log(`node ${process.version}`);

let redis: RedisHandle | undefined;
let emulators: Emulators | undefined;
let storage: LocalStorageHandle | undefined;
let stripe: LocalStripeHandle | undefined;
let stopping = false;
async function stopAll(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await Promise.allSettled([emulators?.stop(), redis?.stop()]);
  await Promise.allSettled([storage?.stop(), stripe?.stop()]);
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void stopAll().then(() => process.exit(130));
  });
}

async function main(): Promise<number> {
  const prerequisites = await checkPrerequisites();
  // The Functions emulator loads functions/lib, so it must be current before the emulators start.
  const built = await run("npm", ["run", "build", "--workspace", "functions", "--silent"], { cwd: ROOT });
  if (built !== 0) return built;

  const logDir = join(ROOT, ".cache", "logs");
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `emulators-test-${process.pid}.log`);
  // Before the emulators: the functions they run are told where it is.
  storage = await provideStorage();
  // The emulated API's Stripe is a local one, never api.stripe.com.
  stripe = await provideStripe({ port: 0 });
  const [redisResult, emulatorResult] = await Promise.allSettled([
    provideRedis(),
    startEmulators({
      root: ROOT,
      only: ["auth", "firestore", "functions"],
      ports: "free",
      output: { file: logFile },
      env: { ...storage.env, ...stripe.env },
      ...prerequisites,
    }),
  ]);
  if (redisResult.status === "fulfilled") redis = redisResult.value;
  if (emulatorResult.status === "fulfilled") emulators = emulatorResult.value;
  if (!redis || !emulators) {
    for (const result of [redisResult, emulatorResult]) {
      if (result.status === "rejected")
        console.error(result.reason instanceof Error ? result.reason.message : result.reason);
    }
    return 1;
  }
  stripe.setWebhookUrl(`${emulators.functionsUrl}/stripeWebhook`);
  console.log(
    `emulators ready (${emulators.env.FIRESTORE_EMULATOR_HOST} firestore; log: ${logFile}); redis ${redis.url} (${redis.source})`,
  );

  const vitest = join(ROOT, "node_modules", ".bin", "vitest");
  const resultsFile = join(ROOT, ".cache", `test-results-${process.pid}.json`);
  const reporters = ["--reporter=default", "--reporter=json", `--outputFile.json=${resultsFile}`];
  const code = await run(vitest, ["run", ...reporters, ...process.argv.slice(2)], {
    cwd: ROOT,
    env: { ...process.env, ...emulators.env, ...storage.env, REDIS_URL: redis.url, NODE_ENV: "test" },
  });
  printTotals(resultsFile);
  return code;
}

const resultsSchema = z.object({
  numPassedTests: z.number(),
  numFailedTests: z.number(),
  numPendingTests: z.number(),
  numTodoTests: z.number(),
});

/** One plain closing line, `N passed, N failed, N skipped`, that any CI can read. */
function printTotals(file: string): void {
  if (!existsSync(file)) return;
  const totals = resultsSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
  rmSync(file, { force: true });
  if (!totals.success) return;
  const { numPassedTests, numFailedTests, numPendingTests, numTodoTests } = totals.data;
  console.log(`${numPassedTests} passed, ${numFailedTests} failed, ${numPendingTests + numTodoTests} skipped`);
}

let code = 1;
try {
  code = await main();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
} finally {
  await stopAll();
}
console.log(`npm test finished in ${((performance.now() - started) / 1000).toFixed(1)} s`);
process.exit(code);
