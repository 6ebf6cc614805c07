import { type OutboundHttp, WebhookDeliverer, type WebhookRefs } from "@whatsdex/core";
import type { JobQueue, Processors, webhookJobs } from "@whatsdex/core/jobs";
import type { Logger } from "pino";

export interface WebhookWorkerDeps {
  refs: WebhookRefs;
  /** The SSRF guard (private targets allowed only in development). */
  http: OutboundHttp;
  logger: Logger;
  /**
   * The webhooks queue, for the next attempt of a failed delivery. A getter: the queue is built
   * with this worker's handler, so it exists only once the processors do.
   */
  queue: () => JobQueue<typeof webhookJobs>;
}

/** The webhooks queue's worker: each `webhook.deliver` job is one attempt (core's WebhookDeliverer). */
export function webhookProcessors(deps: WebhookWorkerDeps): Processors<typeof webhookJobs> {
  let deliverer: WebhookDeliverer | undefined;
  return {
    "webhook.deliver": async (job) => {
      deliverer ??= new WebhookDeliverer({
        refs: deps.refs,
        http: deps.http,
        logger: deps.logger,
        queue: deps.queue(),
      });
      return deliverer.deliver(job);
    },
  };
}
