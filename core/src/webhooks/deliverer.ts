import { performance } from "node:perf_hooks";
import { Timestamp } from "firebase-admin/firestore";
import type { JobData } from "../jobs/definitions.ts";
import type { Job } from "../jobs/job.ts";
import type { webhookJobs } from "../jobs/job-catalog.ts";
import type { JobQueue } from "../jobs/queue.ts";
import type { Logger } from "../logging/logger.ts";
import { type OutboundHttp, OutboundRequestError } from "../net/ssrf-guard.ts";
import { deliverJobOptions, scheduledJobId } from "./event-publisher.ts";
import { deliverySchedule, retryAfterMs, withJitter } from "./retry-schedule.ts";
import type { DeliveryAttempt, WebhookDeliveryDoc, WebhookEndpointDoc, WebhookSecretDoc } from "./schema.ts";
import { signedHeaders } from "./standard-webhooks.ts";
import type { WebhookRefs } from "./webhook-refs.ts";

type DeliverData = JobData<typeof webhookJobs, "webhook.deliver">;

/** The delivery log keeps this many attempts; replays past it push the oldest out. */
export const MAX_LOGGED_ATTEMPTS = 50;
/** An endpoint failing without a single success for this long is disabled. */
export const DISABLE_AFTER_FAILING_MS = 5 * 86_400_000;

export interface DelivererOptions {
  refs: WebhookRefs;
  /** Where the next attempt of a failed delivery is queued. */
  queue: JobQueue<typeof webhookJobs>;
  /** The SSRF guard every request goes through. */
  http: OutboundHttp;
  logger: Logger;
  now?: () => number;
  /** Delay before each attempt (index 0: the first); its length is the number of attempts. */
  schedule?: readonly number[];
  random?: () => number;
  timeoutMs?: number;
}

/** What one job did, for the job's result and the tests. */
export type DeliverOutcome =
  | { kind: "skipped"; reason: string }
  | { kind: "cancelled"; reason: string }
  | { kind: "delivered"; statusCode: number }
  | { kind: "retrying"; statusCode: number | null; delayMs: number }
  | { kind: "failed"; statusCode: number | null; endpointDisabled: boolean };

/** What an attempt leads to, and why the endpoint is disabled if it is. */
type Decision = Exclude<DeliverOutcome, { kind: "skipped" | "cancelled" }> & { disabledReason?: string };

interface Loaded {
  endpoint: WebhookEndpointDoc;
  secret: WebhookSecretDoc;
  body: string;
  delivery: WebhookDeliveryDoc | undefined;
  expiresAt: Timestamp;
  type: WebhookDeliveryDoc["type"];
}

/**
 * Makes one attempt of one delivery (a `webhook.deliver` job): signs the stored body, POSTs it
 * through the SSRF guard, records the attempt, and on failure queues the next attempt as a new job
 * with the schedule's delay. Nothing waits in memory, so a restart loses no retry. The job
 * succeeds once the attempt is recorded, whatever the endpoint answered (the queue's own retries are
 * for our failures: a Firestore error throws before anything is recorded).
 */
export class WebhookDeliverer {
  readonly #refs: WebhookRefs;
  readonly #queue: JobQueue<typeof webhookJobs>;
  readonly #http: OutboundHttp;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #schedule: readonly number[];
  readonly #random: () => number;
  readonly #timeoutMs: number;

  constructor(options: DelivererOptions) {
    this.#refs = options.refs;
    this.#queue = options.queue;
    this.#http = options.http;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#schedule = options.schedule ?? deliverySchedule;
    this.#random = options.random ?? Math.random;
    this.#timeoutMs = options.timeoutMs ?? 15_000;
  }

