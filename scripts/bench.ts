/**
 * `npm run bench`: runs every `<workspace>/bench/*.bench.ts` suite and reports each task's
 * throughput and p99 latency as ratios to its suite's baseline, measured in this same process.
 * Suites that need emulators get them (free ports). Results go to docs/benchmarks/<suite>.json; a
 * task under its `minRatio` fails the run. `npm run bench -- <suite>` runs one suite and its variants.
 */
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { provideTestStorage } from "@whatsdex/core/testing";
import { Bench } from "tinybench";
import type { BenchSuite, BenchTasks } from "./lib/bench-suite.ts";
import { type EmulatorName, type Emulators, startEmulators } from "./lib/emulators.ts";
import { checkPrerequisites, ROOT } from "./lib/prerequisites.ts";
import { provideRedis, type RedisHandle } from "./lib/redis.ts";

const only = process.argv[2];
const files = ["core", "functions", "session-runner"].flatMap((workspace) => {
  const dir = join(ROOT, workspace, "bench");
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith(".bench.ts"))
      .map((f) => join(dir, f));
  } catch {
    return [];
  }
});

const suites: BenchSuite[] = [];
for (const file of files) {
  const { suite } = (await import(pathToFileURL(file).href)) as { suite: BenchSuite };
  if (!only || suite.name === only || suite.variantOf === only) suites.push(suite);
}
// A suite before its variants (which take longer and leave more behind in this process).
suites.sort((a, b) => Number(a.variantOf !== undefined) - Number(b.variantOf !== undefined));

let emulators: Emulators | undefined;
let redis: RedisHandle | undefined;
const wanted = new Set(suites.flatMap((s) => s.needs ?? []));
const needs = [...wanted].filter((need): need is EmulatorName => need !== "redis");
if (wanted.has("redis")) {
  redis = await provideRedis();
  process.env.REDIS_URL = redis.url;
}
if (needs.length > 0) {
  const prerequisites = await checkPrerequisites();
  mkdirSync(join(ROOT, ".cache", "logs"), { recursive: true });
  emulators = await startEmulators({
    root: ROOT,
    only: needs,
    ports: "free",
    output: { file: join(ROOT, ".cache", "logs", `emulators-bench-${process.pid}.log`) },
    ...prerequisites,
  });
  Object.assign(process.env, emulators.env);
}

// Media lives in Cloud Storage: the local server speaking its JSON API, in this process (cheap).
const stopStorage = await provideTestStorage();

const failures: string[] = [];
try {
  for (const suite of suites) failures.push(...(await runSuite(suite)));
} finally {
  await stopStorage();
  await emulators?.stop();
  await redis?.stop();
}
if (failures.length > 0) {
  console.error(`\n${failures.length} figure${failures.length === 1 ? "" : "s"} out of bounds:`);
  for (const failure of failures) console.error(`  ${failure}`);
}
process.exit(failures.length > 0 ? 1 : 0);

type Measured = Map<string, { ops: number; p50: number; p99: number }>;

async function measureBatches(tasks: BenchTasks, timeMs: number): Promise<Measured> {
  const bench = new Bench({ time: timeMs, warmupTime: 300 });
  for (const [name, fn] of Object.entries(tasks)) bench.add(name, fn);
  await bench.run();
  const measured: Measured = new Map();
  for (const task of bench.tasks) {
    const result = task.result;
    if (result.state !== "completed") throw new Error(`${task.name}: ${result.state}`);
    measured.set(task.name, { ops: result.throughput.mean, p50: result.latency.p50, p99: result.latency.p99 });
  }
  return measured;
}

async function measureInterleaved(tasks: BenchTasks, timeMs: number): Promise<Measured> {
  const entries = Object.entries(tasks);
  const samples = new Map(entries.map(([name]) => [name, [] as number[]]));
  const deadline = performance.now() + timeMs * entries.length;
  for (let round = 0; performance.now() < deadline; round++) {
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[(round + i) % entries.length];
      if (!entry) continue;
      const started = performance.now();
      await entry[1]();
      samples.get(entry[0])?.push(performance.now() - started);
    }
  }
  const measured: Measured = new Map();
  for (const [name, values] of samples) {
    const sorted = [...values].sort((a, b) => a - b);
    const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
    const at = (q: number) =>
      sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * q) - 1))] ?? Number.NaN;
    measured.set(name, { ops: 1_000 / mean, p50: at(0.5), p99: at(0.99) });
  }
  return measured;
}

