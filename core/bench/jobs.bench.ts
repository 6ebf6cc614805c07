import { trace } from "@opentelemetry/api";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { pino } from "pino";
import { z } from "zod";
import type { BenchSuite } from "../../scripts/lib/bench-suite.ts";
import { bullmqTransport, startBullmqWorker } from "../src/jobs/bullmq/index.ts";
import { DeadLetterStore, defineJobs, JobHandler, JobQueue } from "../src/jobs/index.ts";
import { requireEnv, testFirebase, uniqueId } from "../src/testing/index.ts";

/** Jobs per iteration: enough that per-batch overhead does not dominate. */
const BATCH = 200;
const CONCURRENCY = 8;
/**
 * What the driver sets on every job (attempts, retention of finished jobs, which is also how long
 * a duplicate jobId is recognised): raw BullMQ gets the same, so the ratio is the cost of our layer,
 * not of BullMQ features the baseline would skip.
 */
const RAW_OPTIONS = { attempts: 1, removeOnComplete: { age: 24 * 3_600 }, removeOnFail: { age: 7 * 24 * 3_600 } };
const definitions = defineJobs({ noop: z.object({ tenantId: z.string(), n: z.number() }) });

/** Resolves when `count` more jobs have completed on `worker`. */
function completions(worker: Worker, count: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const onDone = () => {
      seen += 1;
      if (seen === count) {
        worker.off("completed", onDone);
        resolve();
      }
    };
    worker.on("completed", onDone);
  });
}

/**
 * Throughput of the BullMQ driver (validation, envelope, trace context, our handler) against raw
 * BullMQ doing the same work on the same Redis, interleaved batch by batch: add 200 no-op jobs in
 * bulk, wait until a worker with concurrency 8 has completed them all.
 */
export const suite: BenchSuite = {
  name: "jobs-bullmq",
  description: `${BATCH} no-op jobs added in bulk and completed (concurrency ${CONCURRENCY}) per iteration, Redis`,
  baseline: "raw BullMQ",
  mode: "interleaved",
  needs: ["redis", "firestore"],
  timeMs: 4_000,
  minRatio: { "WhatsDeX queue, BullMQ driver": 0.9 },
  async setup() {
    const redisUrl = requireEnv("REDIS_URL");
    const logger = pino({ level: "silent" });
    const firebase = testFirebase();

    const rawName = uniqueId("raw");
    const rawConnection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const rawQueue = new Queue(rawName, { connection: rawConnection });
    const rawWorker = new Worker(rawName, async (job) => job.data.n, {
      connection: new Redis(redisUrl, { maxRetriesPerRequest: null }),
      concurrency: CONCURRENCY,
    });

    const ourName = uniqueId("ours");
    const transport = bullmqTransport({ redisUrl, queue: ourName });
    const handler = new JobHandler({
      queue: ourName,
      definitions,
      processors: { noop: async (job) => job.data.n },
      deadLetters: new DeadLetterStore(firebase.firestore),
      tracer: trace.getTracer("bench"),
      logger,
    });
    const ours = startBullmqWorker(handler, { redisUrl, concurrency: CONCURRENCY, logger });
    const queue = new JobQueue({ name: ourName, definitions, transport });
    const jobs = Array.from({ length: BATCH }, (_, n) => ({ n }));
    return {
      tasks: {
        "raw BullMQ": async () => {
          const done = completions(rawWorker, BATCH);
          await rawQueue.addBulk(
            jobs.map((data) => ({ name: "noop", data: { tenantId: "t", ...data }, opts: RAW_OPTIONS })),
          );
          await done;
        },
        "WhatsDeX queue, BullMQ driver": async () => {
          const done = completions(ours.worker, BATCH);
          await queue.addBulk(jobs.map((data) => ({ name: "noop" as const, data: { tenantId: "t", ...data } })));
          await done;
        },
      },
      async teardown() {
        await Promise.all([rawWorker.close(), ours.close()]);
        await Promise.all([rawQueue.close(), transport.close()]);
        rawConnection.disconnect();
        await firebase.close();
      },
    };
  },
};
