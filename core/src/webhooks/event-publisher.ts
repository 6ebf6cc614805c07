import { createHash, randomBytes } from "node:crypto";
import { Timestamp, type Transaction } from "firebase-admin/firestore";
import { PayloadTooLargeError } from "../errors/domain-error.ts";
import { parseOrThrow } from "../errors/zod-issues.ts";
import {
  type EventDoc,
  type EventSink,
  type EventType,
  eventDataSchemas,
  eventDocSchema,
  type NewEvent,
  type WebhookBody,
} from "../events/schema.ts";
import { zodConverter } from "../firestore/converter.ts";
import { isAlreadyExists } from "../firestore/errors.ts";
import { collections } from "../firestore/paths.ts";
import type { JobsOptions } from "../jobs/job.ts";
import type { webhookJobs } from "../jobs/job-catalog.ts";
import type { JobQueue } from "../jobs/queue.ts";
import type { Logger } from "../logging/logger.ts";
import { EndpointDirectory } from "./endpoint-directory.ts";
import type { WebhookDeliveryDoc } from "./schema.ts";
import type { WebhookRefs } from "./webhook-refs.ts";

/** How long a stored event (and its deliveries) is kept for retries and replays; a TTL policy removes it. */
export const EVENT_RETENTION_MS = 7 * 86_400_000;

/** A webhook body's limit: far above any event (media goes by reference), far below what a receiver should buffer. */
export const MAX_EVENT_BODY_BYTES = 20_000;

/**
 * The queue's own retries are for our failures only (Firestore unavailable before the attempt was
 * recorded): the endpoint's failures are retried on the delivery schedule, one job per attempt.
 */
export const deliverJobOptions = {
  attempts: 5,
  backoff: { type: "exponential", delay: 5_000 },
} as const satisfies JobsOptions;

/** The job id of a scheduled attempt: the queue refuses a second job with it, so it runs once. */
export function scheduledJobId(eventId: string, webhookId: string, attempt: number): string {
  return `${eventId}:${webhookId}:${attempt}`;
}

/** An event's id: derived from its natural key when it has one, so republishing makes the same event. */
export function eventIdOf(tenantId: string, type: EventType, key: string | undefined): string {
  if (key === undefined) return `evt_${randomBytes(16).toString("hex")}`;
  return `evt_${createHash("sha256").update(`${tenantId}\u0000${type}\u0000${key}`).digest("hex").slice(0, 32)}`;
}

export interface EventPublisherOptions {
  refs: WebhookRefs;
  queue: JobQueue<typeof webhookJobs>;
  logger: Logger;
  directory?: EndpointDirectory;
  now?: () => number;
  /** How long events (and their delivery logs) are kept for retries and replays: 7 days. */
  retentionMs?: number;
}

/**
 * The EventSink: an event some enabled endpoint subscribes to is stored (the webhook body
 * serialised once, so every attempt and replay signs the same bytes), one delivery per endpoint is
 * queued, and the event is marked dispatched. An event nobody subscribes to costs nothing: no
 * document, no job. The event document is written before any job, so a crash in between leaves
 * `dispatched: false` for `dispatchStranded` to finish, never a job for an event that is not there.
 */
export class EventPublisher implements EventSink {
  readonly #refs: WebhookRefs;
  readonly #queue: JobQueue<typeof webhookJobs>;
  readonly #logger: Logger;
  readonly #directory: EndpointDirectory;
  readonly #now: () => number;
  readonly #retentionMs: number;

  constructor(options: EventPublisherOptions) {
    this.#refs = options.refs;
    this.#queue = options.queue;
    this.#logger = options.logger;
    this.#directory = options.directory ?? new EndpointDirectory({ refs: options.refs, logger: options.logger });
    this.#now = options.now ?? Date.now;
    this.#retentionMs = options.retentionMs ?? EVENT_RETENTION_MS;
  }

  async subscribed(tenantId: string, type: EventType): Promise<boolean> {
    return (await this.#directory.subscribers(tenantId, type)).length > 0;
  }
  /** Follows the tenant's endpoints live while the returned release is not called (see EndpointDirectory.watch). */
  watchTenant(tenantId: string): () => void {
    return this.#directory.watch(tenantId);
  }

  /** Every subscribed event is checked before any is stored: one bad event and nothing is written. */
  async publish(tenantId: string, events: readonly NewEvent[]): Promise<void> {
    const prepared: Array<{ eventId: string; doc: EventDoc }> = [];
    for (const event of events) {
      const subscribers = await this.#directory.subscribers(tenantId, event.type);
      if (subscribers.length === 0) continue;
      prepared.push(
        this.#prepare(
          tenantId,
          event,
          subscribers.map((s) => s.webhookId),
        ),
      );
    }
    for (const { eventId, doc } of prepared) await this.#store(tenantId, eventId, doc);
  }

