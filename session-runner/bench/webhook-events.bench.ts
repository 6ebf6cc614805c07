import { EventPublisher, newWebhookSecret, type WebhookEndpointDoc, webhookRefs } from "@whatsdex/core";
import { JobQueue, webhookJobs } from "@whatsdex/core/jobs";
import { bullmqTransport } from "@whatsdex/core/jobs/bullmq";
import { requireEnv, testFirebase, uniqueId } from "@whatsdex/core/testing";
import type { WAMessage } from "baileys";
import { Timestamp } from "firebase-admin/firestore";
import { pino } from "pino";
import type { BenchSuite } from "../../scripts/lib/bench-suite.ts";
import { BotEvents } from "../src/bot/events/bot-events.ts";

/**
 * What an inbound WhatsApp message costs the runner in events: the runner's own event path
 * (`BotEvents` mapping the message, the real publisher deciding who listens, storing and queueing)
 * for a tenant with no webhook endpoint and for one with one endpoint, on the Firestore emulator and
 * BullMQ. The deliveries themselves (one HTTP request and one log write each) run in the webhooks
 * worker, measured by none of this.
 */
export const suite: BenchSuite = {
  name: "webhook-events",
  description:
    "message.received published per inbound message, no endpoint vs one endpoint (Firestore emulator, BullMQ)",
  baseline: "inbound message, no endpoint",
  needs: ["firestore", "redis"],
  mode: "interleaved",
  timeMs: 3_000,
  // 0.0086x when first measured (36.7 against 4,252 messages/s, 2026-12-03): three emulator writes
  // and a Redis job one after another. The floor catches a publish path that more than doubles.
  minRatio: { "inbound message, one endpoint": 0.004 },
  factLimits: {
    // Nobody listens: nothing is written and nothing is queued, whatever the traffic.
    documentsPerMessage_noEndpoint: { max: 0 },
    jobsPerMessage_noEndpoint: { max: 0 },
    // One endpoint: the event and its delivery log (plus one update marking it dispatched), one job.
    documentsPerMessage_oneEndpoint: { max: 2 },
    jobsPerMessage_oneEndpoint: { max: 1 },
  },
  async setup() {
    const firebase = testFirebase();
    const refs = webhookRefs(firebase.firestore);
    const logger = pino({ level: "silent" });
    // One queue each, so each tenant's jobs are counted apart.
    const publisherWithQueue = () => {
      const transport = bullmqTransport({ redisUrl: requireEnv("REDIS_URL"), queue: uniqueId("bench-webhooks") });
      const queue = new JobQueue({ name: "webhooks", definitions: webhookJobs, transport });
      return { transport, queue, publisher: new EventPublisher({ refs, queue, logger }) };
    };
    const quietSide = publisherWithQueue();
    const heardSide = publisherWithQueue();

    const quiet = { tenantId: uniqueId("quiet"), botId: "bot1" };
    const heard = { tenantId: uniqueId("heard"), botId: "bot1" };
    const now = Timestamp.now();
    const endpoint: WebhookEndpointDoc = {
      url: "https://receiver.example.com/hook",
      events: ["message.received"],
      description: null,
      enabled: true,
      disabledReason: null,
      failingSince: null,
      createdBy: "bench",
      createdAt: now,
      updatedAt: now,
    };
    await refs.endpoint(heard.tenantId, "wh1").set(endpoint);
    await refs
      .secret(heard.tenantId, "wh1")
      .set({ current: newWebhookSecret(), previous: null, previousExpiresAt: null, rotatedAt: now });
    // As a runner holding the tenants' bots does: their endpoints followed live.
    const unwatch = [quietSide.publisher.watchTenant(quiet.tenantId), heardSide.publisher.watchTenant(heard.tenantId)];

    const eventsOf = (bot: { tenantId: string; botId: string }, publisher: EventPublisher) =>
      new BotEvents({
        sink: publisher,
        bot,
        logger,
        resolve: () => undefined,
        keepMedia: async () => false,
      });
    const quietEvents = eventsOf(quiet, quietSide.publisher);
    const heardEvents = eventsOf(heard, heardSide.publisher);
    const sent = { quiet: 0, heard: 0 };
    let n = 0;
    const message = (): WAMessage => {
      n += 1;
      return {
        key: {
          remoteJid: "111222333444555@lid",
          remoteJidAlt: "6281111111111@s.whatsapp.net",
          id: `BENCH${n}`,
          fromMe: false,
        },
        pushName: "Bench",
        messageTimestamp: Math.floor(Date.now() / 1000),
        message: { conversation: `message ${n}` },
      };
    };
    // The first listener snapshot, so neither task measures the directory's first read.
    await heardSide.publisher.subscribed(heard.tenantId, "message.received");

    let facts: Record<string, number> = {};
    return {
      tasks: {
        "inbound message, no endpoint": async () => {
          quietEvents.received(message());
          await quietEvents.idle();
          sent.quiet += 1;
        },
        "inbound message, one endpoint": async () => {
          heardEvents.received(message());
          await heardEvents.idle();
          sent.heard += 1;
        },
      },
      async teardown() {
        const count = async (path: string) => (await firebase.firestore.collection(path).count().get()).data().count;
        const jobs = async (side: { transport: ReturnType<typeof bullmqTransport> }) => {
          const counts = await side.transport.queue.getJobCounts("waiting", "delayed", "active", "completed", "failed");
          return Object.values(counts).reduce((sum, value) => sum + value, 0);
        };
        const quietDocs = await count(`tenants/${quiet.tenantId}/events`);
        const heardDocs =
          (await count(`tenants/${heard.tenantId}/events`)) +
          (await count(`tenants/${heard.tenantId}/webhooks/wh1/deliveries`));
        const quietJobs = await jobs(quietSide);
        const heardJobs = await jobs(heardSide);
        facts = {
          messages_noEndpoint: sent.quiet,
          messages_oneEndpoint: sent.heard,
          documentsPerMessage_noEndpoint: quietDocs / Math.max(1, sent.quiet),
          jobsPerMessage_noEndpoint: quietJobs / Math.max(1, sent.quiet),
          documentsPerMessage_oneEndpoint: heardDocs / Math.max(1, sent.heard),
          jobsPerMessage_oneEndpoint: heardJobs / Math.max(1, sent.heard),
        };
        for (const release of unwatch) release();
        for (const side of [quietSide, heardSide]) {
          await side.transport.queue.obliterate({ force: true });
          await side.queue.close();
        }
        await firebase.close();
      },
      facts: () => facts,
    };
  },
};
