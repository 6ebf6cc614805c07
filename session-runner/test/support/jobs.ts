import { trace } from "@opentelemetry/api";
import {
  DeadLetterStore,
  type JobDefinitions,
  JobHandler,
  type JobHandlerOptions,
  JobQueue,
  type Processors,
} from "@whatsdex/core/jobs";
import { bullmqTransport, startBullmqWorker } from "@whatsdex/core/jobs/bullmq";
import { requireEnv, uniqueId } from "@whatsdex/core/testing";
import type { Firestore } from "firebase-admin/firestore";
import { pino } from "pino";

/**
 * Processors behind a real BullMQ queue and worker on the tests' Redis, as the runner registers
 * them, under a queue name of their own. `close` stops the worker, then the producer.
 */
export function testJobQueue<D extends JobDefinitions>(
  db: Firestore,
  definitions: D,
  processors: Processors<D>,
  options: Pick<JobHandlerOptions<D>, "onFailedForGood"> = {},
) {
  const redisUrl = requireEnv("REDIS_URL");
  const logger = pino({ level: "silent" });
  const name = uniqueId("q");
  const transport = bullmqTransport({ redisUrl, queue: name });
  const handler = new JobHandler({
    queue: name,
    definitions,
    processors,
    deadLetters: new DeadLetterStore(db),
    tracer: trace.getTracer("test"),
    logger,
    ...options,
  });
  const worker = startBullmqWorker(handler, { redisUrl, concurrency: 2, logger });
  return {
    queue: new JobQueue({ name, definitions, transport }),
    async close() {
      await worker.close();
      await transport.close();
    },
  };
}
