import { randomBytes } from "node:crypto";
import type { Query } from "firebase-admin/firestore";
import { Timestamp } from "firebase-admin/firestore";
import type { z } from "zod";
import { ConflictError, NotFoundError, ValidationError } from "../errors/domain-error.ts";
import { type Page, type PageRequest, paginate } from "../firestore/pagination.ts";
import type { webhookJobs } from "../jobs/job-catalog.ts";
import type { JobQueue } from "../jobs/queue.ts";
import { webhookNotFound } from "./endpoint-service.ts";
import { deliverJobOptions, type EventPublisher, eventIdOf } from "./event-publisher.ts";
import type { deliveryStatusSchema, WebhookDeliveryDoc } from "./schema.ts";
import type { WebhookRefs } from "./webhook-refs.ts";

/** How far back a range replay may reach: events are kept about this long anyway. */
export const MAX_REPLAY_RANGE_MS = 7 * 86_400_000;
/** Deliveries one range replay queues at most; ask again from where it stopped for more. */
export const MAX_REPLAY_DELIVERIES = 1_000;

export type DeliveryStatus = z.output<typeof deliveryStatusSchema>;

export interface ReplayRange {
  from: Date;
  to: Date;
  status?: DeliveryStatus | undefined;
}

export interface RangeReplayResult {
  queued: number;
  /** Where to start the next call when the range held more than one call queues; null when all were. */
  nextFrom: Date | null;
}

/**
 * An endpoint's delivery log and replays. A replay is one more `webhook.deliver` job for a stored
 * event, marked `replay`, with a job id of its own (never the schedule's), so asking twice
 * delivers twice, as asked, while a retried request of the transport itself is still one job.
 */
export class WebhookDeliveryService {
  readonly #refs: WebhookRefs;
  readonly #queue: JobQueue<typeof webhookJobs>;
  readonly #publisher: EventPublisher;

  constructor(refs: WebhookRefs, queue: JobQueue<typeof webhookJobs>, publisher: EventPublisher) {
    this.#refs = refs;
    this.#queue = queue;
    this.#publisher = publisher;
  }

  /** Newest first; `status` narrows it (a composite index in firestore.indexes.json). */
  async list(
    tenantId: string,
    webhookId: string,
    page: PageRequest,
    status?: DeliveryStatus,
  ): Promise<Page<{ id: string; path: string; data: WebhookDeliveryDoc }>> {
    await this.#endpoint(tenantId, webhookId);
    let query: Query<WebhookDeliveryDoc> = this.#refs.deliveries(tenantId, webhookId);
    if (status) query = query.where("status", "==", status);
    return paginate(query, page);
  }

  async get(tenantId: string, webhookId: string, deliveryId: string): Promise<WebhookDeliveryDoc> {
    const [, delivery] = await Promise.all([
      this.#endpoint(tenantId, webhookId),
      this.#refs.delivery(tenantId, webhookId, deliveryId).get(),
    ]);
    const data = delivery.data();
    if (!data) throw new NotFoundError("Delivery not found.");
    return data;
  }

