import type { z } from "zod";

/**
 * The job catalog of one queue: each job name with the Zod schema of its payload. Every payload
 * names its tenant, so that a job that ends in the dead letters is shown to that tenant, and so no
 * job can run without saying whose work it is.
 */
export type JobDefinitions = Record<string, z.ZodType<{ tenantId: string }>>;

export function defineJobs<D extends JobDefinitions>(definitions: D): D {
  return definitions;
}

/**
 * Whose work a job is: its tenant, and its bot when it has one. A jobId is a natural key *within*
 * that scope (two bots in one group answering the same message share chat and message id), so the
 * transport's deduplication and the dead-letter record are keyed by scope and jobId together.
 */
export function jobScope(data: { tenantId: string; botId?: unknown }): string {
  const botId = typeof data.botId === "string" ? data.botId : "";
  return `${data.tenantId}/${botId}`;
}

export type JobName<D extends JobDefinitions> = keyof D & string;
export type JobInput<D extends JobDefinitions, N extends JobName<D>> = z.input<D[N]>;
export type JobData<D extends JobDefinitions, N extends JobName<D>> = z.output<D[N]>;
