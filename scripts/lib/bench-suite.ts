import type { EmulatorName } from "./emulators.ts";

export type BenchTasks = Record<string, () => unknown>;

/**
 * A benchmark suite: tasks measured against a baseline in the same process and the same run, so
 * results are ratios that hold on a shared or slow machine, not absolute times that do not.
 */
export interface BenchSuite {
  name: string;
  description: string;
  /**
   * The suite this one is a variant of (the same figures measured another way, often much slower):
   * `npm run bench -- <that suite>` runs both, `npm run bench -- <this suite>` this one alone.
   */
  variantOf?: string;
  /** Name of the task the others are compared with; absent for a suite that only reports facts (memory). */
  baseline?: string;
  /** Emulators (and Redis) the suite talks to; `npm run bench` starts them and sets their variables first. */
  needs?: ReadonlyArray<EmulatorName | "redis">;
  /** Builds the tasks (each call is one unit of work, often a batch) and what they need. */
  setup(): Promise<{
    tasks: BenchTasks;
    teardown?: () => Promise<void>;
    /** Counts the suite observed during the run (commits per write, hit rates), reported beside the ratios. */
    facts?: () => Record<string, number>;
  }>;
  /** Measuring time per task in ms (default 1,500). */
  timeMs?: number;
  /**
   * `interleaved`: one call of each task in turn, round after round, so drift in a shared service
   * (a JVM emulator still compiling, a cache filling) falls on every task alike instead of on
   * whichever runs first. For I/O-bound tasks; CPU micro-benchmarks use tinybench's batches.
   */
  mode?: "batches" | "interleaved";
  /** The least throughput ratio (task / baseline) each task must reach; the run fails below it. */
  minRatio?: Record<string, number>;
  /**
   * Bounds on facts: ratios the suite computed within its own run, or absolute ceilings where a
   * figure must stay small in itself (heap per bot); the run fails outside them, naming each figure.
   */
  factLimits?: Record<string, { min?: number; max?: number }>;
}
