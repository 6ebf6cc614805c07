import express, { type Router } from "express";
import type { Logger } from "pino";
import type { JobDefinitions } from "../definitions.ts";
import { transportId } from "../envelope.ts";
import type { JobHandler } from "../job-handler.ts";
import type { QueueTransport } from "../queue.ts";
import { OidcTokenError } from "./oidc.ts";

export interface CloudTasksReceiverOptions<D extends JobDefinitions> {
  handler: JobHandler<D>;
  /** Throws unless the Authorization header carries a valid token for our service account (oidcVerifier). */
  verify: (authorization: string | undefined) => Promise<void>;
  /** The Cloud Tasks queue id these tasks must come from (X-CloudTasks-QueueName). */
  queueId: string;
  /** Tasks run at once; past it, 429 with Retry-After so Cloud Tasks backs off instead of piling up. */
  concurrency: number;
  /** The queue's own maxAttempts, if set: the last attempt it will make is treated as the last. */
  maxAttempts?: number;
  /** Where a delayed job is added again (the same queue's transport). */
  requeue: QueueTransport;
  logger: Logger;
}

/** Tasks are at most 1 MB (Cloud Tasks' limit); the envelope is JSON. */
const BODY_LIMIT = "1mb";

/**
 * The receiving side of the Cloud Tasks driver, as an Express router (mounted by the
 * session-runner, usable from a function). Nothing runs before the OIDC token is verified and the
 * queue header matches. Answers: 2xx when the job is done or failed for good (recorded as a dead
 * letter, so Cloud Tasks stops), 500 to have Cloud Tasks retry, 429/503 with Retry-After for
 * back-pressure.
 */
export function cloudTasksReceiver<D extends JobDefinitions>(options: CloudTasksReceiverOptions<D>): Router {
  const { handler, verify, queueId, concurrency, logger } = options;
  let running = 0;
  const router = express.Router();

  router.post("/", async (req, res, next) => {
    try {
      await verify(req.get("authorization"));
    } catch (error) {
      const reason = error instanceof OidcTokenError ? error.message : "verification failed";
      logger.warn({ reason, queue: handler.queue }, "refused a task request");
      res.status(401).json({ code: "unauthenticated", message: "A valid Cloud Tasks OIDC token is required." });
      return;
    }
    if (req.get("x-cloudtasks-queuename") !== queueId) {
      res.status(403).json({ code: "forbidden", message: `Tasks here come from queue ${queueId}.` });
      return;
    }
    if (running >= concurrency) {
      res.status(429).set("Retry-After", "1").json({ code: "rate_limited", message: "At capacity; retry later." });
      return;
    }
    // The slot is taken here, before the body is read, so concurrent requests cannot all pass the check.
    running++;
    res.once("close", () => {
      running--;
    });
    next();
  });

  router.post("/", express.json({ limit: BODY_LIMIT, type: () => true }), async (req, res) => {
    try {
      const retries = Number.parseInt(req.get("x-cloudtasks-taskretrycount") ?? "0", 10);
      const outcome = await handler.handle({
        envelope: req.body,
        transportJobId: req.get("x-cloudtasks-taskname") ?? "",
        transportAttempts: Number.isFinite(retries) && retries >= 0 ? retries : 0,
        ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
      });
      switch (outcome.kind) {
        case "completed":
          res.status(200).json({ status: "completed" });
          return;
        case "failed":
          res.status(200).json({ status: "failed", error: outcome.error.message });
          return;
        case "retry":
          res.status(500).json({ status: "retry", error: outcome.error.message });
          return;
        case "delayed": {
          // A new task (a task name cannot be reused soon after it ran), carrying the attempts so far,
          // named after this task so that a redelivery of this one does not delay the job twice.
          const { envelope, delayMs } = outcome;
          const suffix = `delayed-after-${req.get("x-cloudtasks-taskname") ?? ""}`;
          await options.requeue.enqueue([
            { transportId: transportId(handler.queue, envelope.id ?? "", suffix), envelope, delayMs },
          ]);
          res.status(200).json({ status: "delayed", delayMs });
          return;
        }
      }
    } catch (error) {
      // The handler itself failed (Firestore down while recording a dead letter): let Cloud Tasks retry.
      logger.error({ err: error, queue: handler.queue }, "task handling failed");
      res.status(503).set("Retry-After", "5").json({ status: "unavailable" });
    }
  });

  router.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    // A body that is not JSON, or too large: it can never succeed, so Cloud Tasks should stop.
    logger.error({ err: error, queue: handler.queue }, "task request rejected");
    res.status(200).json({ status: "failed", error: "unreadable task body" });
  });
  return router;
}
