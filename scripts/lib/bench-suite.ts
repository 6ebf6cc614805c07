/**
 * A benchmark suite: tasks measured against a baseline in the same process and the same run, so
 * results are ratios that hold on a shared or slow machine, not absolute times that do not.
 */
export interface BenchSuite {
  name: string;
  description: string;
  /** Name of the task the others are compared with. */
  baseline: string;
  /** Each call does one unit of work (often a batch, so the timer's resolution does not dominate). */
  tasks: Record<string, () => unknown>;
  /** The least throughput ratio (task / baseline) each task must reach; the run fails below it. */
  minRatio?: Record<string, number>;
}
