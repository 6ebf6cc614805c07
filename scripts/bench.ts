/**
 * `npm run bench`: runs every `<workspace>/bench/*.bench.ts` suite and reports each task's
 * throughput as a ratio to its suite's baseline, measured in this same process. Results are written
 * to docs/benchmarks/<suite>.json; a task under its `minRatio` fails the run.
 */
import { readdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Bench } from "tinybench";
import type { BenchSuite } from "./lib/bench-suite.ts";
import { ROOT } from "./lib/prerequisites.ts";

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

let failed = false;
for (const file of files) {
  const { suite } = (await import(pathToFileURL(file).href)) as { suite: BenchSuite };
  if (only && suite.name !== only) continue;
  const bench = new Bench({ time: 1_500, warmupTime: 300 });
  for (const [name, fn] of Object.entries(suite.tasks)) bench.add(name, fn);
  await bench.run();

  const throughput = new Map<string, number>();
  for (const task of bench.tasks) {
    const result = task.result;
    if (result.state !== "completed") throw new Error(`${suite.name} / ${task.name}: ${result.state}`);
    throughput.set(task.name, result.throughput.mean);
  }
  const base = throughput.get(suite.baseline);
  if (!base) throw new Error(`${suite.name}: baseline "${suite.baseline}" is not one of its tasks`);

  console.log(`\n${suite.name}: ${suite.description} (baseline: ${suite.baseline})`);
  const rows = [...throughput].map(([name, ops]) => {
    const ratio = ops / base;
    const min = suite.minRatio?.[name];
    const ok = min === undefined || ratio >= min;
    if (!ok) failed = true;
    console.log(
      `  ${name.padEnd(48)} ${ops.toFixed(1).padStart(10)} it/s  ${ratio.toFixed(2).padStart(6)}x` +
        (min === undefined ? "" : `  (min ${min}x ${ok ? "ok" : "FAILED"})`),
    );
    return {
      task: name,
      iterationsPerSecond: Math.round(ops * 10) / 10,
      ratio: Math.round(ratio * 1000) / 1000,
      minRatio: min ?? null,
    };
  });
  const report = {
    suite: suite.name,
    description: suite.description,
    baseline: suite.baseline,
    measuredAt: new Date().toISOString(),
    node: process.version,
    cpu: `${cpus().length} x ${cpus()[0]?.model ?? "unknown"}`,
    rows,
  };
  writeFileSync(join(ROOT, "docs", "benchmarks", `${suite.name}.json`), `${JSON.stringify(report, null, 2)}\n`);
}
process.exit(failed ? 1 : 0);
