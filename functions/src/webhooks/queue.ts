import { CloudTasksClient } from "@google-cloud/tasks";
import { UnavailableError } from "@whatsdex/core";
import { JobQueue, type QueueTransport, queueNames, webhookJobs } from "@whatsdex/core/jobs";
import { bullmqTransport } from "@whatsdex/core/jobs/bullmq";
import { cloudTasksTransport } from "@whatsdex/core/jobs/cloud-tasks";
import { type FunctionsEnv, jobsDriver, missingJobsSettings } from "../config.ts";

export type WebhookQueue = JobQueue<typeof webhookJobs>;

/**
 * The producer side of the session-runner's `webhooks` queue, on the driver the config names: the
 * API queues webhook tests and replays there and the runner's worker delivers them. Without the
 * driver's settings the queue refuses every job with a 503 naming them, and the rest of the API
 * works as before.
 */
export function createWebhookQueue(env: FunctionsEnv, projectId: string): WebhookQueue {
  const name = queueNames.webhooks;
  const missing = missingJobsSettings(env);
  let transport: QueueTransport;
  if (missing.length > 0) {
    transport = unconfigured(missing);
  } else if (jobsDriver(env) === "cloudtasks") {
    const url = `${(env.TASKS_BASE_URL ?? "").replace(/\/$/, "")}/tasks/${name}`;
    // The transport closes the client with itself.
    transport = cloudTasksTransport(new CloudTasksClient(), {
      project: projectId,
      location: env.CLOUD_TASKS_LOCATION ?? "",
      queue: `${env.CLOUD_TASKS_QUEUE_PREFIX}-${name}`,
      url,
      serviceAccountEmail: env.CLOUD_TASKS_SERVICE_ACCOUNT ?? "",
      audience: url,
    });
  } else {
    transport = bullmqTransport({ redisUrl: env.REDIS_URL ?? "", queue: name, prefix: env.BULLMQ_PREFIX });
  }
  return new JobQueue({ name, definitions: webhookJobs, transport });
}

/** A queue that refuses every job (503 naming `missing`): for an API without the driver's settings. */
export function unconfiguredWebhookQueue(missing: readonly string[]): WebhookQueue {
  return new JobQueue({ name: queueNames.webhooks, definitions: webhookJobs, transport: unconfigured(missing) });
}

function unconfigured(missing: readonly string[]): QueueTransport {
  return {
    async enqueue() {
      throw new UnavailableError(
        `Webhook deliveries cannot be queued here: the API is missing ${missing.join(", ")} (docs/settings.md).`,
      );
    },
    async close() {},
  };
}