  async deliver(job: Job<DeliverData>): Promise<DeliverOutcome> {
    const { tenantId, eventId, webhookId, attempt, replay } = job.data;
    const log = this.#logger.child({ tenantId, webhookId, eventId, attempt, replay });
    const loaded = await this.#load(tenantId, webhookId, eventId);
    if (loaded.kind !== "ready") {
      if (loaded.kind === "cancelled") await this.#cancel(tenantId, webhookId, eventId, loaded.reason);
      log.info({ reason: loaded.reason }, "webhook delivery not attempted");
      return loaded;
    }
    const { endpoint, secret, body, delivery } = loaded;
    if (!replay && delivery) {
      if (delivery.status === "delivered" || delivery.status === "cancelled" || delivery.status === "failed") {
        return { kind: "skipped", reason: `the delivery is ${delivery.status} already` };
      }
      // The same scheduled attempt run twice (a redelivered job, a sweep after a crash): made once.
      if (delivery.attempts.filter((a) => !a.replay).length >= attempt) {
        return { kind: "skipped", reason: `attempt ${attempt} was made already` };
      }
    }

    const startedAt = this.#now();
    const timestamp = Math.floor(startedAt / 1000);
    const secrets = [secret.current];
    if (secret.previous && secret.previousExpiresAt && secret.previousExpiresAt.toMillis() > startedAt) {
      secrets.push(secret.previous);
    }
    const headers = { ...signedHeaders(secrets, eventId, timestamp, body), "content-type": "application/json" };
    const started = performance.now();
    let statusCode: number | null = null;
    let error: string | null = null;
    let response: string | null = null;
    let retryAfter: number | undefined;
    try {
      const res = await this.#http.request({
        url: endpoint.url,
        method: "POST",
        headers: { ...headers, "user-agent": "WhatsDeX-Webhooks/1" },
        body,
        timeoutMs: this.#timeoutMs,
        maxResponseBytes: 1_024,
      });
      statusCode = res.status;
      response = res.body.toString("utf8").slice(0, 1_024);
      if (statusCode < 200 || statusCode >= 300) error = httpError(statusCode, res.headers.location);
      if (statusCode === 429 || statusCode === 503) retryAfter = retryAfterMs(res.headers["retry-after"], startedAt);
    } catch (caught) {
      if (!(caught instanceof OutboundRequestError)) throw caught;
      error = `${caught.code}: ${caught.message}`;
    }
    const record: DeliveryAttempt = {
      at: Timestamp.fromMillis(startedAt),
      statusCode,
      error,
      latencyMs: Math.max(0, Math.round(performance.now() - started)),
      response,
      replay,
    };

    const decision = this.#decide(statusCode, attempt, retryAfter, endpoint, startedAt);
    if (decision.kind === "retrying") {
      // Queued before the attempt is recorded: if recording fails, this job runs again and queues
      // the same job id again, which the queue ignores; the other order could lose the retry.
      await this.#queue.add(
        "webhook.deliver",
        { tenantId, eventId, webhookId, attempt: attempt + 1, replay },
        {
          ...deliverJobOptions,
          jobId: nextJobId(job.id, eventId, webhookId, attempt + 1, replay),
          delay: decision.delayMs,
        },
      );
    }
    await this.#record(tenantId, webhookId, eventId, loaded, record, decision, startedAt);
    log.info({ statusCode, error, outcome: decision.kind }, "webhook delivery attempted");
    const { disabledReason: _, ...outcome } = decision;
    return outcome;
  }

  #decide(
    statusCode: number | null,
    attempt: number,
    retryAfter: number | undefined,
    endpoint: WebhookEndpointDoc,
    nowMs: number,
  ): Decision {
    if (statusCode !== null && statusCode >= 200 && statusCode < 300) return { kind: "delivered", statusCode };
    if (statusCode === 410) {
      return { kind: "failed", statusCode, endpointDisabled: true, disabledReason: "the endpoint answered 410 Gone" };
    }
    const failingSince = endpoint.failingSince?.toMillis();
    if (failingSince !== undefined && nowMs - failingSince >= DISABLE_AFTER_FAILING_MS) {
      const since = new Date(failingSince).toISOString();
      return {
        kind: "failed",
        statusCode,
        endpointDisabled: true,
        disabledReason: `every delivery failed for 5 days (since ${since})`,
      };
    }
    const step = this.#schedule[attempt];
    if (step === undefined) return { kind: "failed", statusCode, endpointDisabled: false };
    return { kind: "retrying", statusCode, delayMs: retryAfter ?? withJitter(step, this.#random) };
  }

  async #load(
    tenantId: string,
    webhookId: string,
    eventId: string,
  ): Promise<({ kind: "ready" } & Loaded) | { kind: "cancelled" | "skipped"; reason: string }> {
    const [endpointSnap, secretSnap, eventSnap, deliverySnap] = await Promise.all([
      this.#refs.endpoint(tenantId, webhookId).get(),
      this.#refs.secret(tenantId, webhookId).get(),
      this.#refs.event(tenantId, eventId).get(),
      this.#refs.delivery(tenantId, webhookId, eventId).get(),
    ]);
    const endpoint = endpointSnap.data();
    // Deleted with its log: nothing to record, and writing would bring a deleted endpoint's log back.
    if (!endpoint) return { kind: "skipped", reason: "the endpoint was deleted" };
    if (!endpoint.enabled) return { kind: "cancelled", reason: "the endpoint is disabled" };
    const secret = secretSnap.data();
    if (!secret) return { kind: "cancelled", reason: "the endpoint has no signing secret" };
    const event = eventSnap.data();
    if (!event) return { kind: "cancelled", reason: "the event is no longer kept" };
    return {
      kind: "ready",
      endpoint,
      secret,
      body: event.body,
      delivery: deliverySnap.data(),
      expiresAt: event.expiresAt,
      type: event.type,
    };
  }

  async #cancel(tenantId: string, webhookId: string, eventId: string, reason: string): Promise<void> {
    const ref = this.#refs.delivery(tenantId, webhookId, eventId);
    await this.#refs.db.runTransaction(async (tx) => {
      const delivery = (await tx.get(ref)).data();
      if (!delivery || delivery.status === "delivered" || delivery.status === "cancelled") return;
      this.#logger.debug({ reason }, "webhook delivery cancelled");
      tx.update(ref, { status: "cancelled", nextAttemptAt: null, updatedAt: Timestamp.fromMillis(this.#now()) });
    });
  }

  async #record(
    tenantId: string,
    webhookId: string,
    eventId: string,
    loaded: Loaded,
    attempt: DeliveryAttempt,
    decision: Decision,
    nowMs: number,
  ): Promise<void> {
    const deliveryRef = this.#refs.delivery(tenantId, webhookId, eventId);
    const endpointRef = this.#refs.endpoint(tenantId, webhookId);
    const now = Timestamp.fromMillis(nowMs);
    await this.#refs.db.runTransaction(async (tx) => {
      const [deliverySnap, endpointSnap] = await Promise.all([tx.get(deliveryRef), tx.get(endpointRef)]);
      const endpoint = endpointSnap.data();
      if (!endpoint) return; // deleted meanwhile, log and all
      const before: WebhookDeliveryDoc = deliverySnap.data() ?? {
        eventId,
        type: loaded.type,
        status: "pending",
        attempts: [],
        nextAttemptAt: null,
        createdAt: now,
        updatedAt: now,
        expiresAt: loaded.expiresAt,
      };
      const attempts = [...before.attempts, attempt].slice(-MAX_LOGGED_ATTEMPTS);
      tx.set(deliveryRef, {
        ...before,
        status: decision.kind,
        attempts,
        nextAttemptAt: decision.kind === "retrying" ? Timestamp.fromMillis(nowMs + decision.delayMs) : null,
        updatedAt: now,
      });
      if (decision.kind === "delivered") {
        if (endpoint.failingSince !== null) tx.update(endpointRef, { failingSince: null });
      } else if (decision.disabledReason !== undefined) {
        if (endpoint.enabled) {
          tx.update(endpointRef, { enabled: false, disabledReason: decision.disabledReason, updatedAt: now });
        }
      } else if (endpoint.failingSince === null) {
        tx.update(endpointRef, { failingSince: now });
      }
    });
  }
}

function httpError(statusCode: number, location: string | string[] | undefined): string {
  if (statusCode >= 300 && statusCode < 400) {
    const to = Array.isArray(location) ? location[0] : location;
    return `HTTP ${statusCode}: redirects are not followed${to ? ` (Location: ${to.slice(0, 200)})` : ""}`;
  }
  return `HTTP ${statusCode}`;
}

/**
 * The next attempt's job id. Scheduled attempts have one per attempt number; a replay's retries
 * extend the replay's own id, so they never collide with the schedule or with another replay.
 */
function nextJobId(current: string, eventId: string, webhookId: string, attempt: number, replay: boolean): string {
  if (!replay) return scheduledJobId(eventId, webhookId, attempt);
  return `${current.replace(/:retry\d+$/, "")}:retry${attempt}`;
}