/** What broke and by how much: "marginalHeapKiBPerBot_bots500 = 312.4, above its max 256 by 56.4 (+22.0%)". */
function outOfBounds(name: string, value: number, bound: number, side: "min" | "max"): string {
  const by = Math.abs(value - bound);
  const percent = bound === 0 ? "" : ` (${side === "max" ? "+" : "-"}${((by / Math.abs(bound)) * 100).toFixed(1)}%)`;
  return `${name} = ${round(value, 3)}, ${side === "max" ? "above" : "below"} its ${side} ${bound} by ${round(by, 3)}${percent}`;
}

/** Runs one suite, prints and writes its report; returns its figures that are out of bounds. */
async function runSuite(suite: BenchSuite): Promise<string[]> {
  const { tasks, teardown, facts } = await suite.setup();
  let measured: Measured = new Map();
  try {
    const timeMs = suite.timeMs ?? 1_500;
    if (Object.keys(tasks).length > 0) {
      measured =
        suite.mode === "interleaved" ? await measureInterleaved(tasks, timeMs) : await measureBatches(tasks, timeMs);
    }
  } finally {
    await teardown?.();
  }
  const base = suite.baseline === undefined ? undefined : measured.get(suite.baseline);
  if (measured.size > 0 && !base)
    throw new Error(`${suite.name}: baseline "${suite.baseline}" is not one of its tasks`);

  const failures: string[] = [];
  console.log(`\n${suite.name}: ${suite.description}${base ? ` (baseline: ${suite.baseline})` : ""}`);
  const rows = [...measured].flatMap(([name, { ops, p50, p99 }]) => {
    if (!base) return [];
    const ratio = ops / base.ops;
    const min = suite.minRatio?.[name];
    const ok = min === undefined || ratio >= min;
    if (min !== undefined && !ok) failures.push(`${suite.name}: ${outOfBounds(`${name} ratio`, ratio, min, "min")}`);
    console.log(
      `  ${name.padEnd(52)} ${ops.toFixed(1).padStart(9)} it/s ${ratio.toFixed(2).padStart(6)}x` +
        `   p50 ${p50.toFixed(3).padStart(8)} ms   p99 ${p99.toFixed(2).padStart(7)} ms ${(p99 / base.p99).toFixed(2).padStart(6)}x` +
        (min === undefined ? "" : `  (min ${min}x ${ok ? "ok" : "FAILED"})`),
    );
    return {
      task: name,
      iterationsPerSecond: round(ops, 1),
      throughputRatio: round(ratio, 3),
      p50Ms: round(p50, 4),
      p99Ms: round(p99, 3),
      p99Ratio: round(p99 / base.p99, 3),
      minRatio: min ?? null,
    };
  });
  const observed = facts?.() ?? {};
  for (const [name, value] of Object.entries(observed)) {
    const limit = suite.factLimits?.[name];
    const failure =
      limit?.min !== undefined && !(value >= limit.min)
        ? outOfBounds(name, value, limit.min, "min")
        : limit?.max !== undefined && !(value <= limit.max)
          ? outOfBounds(name, value, limit.max, "max")
          : undefined;
    if (failure) failures.push(`${suite.name}: ${failure}`);
    const ok = failure === undefined;
    const bounds = limit
      ? `  (${[limit.min !== undefined ? `min ${limit.min}` : "", limit.max !== undefined ? `max ${limit.max}` : ""].filter(Boolean).join(", ")} ${ok ? "ok" : "FAILED"})`
      : "";
    console.log(`  ${name}: ${round(value, 3)}${bounds}`);
  }
  const report = {
    suite: suite.name,
    description: suite.description,
    baseline: suite.baseline ?? null,
    mode: suite.mode ?? "batches",
    measuredAt: new Date().toISOString(),
    node: process.version,
    cpu: `${cpus().length} x ${cpus()[0]?.model ?? "unknown"}`,
    rows,
    facts: observed,
    factLimits: suite.factLimits ?? {},
    failures,
  };
  writeFileSync(join(ROOT, "docs", "benchmarks", `${suite.name}.json`), `${JSON.stringify(report, null, 2)}\n`);
  return failures;
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
