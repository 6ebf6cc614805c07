import { randomBytes } from "node:crypto";
import { Timestamp } from "firebase-admin/firestore";
import { type EventDoc, type WebhookBody, webhookTestEventSchema } from "../events/schema.ts";
import type { webhookJobs } from "../jobs/job-catalog.ts";
import type { JobQueue } from "../jobs/queue.ts";
import type { WebhookDeliveryDoc } from "./schema.ts";
import type { WebhookRefs } from "./webhook-refs.ts";

/** How long a stored event (and its deliveries) is kept for retries and replays; a TTL policy removes it. */
export const EVENT_RETENTION_MS = 7 * 86_400_000;

/**
 * Stores a `webhook.test` event addressed to one endpoint, with its pending delivery, then queues
 * its first attempt — the path every event takes (event document first, then one job per
 * endpoint), so a test shows what real events will do. `dispatched` turns true once the job is
 * queued; a crash in between leaves it false for the sweeper. A refused job (no queue configured)
 * takes the event back with it.
 */
export async function publishTestEvent(
  refs: WebhookRefs,
  queue: JobQueue<typeof webhookJobs>,
  tenantId: string,
  webhookId: string,
): Promise<{ eventId: string }> {
  const eventId = `evt_${randomBytes(12).toString("hex")}`;
  const now = Timestamp.now();
  const expiresAt = Timestamp.fromMillis(now.toMillis() + EVENT_RETENTION_MS);
  const body: WebhookBody = {
    type: "webhook.test",
    timestamp: now.toDate().toISOString(),
    data: webhookTestEventSchema.parse({
      webhookId,
      message: "A test event from WhatsDeX: if you can read this, your endpoint receives and verifies our webhooks.",
    }),
  };
  const event: EventDoc = {
    type: "webhook.test",
    botId: null,
    body: JSON.stringify(body),
    endpointIds: [webhookId],
    dispatched: false,
    createdAt: now,
    expiresAt,
  };
  const delivery: WebhookDeliveryDoc = {
    eventId,
    type: "webhook.test",
    status: "pending",
    attempts: [],
    nextAttemptAt: now,
    createdAt: now,
    updatedAt: now,
    expiresAt,
  };
  const eventRef = refs.event(tenantId, eventId);
  const batch = refs.db.batch();
  batch.create(eventRef, event);
  batch.create(refs.delivery(tenantId, webhookId, eventId), delivery);
  await batch.commit();
  try {
    await queue.add(
      "webhook.deliver",
      { tenantId, eventId, webhookId, attempt: 1, replay: false },
      { jobId: `${eventId}-${webhookId}-1` },
    );
  } catch (error) {
    // The caller hears it failed, so it must not arrive later through the sweeper either.
    const undo = refs.db.batch();
    undo.delete(eventRef);
    undo.delete(refs.delivery(tenantId, webhookId, eventId));
    await undo.commit().catch(() => undefined);
    throw error;
  }
  await eventRef.update({ dispatched: true });
  return { eventId };
}
