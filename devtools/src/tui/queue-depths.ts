import { Queue } from "bullmq";
import type { Redis } from "ioredis";

/** The job states shown, in BullMQ's names. */
export const jobStates = ["waiting", "active", "delayed", "prioritized", "failed", "completed"] as const;
export type JobState = (typeof jobStates)[number];

export interface QueueDepth {
  queue: string;
  counts: Readonly<Record<JobState, number>>;
}

export type QueueDepths =
  | { kind: "loading" }
  | { kind: "ok"; queues: readonly QueueDepth[] }
  | { kind: "down"; message: string };

export interface QueueDepthsOptions {
  /** One connection shared by every queue; its owner closes it after `close()`. */
  connection: Redis;
  prefix: string;
  queues: readonly string[];
  intervalMs: number;
  /** A Redis that does not answer within this is shown as down (ioredis queues commands while it reconnects). */
  timeoutMs: number;
  onChange(depths: QueueDepths): void;
}

/**
 * The depth of each BullMQ queue, read with BullMQ's own `getJobCounts` every `intervalMs`: Redis
 * offers nothing to listen to for counts. A poll never starts while the previous one is unanswered.
 */
export function pollQueueDepths(options: QueueDepthsOptions): { close(): Promise<void> } {
  let lastError: string | undefined;
  // ioredis prints unhandled `error` events to the console, which would tear through the TUI's frame.
  const onRedisError = (error: Error) => {
    lastError = error.message;
  };
  options.connection.on("error", onRedisError);
  const queues = options.queues.map((name) => {
    const queue = new Queue(name, { connection: options.connection, prefix: options.prefix });
    queue.on("error", onRedisError);
    return queue;
  });
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  let inFlight: Promise<QueueDepth[]> | undefined;
  /** The current read's deadline; cleared on close, so an unanswered read holds the process no longer. */
  let deadline: NodeJS.Timeout | undefined;
  async function read(): Promise<QueueDepths> {
    // A read still unanswered when the next is due is waited on again, not repeated.
    inFlight ??= Promise.all(
      queues.map(async (queue) => ({ queue: queue.name, counts: countsOf(await queue.getJobCounts(...jobStates)) })),
    ).finally(() => {
      inFlight = undefined;
    });
    const gaveUp = new Promise<never>((_, reject) => {
      deadline = setTimeout(
        () => reject(new Error(lastError ?? `no answer within ${options.timeoutMs} ms`)),
        options.timeoutMs,
      );
    });
    try {
      const depths = await Promise.race([inFlight, gaveUp]);
      lastError = undefined;
      return { kind: "ok", queues: depths };
    } catch (error) {
      return { kind: "down", message: error instanceof Error ? error.message : String(error) };
    } finally {
      clearTimeout(deadline);
    }
  }

  const loop = () => {
    void read().then((depths) => {
      if (closed) return;
      options.onChange(depths);
      timer = setTimeout(loop, options.intervalMs);
    });
  };
  loop();

  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      clearTimeout(deadline);
      await Promise.allSettled(queues.map((queue) => queue.close()));
      options.connection.off("error", onRedisError);
    },
  };
}

function countsOf(counts: Readonly<Record<string, number>>): Record<JobState, number> {
  return {
    waiting: counts.waiting ?? 0,
    active: counts.active ?? 0,
    delayed: counts.delayed ?? 0,
    prioritized: counts.prioritized ?? 0,
    failed: counts.failed ?? 0,
    completed: counts.completed ?? 0,
  };
}
