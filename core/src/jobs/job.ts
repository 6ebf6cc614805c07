import { z } from "zod";

/** BullMQ's backoff option: a fixed delay, or one that doubles after each failed attempt. */
export const backoffSchema = z.union([
  z.number().int().min(0),
  z.strictObject({ type: z.enum(["fixed", "exponential"]), delay: z.number().int().min(0) }),
]);
export type BackoffOptions = z.output<typeof backoffSchema>;

/**
 * The options of `queue.add`, as BullMQ names them. What each driver does with them is in the
 * interface docs (ADR 9): `backoff` is honoured by BullMQ; on Cloud Tasks the queue's retry config
 * sets the delays between attempts.
 */
export const jobsOptionsSchema = z.strictObject({
  /** A natural key: adding a job whose id exists already adds nothing (the job runs once). */
  jobId: z.string().min(1).max(400).optional(),
  /** Milliseconds before the job may run. */
  delay: z
    .number()
    .int()
    .min(0)
    .max(30 * 24 * 3_600_000)
    .optional(),
  /** Total tries, the first included (BullMQ's default: 1). */
  attempts: z.number().int().min(1).max(100).optional(),
  backoff: backoffSchema.optional(),
});
export type JobsOptions = z.output<typeof jobsOptionsSchema>;

/** What a processor sees; the fields BullMQ users know. */
export interface Job<Data = unknown> {
  /** The jobId given to `add`, or a generated one. */
  id: string;
  name: string;
  data: Data;
  /** Attempts that failed before this one. */
  attemptsMade: number;
  /** When the job was first added (ms since the epoch). */
  timestamp: number;
  opts: JobsOptions;
}

export type Processor<Data = unknown, Result = unknown> = (job: Job<Data>) => Promise<Result>;

/** The delay before retry number `attempt` (1 = the first retry), as BullMQ computes it. */
export function backoffDelay(backoff: BackoffOptions | undefined, attempt: number): number {
  if (backoff === undefined) return 0;
  if (typeof backoff === "number") return backoff;
  return backoff.type === "fixed" ? backoff.delay : backoff.delay * 2 ** Math.max(0, attempt - 1);
}
