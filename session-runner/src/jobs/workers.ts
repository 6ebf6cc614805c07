import { GoogleGenAI } from "@google/genai";
import { CloudTasksClient } from "@google-cloud/tasks";
import type { Tracer } from "@opentelemetry/api";
import {
  EventPublisher,
  type EventSink,
  type MediaStore,
  OutboundHttp,
  OutboxWriter,
  UsageService,
  webhookRefs,
} from "@whatsdex/core";
import {
  aiJobs,
  DeadLetterStore,
  type JobDefinitions,
  JobHandler,
  JobQueue,
  mediaJobs,
  type Processors,
  type QueueKind,
  type QueueTransport,
  queueNames,
  UnrecoverableError,
  webhookJobs,
} from "@whatsdex/core/jobs";
import { bullmqTransport, startBullmqWorker } from "@whatsdex/core/jobs/bullmq";
import { cloudTasksReceiver, cloudTasksTransport, oidcVerifier } from "@whatsdex/core/jobs/cloud-tasks";
import type { Router } from "express";
import type { Firestore } from "firebase-admin/firestore";
import type { Logger } from "pino";
import { ChatMemory } from "../bot/chat-memory.ts";
import { jobsDriver, type RunnerEnv } from "../config.ts";
import { aiProcessors } from "./ai-processor.ts";
import { apologizeForFailedJobs } from "./apology.ts";
import { mediaProcessors } from "./media-processor.ts";
import { webhookProcessors } from "./webhook-worker.ts";

/** An event still undispatched this long after it was stored was left by a crash (a publish takes milliseconds). */
const STRANDED_AFTER_MS = 60_000;
const SWEEP_EVERY_MS = 60_000;

export interface JobWorkers {
  queues: {
    media: JobQueue<typeof mediaJobs>;
    ai: JobQueue<typeof aiJobs>;
    webhooks: JobQueue<typeof webhookJobs>;
  };
  /** Where the runner publishes events: stored and queued for the tenant's webhooks, if any subscribe. */
  events: EventSink;
  /** Cloud Tasks only: the receivers to mount (`/tasks/<queue>`). */
  routes: Array<{ path: string; router: Router }>;
  close(): Promise<void>;
}

export interface JobWorkersDeps {
  env: RunnerEnv;
  projectId: string;
  db: Firestore;
  /** Media in Cloud Storage: jobs' inputs and outputs. */
  media: MediaStore;
  tracer: Tracer;
  logger: Logger;
}

/**
 * Without a Gemini key the AI worker still exists (commands needing Gemini are refused before they
 * queue anything; this covers jobs queued by a runner that had the key), and says so in every job's
 * dead letter, and to the user.
 */
function unconfiguredAi(): Processors<typeof aiJobs> {
  return {
    "ai.answer": async () => {
      throw new UnrecoverableError("Gemini is not configured on this runner (GEMINI_API_KEY).");
    },
    "ai.search": async () => {
      throw new UnrecoverableError("Gemini is not configured on this runner (GEMINI_API_KEY).");
    },
  };
}

/**
 * The three workers, registered by queue, on the driver the config names: BullMQ workers against
 * Redis, or Cloud Tasks receivers (mounted by the HTTP server) with OIDC verification. Producers in
 * this process get the matching queues.
 */