  /**
   * Writes the subscribed events in the caller's transaction, undispatched, so that they exist if and
   * only if the change they tell of committed (billing); `dispatchStaged` queues them after the commit,
   * and a crash in between is finished by `dispatchStranded`. Returns the ids of the staged events.
   */
  async stage(tx: Transaction, tenantId: string, events: readonly NewEvent[]): Promise<string[]> {
    const staged: string[] = [];
    for (const event of events) {
      const subscribers = await this.#directory.subscribers(tenantId, event.type);
      if (subscribers.length === 0) continue;
      const { eventId, doc } = this.#prepare(
        tenantId,
        event,
        subscribers.map((s) => s.webhookId),
      );
      tx.set(this.#refs.event(tenantId, eventId), doc);
      staged.push(eventId);
    }
    return staged;
  }

  /** Queues the deliveries of events `stage` wrote, once their transaction committed. */
  async dispatchStaged(tenantId: string, eventIds: readonly string[]): Promise<void> {
    for (const eventId of eventIds) {
      const event = (await this.#refs.event(tenantId, eventId).get()).data();
      if (event && !event.dispatched) await this.#dispatch(tenantId, eventId, event);
    }
  }

  /**
   * Stores and queues one event for the named endpoints only, whatever they subscribe to (the API's
   * `webhook.test`), by the same path as every event. Returns its id.
   */
  async publishTo(tenantId: string, event: NewEvent, webhookIds: readonly string[]): Promise<string> {
    const { eventId, doc } = this.#prepare(tenantId, event, [...webhookIds]);
    await this.#store(tenantId, eventId, doc);
    return eventId;
  }

  /**
   * Queues the deliveries of events a crash left undispatched (created over `olderThanMs` ago, so
   * a publish still in progress is left alone; finishing it twice would be harmless anyway).
   * Returns how many it dispatched.
   */
  async dispatchStranded(olderThanMs: number, limit = 100): Promise<number> {
    const cutoff = Timestamp.fromMillis(this.#now() - olderThanMs);
    const stranded = await this.#refs.db
      .collectionGroup(collections.events)
      .where("dispatched", "==", false)
      .where("createdAt", "<", cutoff)
      .orderBy("createdAt")
      .limit(limit)
      .withConverter(zodConverter(eventDocSchema))
      .get();
    let dispatched = 0;
    for (const doc of stranded.docs) {
      const tenantId = doc.ref.parent.parent?.id;
      if (tenantId === undefined) continue;
      try {
        await this.#dispatch(tenantId, doc.id, doc.data());
        dispatched++;
      } catch (error) {
        this.#logger.warn(
          { err: error, tenantId, eventId: doc.id },
          "stranded event not dispatched; next sweep retries",
        );
      }
    }
    return dispatched;
  }

  #prepare(tenantId: string, event: NewEvent, endpointIds: string[]): { eventId: string; doc: EventDoc } {
    const data = parseOrThrow(eventDataSchemas[event.type], event.data, `${event.type} event`);
    const at = event.at ?? this.#now();
    const body: WebhookBody = { type: event.type, timestamp: new Date(at).toISOString(), data };
    const serialised = JSON.stringify(body);
    const bytes = Buffer.byteLength(serialised);
    if (bytes > MAX_EVENT_BODY_BYTES) {
      throw new PayloadTooLargeError(
        `A ${event.type} event's webhook body is ${bytes} bytes, over ${MAX_EVENT_BODY_BYTES}: reference large content by id instead.`,
      );
    }
    const now = this.#now();
    const doc: EventDoc = {
      type: event.type,
      botId: "botId" in data && typeof data.botId === "string" ? data.botId : null,
      body: serialised,
      endpointIds,
      dispatched: false,
      createdAt: Timestamp.fromMillis(now),
      expiresAt: Timestamp.fromMillis(now + this.#retentionMs),
    };
    return { eventId: eventIdOf(tenantId, event.type, event.key), doc };
  }

  async #store(tenantId: string, eventId: string, doc: EventDoc): Promise<void> {
    const ref = this.#refs.event(tenantId, eventId);
    try {
      await ref.create(doc);
      await this.#dispatch(tenantId, eventId, doc);
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
      // Published before (a redelivered message, a retried job): finish it if a crash left it half done.
      const existing = (await ref.get()).data();
      if (existing && !existing.dispatched) await this.#dispatch(tenantId, eventId, existing);
    }
  }

  /** Pending deliveries, then one job per endpoint, then `dispatched`: each step safe to repeat. */
  async #dispatch(tenantId: string, eventId: string, event: EventDoc): Promise<void> {
    const now = Timestamp.fromMillis(this.#now());
    await Promise.all(
      event.endpointIds.map(async (webhookId) => {
        const delivery: WebhookDeliveryDoc = {
          eventId,
          type: event.type,
          status: "pending",
          attempts: [],
          nextAttemptAt: now,
          createdAt: now,
          updatedAt: now,
          expiresAt: event.expiresAt,
        };
        await this.#refs
          .delivery(tenantId, webhookId, eventId)
          .create(delivery)
          .catch((error: unknown) => {
            if (!isAlreadyExists(error)) throw error;
          });
      }),
    );
    await this.#queue.addBulk(
      event.endpointIds.map((webhookId) => ({
        name: "webhook.deliver" as const,
        data: { tenantId, eventId, webhookId, attempt: 1, replay: false },
        opts: { ...deliverJobOptions, jobId: scheduledJobId(eventId, webhookId, 1) },
      })),
    );
    await this.#refs.event(tenantId, eventId).update({ dispatched: true });
  }
}
