import { DelayedError, Queue, UnrecoverableError, Worker } from "bullmq";
import { Redis } from "ioredis";
import type { Logger } from "pino";
import type { JobDefinitions } from "../definitions.ts";
import type { JobHandler } from "../job-handler.ts";
import type { QueueTransport } from "../queue.ts";

/** Finished jobs are kept this long: it is also how long a duplicate jobId is recognised (and not run again). */
const KEEP_COMPLETED_S = 24 * 3_600;
const KEEP_FAILED_S = 7 * 24 * 3_600;

/** BullMQ's connection rules: workers block, so their client must never give up on a request. */
function connect(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null });
}

/** The enqueue side over a real BullMQ queue in Redis. */
export function bullmqTransport(options: { redisUrl: string; queue: string; prefix?: string }): QueueTransport & {
  queue: Queue;
} {
  const connection = connect(options.redisUrl);
  const queue = new Queue(options.queue, { connection, ...(options.prefix ? { prefix: options.prefix } : {}) });
  return {
    queue,
    async enqueue(entries) {
      const added = await queue.addBulk(
        entries.map(({ transportId, envelope, delayMs }) => ({
          name: envelope.name,
          data: envelope,
          opts: {
            ...(transportId === undefined ? {} : { jobId: transportId }),
            delay: delayMs,
            attempts: envelope.opts?.attempts ?? 1,
            ...(envelope.opts?.backoff === undefined ? {} : { backoff: envelope.opts.backoff }),
            removeOnComplete: { age: KEEP_COMPLETED_S },
            removeOnFail: { age: KEEP_FAILED_S },
          },
        })),
      );
      return entries.map(({ envelope }, index) => envelope.id ?? added[index]?.id ?? "");
    },
    async close() {
      await queue.close();
      connection.disconnect();
    },
  };
}

export interface BullmqWorkerOptions {
  redisUrl: string;
  concurrency: number;
  logger: Logger;
  prefix?: string;
}

/**
 * A BullMQ worker running `handler`: its outcomes map onto BullMQ's own mechanisms, so retries and
 * backoff are BullMQ's, a dead-lettered job is failed with UnrecoverableError (no more attempts), and
 * a delay is `moveToDelayed` + DelayedError (no attempt counted).
 */
export function startBullmqWorker<D extends JobDefinitions>(
  handler: JobHandler<D>,
  options: BullmqWorkerOptions,
): { worker: Worker; close(graceMs?: number): Promise<void> } {
  const connection = connect(options.redisUrl);
  const worker = new Worker(
    handler.queue,
    async (job, token) => {
      const outcome = await handler.handle({
        envelope: job.data,
        transportJobId: job.id ?? "",
        transportAttempts: job.attemptsMade,
      });
      switch (outcome.kind) {
        case "completed":
          return outcome.result;
        case "retry":
          throw outcome.error;
        case "failed":
          throw new UnrecoverableError(outcome.error.message);
        case "delayed":
          await job.moveToDelayed(Date.now() + outcome.delayMs, token);
          throw new DelayedError();
      }
    },
    { connection, concurrency: options.concurrency, ...(options.prefix ? { prefix: options.prefix } : {}) },
  );
  // Job failures are the handler's to log; this is the worker itself (Redis gone, a lost lock).
  worker.on("error", (error) => options.logger.error({ err: error, queue: handler.queue }, "job worker error"));
  return {
    worker,
    /**
     * Waits for running jobs up to `graceMs` (a SIGTERM leaves seconds, not minutes), then closes
     * without them: BullMQ hands a job whose worker vanished to another one (stalled-job recovery).
     */
    async close(graceMs = 5_000) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), graceMs);
      });
      const result = await Promise.race([worker.close().then(() => "closed" as const), timedOut]);
      clearTimeout(timer);
      if (result === "timeout") await worker.close(true);
      connection.disconnect();
    },
  };
}