  /**
   * A `webhook.test` event for this endpoint alone, whatever it subscribes to, through the publisher
   * like every event. If its job cannot be queued (no queue configured) the caller hears so, and
   * the event is taken back, so the sweeper does not deliver it later after all.
   */
  async sendTest(tenantId: string, webhookId: string): Promise<{ eventId: string }> {
    const endpoint = await this.#endpoint(tenantId, webhookId);
    if (!endpoint.enabled) throw disabled();
    const key = `test:${webhookId}:${randomBytes(12).toString("hex")}`;
    const event = {
      type: "webhook.test" as const,
      key,
      data: {
        webhookId,
        message: "A test event from WhatsDeX: if you can read this, your endpoint receives and verifies our webhooks.",
      },
    };
    try {
      return { eventId: await this.#publisher.publishTo(tenantId, event, [webhookId]) };
    } catch (error) {
      const eventId = eventIdOf(tenantId, event.type, key);
      const undo = this.#refs.db.batch();
      undo.delete(this.#refs.event(tenantId, eventId));
      undo.delete(this.#refs.delivery(tenantId, webhookId, eventId));
      await undo.commit().catch(() => undefined);
      throw error;
    }
  }

  /** Delivers one stored event to this endpoint again, whatever became of it before. */
  async replay(tenantId: string, webhookId: string, deliveryId: string): Promise<{ jobId: string }> {
    const endpoint = await this.#endpoint(tenantId, webhookId);
    if (!endpoint.enabled) throw disabled();
    const [delivery, event] = await Promise.all([
      this.#refs.delivery(tenantId, webhookId, deliveryId).get(),
      this.#refs.event(tenantId, deliveryId).get(),
    ]);
    if (!delivery.exists) throw new NotFoundError("Delivery not found.");
    if (!event.exists) throw expired();
    const jobId = `replay-${deliveryId}-${randomBytes(8).toString("hex")}`;
    await this.#queue.add(
      "webhook.deliver",
      { tenantId, eventId: deliveryId, webhookId, attempt: 1, replay: true },
      { ...deliverJobOptions, jobId },
    );
    return { jobId };
  }

  /**
   * Replays this endpoint's deliveries made in `[from, to]`, oldest first, at most
   * MAX_REPLAY_DELIVERIES per call; deliveries whose event has expired are skipped.
   */
  async replayRange(tenantId: string, webhookId: string, range: ReplayRange): Promise<RangeReplayResult> {
    const now = Date.now();
    const issues = [];
    if (range.from.getTime() < now - MAX_REPLAY_RANGE_MS) {
      issues.push({ path: "from", message: "must be at most 7 days ago" });
    }
    if (range.to.getTime() <= range.from.getTime()) issues.push({ path: "to", message: "must be after from" });
    if (issues.length > 0) throw new ValidationError("Invalid replay range.", issues);

    const endpoint = await this.#endpoint(tenantId, webhookId);
    if (!endpoint.enabled) throw disabled();
    let query: Query<WebhookDeliveryDoc> = this.#refs.deliveries(tenantId, webhookId);
    if (range.status) query = query.where("status", "==", range.status);
    const snapshot = await query
      .where("createdAt", ">=", Timestamp.fromDate(range.from))
      .where("createdAt", "<=", Timestamp.fromDate(range.to))
      .orderBy("createdAt", "asc")
      .limit(MAX_REPLAY_DELIVERIES + 1)
      .get();
    const following = snapshot.docs[MAX_REPLAY_DELIVERIES];
    let docs = snapshot.docs.slice(0, MAX_REPLAY_DELIVERIES);
    if (following) {
      // The next call starts at the first delivery left out: those made at that same instant wait for it.
      const at = following.data().createdAt;
      const before = docs.filter((doc) => !doc.data().createdAt.isEqual(at));
      if (before.length > 0) docs = before;
    }
    // A delivery lives as long as its event; one past its expiry may still await the TTL sweep.
    const live = docs.filter((doc) => doc.data().expiresAt.toMillis() > now);
    const batch = randomBytes(8).toString("hex");
    if (live.length > 0) {
      await this.#queue.addBulk(
        live.map((doc) => ({
          name: "webhook.deliver" as const,
          data: { tenantId, eventId: doc.id, webhookId, attempt: 1, replay: true },
          opts: { ...deliverJobOptions, jobId: `replay-${doc.id}-${batch}` },
        })),
      );
    }
    return { queued: live.length, nextFrom: following ? following.data().createdAt.toDate() : null };
  }

  async #endpoint(tenantId: string, webhookId: string) {
    const endpoint = (await this.#refs.endpoint(tenantId, webhookId).get()).data();
    if (!endpoint) throw webhookNotFound();
    return endpoint;
  }
}

function disabled(): ConflictError {
  return new ConflictError("The endpoint is disabled; enable it (PATCH enabled: true) before sending to it.");
}

function expired(): ConflictError {
  return new ConflictError("The event has expired and can no longer be delivered.");
}
