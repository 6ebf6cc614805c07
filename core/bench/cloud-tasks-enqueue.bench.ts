import { z } from "zod";
import type { BenchSuite } from "../../scripts/lib/bench-suite.ts";
import { cloudTasksTransport } from "../src/jobs/cloud-tasks/index.ts";
import { defineJobs, JobQueue } from "../src/jobs/index.ts";
import { startLocalCloudTasks, uniqueId } from "../src/testing/index.ts";

const BATCH = 50;
const definitions = defineJobs({ noop: z.object({ tenantId: z.string(), n: z.number() }) });

/**
 * The Cloud Tasks driver's enqueue cost: `addBulk` of 50 jobs (validation, envelope, hashed task
 * names, 16 createTask calls in flight) against the same 50 createTask calls made directly with the
 * real client, both to a local Cloud Tasks gRPC server that records and does not deliver.
 */
export const suite: BenchSuite = {
  name: "jobs-cloudtasks-enqueue",
  description: `${BATCH} tasks created per iteration through the real @google-cloud/tasks client, local gRPC server`,
  baseline: "raw createTask",
  mode: "interleaved",
  timeMs: 3_000,
  minRatio: { "WhatsDeX queue, Cloud Tasks driver": 0.8 },
  async setup() {
    const local = await startLocalCloudTasks({ dispatch: false });
    const client = local.client();
    const target = {
      project: "demo-whatsdex",
      location: "local",
      queue: uniqueId("q"),
      url: "http://127.0.0.1:9/tasks",
      serviceAccountEmail: "tasks@demo-whatsdex.iam.gserviceaccount.com",
      audience: "http://127.0.0.1:9/tasks",
    };
    const parent = client.queuePath(target.project, target.location, target.queue);
    const queue = new JobQueue({
      name: target.queue,
      definitions,
      transport: cloudTasksTransport(local.client(), target),
    });
    const body = Buffer.from(JSON.stringify({ tenantId: "t", n: 1 }));
    let batches = 0;
    return {
      tasks: {
        "raw createTask": async () => {
          batches += 1;
          const create = (i: number) =>
            client.createTask({
              parent,
              task: {
                name: `${parent}/tasks/raw-${batches}-${i}`,
                httpRequest: {
                  httpMethod: "POST",
                  url: target.url,
                  body,
                  oidcToken: { serviceAccountEmail: target.serviceAccountEmail, audience: target.audience },
                },
              },
            });
          // The same parallelism as the driver's: 16 calls in flight.
          for (let start = 0; start < BATCH; start += 16) {
            await Promise.all(Array.from({ length: Math.min(16, BATCH - start) }, (_, i) => create(start + i)));
          }
        },
        "WhatsDeX queue, Cloud Tasks driver": async () => {
          await queue.addBulk(
            Array.from({ length: BATCH }, (_, n) => ({ name: "noop" as const, data: { tenantId: "t", n } })),
          );
        },
      },
      facts: () => ({ tasksRecorded: local.tasks.length }),
      teardown: () => local.close(),
    };
  },
};