export function startJobWorkers(deps: JobWorkersDeps): JobWorkers {
  const { env, db, media, tracer, logger } = deps;
  const outbox = new OutboxWriter(db);
  const deadLetters = new DeadLetterStore(db);
  const hooks = webhookRefs(db);
  let webhookQueue: JobQueue<typeof webhookJobs> | undefined;
  const genai = env.GEMINI_API_KEY
    ? new GoogleGenAI({
        apiKey: env.GEMINI_API_KEY,
        ...(env.GEMINI_BASE_URL ? { httpOptions: { baseUrl: env.GEMINI_BASE_URL } } : {}),
      })
    : undefined;
  const workers = {
    media: {
      definitions: mediaJobs,
      concurrency: env.JOBS_CONCURRENCY_MEDIA,
      processors: mediaProcessors({ media, outbox }),
    },
    ai: {
      definitions: aiJobs,
      concurrency: env.JOBS_CONCURRENCY_AI,
      processors: genai
        ? aiProcessors({
            genai,
            usage: new UsageService(db),
            outbox,
            memory: new ChatMemory(db),
            media,
            logger,
            timeoutMs: env.AI_TIMEOUT_MS,
            retryAttempts: 4,
            retryInitialDelayS: 1,
          })
        : unconfiguredAi(),
    },
    webhooks: {
      definitions: webhookJobs,
      concurrency: env.JOBS_CONCURRENCY_WEBHOOKS,
      processors: webhookProcessors({
        refs: hooks,
        http: new OutboundHttp({ allowPrivate: env.WEBHOOKS_ALLOW_PRIVATE_TARGETS === "true" }),
        logger,
        queue: () => {
          if (!webhookQueue) throw new Error("the webhooks queue is not built yet");
          return webhookQueue;
        },
      }),
    },
  } as const;

  const closers: Array<() => Promise<void>> = [];
  const routes: JobWorkers["routes"] = [];
  const cloudTasks = jobsDriver(env) === "cloudtasks" ? new CloudTasksClient() : undefined;

  // Media and AI jobs are someone's request in a chat: they hear when it cannot be done. A webhook
  // delivery has nobody in a chat to tell, so its failures stay in the dead letters.
  const apologize = apologizeForFailedJobs(outbox);
  const onBehalfOfUsers: ReadonlySet<QueueKind> = new Set(["media", "ai"]);

  function wire<D extends JobDefinitions>(
    kind: QueueKind,
    worker: { definitions: D; concurrency: number; processors: Processors<D> },
  ): JobQueue<D> {
    const name = queueNames[kind];
    const handler = new JobHandler({
      queue: name,
      definitions: worker.definitions,
      processors: worker.processors,
      deadLetters,
      tracer,
      logger,
      ...(onBehalfOfUsers.has(kind) ? { onFailedForGood: apologize } : {}),
    });
    let transport: QueueTransport;
    if (cloudTasks) {
      const queueId = `${env.CLOUD_TASKS_QUEUE_PREFIX}-${name}`;
      const url = `${(env.TASKS_BASE_URL ?? "").replace(/\/$/, "")}/tasks/${name}`;
      const serviceAccountEmail = env.CLOUD_TASKS_SERVICE_ACCOUNT ?? "";
      transport = cloudTasksTransport(cloudTasks, {
        project: deps.projectId,
        location: env.CLOUD_TASKS_LOCATION ?? "",
        queue: queueId,
        url,
        serviceAccountEmail,
        audience: url,
      });
      routes.push({
        path: `/tasks/${name}`,
        router: cloudTasksReceiver({
          handler,
          verify: oidcVerifier({ audience: url, serviceAccountEmail }),
          queueId,
          concurrency: worker.concurrency,
          maxAttempts: env.CLOUD_TASKS_MAX_ATTEMPTS,
          requeue: transport,
          logger,
        }),
      });
    } else {
      const redisUrl = env.REDIS_URL ?? "";
      transport = bullmqTransport({ redisUrl, queue: name, prefix: env.BULLMQ_PREFIX });
      const running = startBullmqWorker(handler, {
        redisUrl,
        concurrency: worker.concurrency,
        logger,
        prefix: env.BULLMQ_PREFIX,
      });
      closers.push(
        () => running.close(),
        () => transport.close(),
      );
    }
    return new JobQueue({ name, definitions: worker.definitions, transport });
  }

  const queues = {
    media: wire("media", workers.media),
    ai: wire("ai", workers.ai),
    webhooks: wire("webhooks", workers.webhooks),
  };
  webhookQueue = queues.webhooks;
  const events = new EventPublisher({ refs: hooks, queue: queues.webhooks, logger });
  // Events a crash left stored but unqueued are queued by whichever instance sweeps first (the
  // queue's job ids make a second sweep harmless).
  const sweeper = setInterval(() => {
    events
      .dispatchStranded(STRANDED_AFTER_MS)
      .then((count) => {
        if (count > 0) logger.warn({ count }, "queued the deliveries of events a crash had left undispatched");
      })
      .catch((error: unknown) => logger.warn({ err: error }, "sweeping undispatched events failed"));
  }, SWEEP_EVERY_MS);
  sweeper.unref();
  closers.unshift(async () => clearInterval(sweeper));
  if (cloudTasks) closers.push(() => cloudTasks.close());
  return {
    queues,
    events,
    routes,
    async close() {
      // Workers first (they finish their jobs), then the producers' connections.
      for (const close of closers)
        await close().catch((error: unknown) => logger.warn({ err: error }, "closing a job worker failed"));
    },
  };
}
