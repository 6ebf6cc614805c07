import { createHash } from "node:crypto";
import { context, propagation } from "@opentelemetry/api";
import { z } from "zod";
import { type JobsOptions, jobsOptionsSchema } from "./job.ts";

/**
 * What travels through either driver for one job: the payload plus what the receiving side needs
 * to honour BullMQ's semantics on a transport that does not have them (attempt limits, the id the
 * caller chose, when it was first added) and the W3C trace context of whoever added it.
 */
export const envelopeSchema = z.object({
  v: z.literal(1),
  /** The caller's jobId; absent, the job is known by its transport's id (BullMQ job id, task name). */
  id: z.string().min(1).optional(),
  name: z.string().min(1),
  data: z.unknown(),
  opts: jobsOptionsSchema.default({}),
  /** Attempts already made before this delivery began counting (a delayed job re-added keeps them). */
  attemptsBefore: z.number().int().min(0).default(0),
  timestamp: z.number().int(),
  trace: z.record(z.string(), z.string()).default({}),
});
export type Envelope = z.input<typeof envelopeSchema>;
export type ParsedEnvelope = z.output<typeof envelopeSchema>;

/**
 * Only what the receiving side needs travels: every field at its default is left out, so a job
 * costs the transport (Redis memory, Cloud Tasks payload) little more than its data.
 */
export function createEnvelope(name: string, data: unknown, opts: JobsOptions, now = Date.now()): Envelope {
  const trace: Record<string, string> = {};
  propagation.inject(context.active(), trace);
  const { jobId, delay: _delay, ...receiving } = opts;
  return {
    v: 1,
    ...(jobId === undefined ? {} : { id: jobId }),
    name,
    data,
    ...(Object.keys(receiving).length > 0 ? { opts: receiving } : {}),
    timestamp: now,
    ...(Object.keys(trace).length > 0 ? { trace } : {}),
  };
}

/**
 * The id a job has in the transport: a hash of its id, so any natural key (colons, slashes, length)
 * is a valid BullMQ job id and Cloud Tasks task name, and task names do not share prefixes (which
 * Cloud Tasks warns slows dispatch).
 */
export function transportId(queue: string, jobId: string, suffix = ""): string {
  return createHash("sha256").update(`${queue}\u0000${jobId}\u0000${suffix}`).digest("hex").slice(0, 40);
}
