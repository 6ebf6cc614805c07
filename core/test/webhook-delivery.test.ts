import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Timestamp } from "firebase-admin/firestore";
import { pino } from "pino";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EventDoc, NewEvent } from "../src/events/schema.ts";
import { startTracing, type Tracing } from "../src/index.ts";
import { bullmqTransport, startBullmqWorker } from "../src/jobs/bullmq/index.ts";
import { DeadLetterStore, JobHandler, JobQueue, webhookJobs } from "../src/jobs/index.ts";
import { OutboundHttp } from "../src/net/ssrf-guard.ts";
import { requireEnv, testFirebase, uniqueId, waitFor } from "../src/testing/index.ts";
import { WebhookDeliverer } from "../src/webhooks/deliverer.ts";
import { EventPublisher } from "../src/webhooks/event-publisher.ts";
import type { WebhookDeliveryDoc, WebhookEndpointDoc } from "../src/webhooks/schema.ts";
import { newWebhookSecret } from "../src/webhooks/standard-webhooks.ts";
import { webhookRefs } from "../src/webhooks/webhook-refs.ts";

/**
 * The whole path on real parts: the publisher writes to the Firestore emulator and queues on BullMQ
 * (Redis), a real worker runs the deliverer, which calls a receiver on this machine that verifies
 * every request with the official Standard Webhooks library.
 */

const firebase = testFirebase();
const refs = webhookRefs(firebase.firestore);
const logger = pino({ level: "silent" });
let tracing: Tracing;

type Reply = { status: number; headers?: Record<string, string>; body?: string };
interface Received {
  webhookId: string;
  headers: Record<string, string>;
  eventId: string;
  verified: boolean;
  body: string;
  at: number;
}

/** The tenant's receiver: one path per endpoint, each answering from its own script. */
let receiver: Server;
let receiverPort: number;
const scripts = new Map<string, Reply[]>();
const secrets = new Map<string, string>();
const received: Received[] = [];

interface Engine {
  queue: JobQueue<typeof webhookJobs>;
  publisher: EventPublisher;
  stop(): Promise<void>;
}
const engines: Engine[] = [];

/** Publisher, queue and worker on a fresh BullMQ queue; `allowPrivate` false is production's guard. */
function startEngine(options: { allowPrivate: boolean; schedule: readonly number[] }): Engine {
  const redisUrl = requireEnv("REDIS_URL");
  const name = uniqueId("webhooks");
  const transport = bullmqTransport({ redisUrl, queue: name });
  const queue = new JobQueue({ name, definitions: webhookJobs, transport });
  const deliverer = new WebhookDeliverer({
    refs,
    queue,
    http: new OutboundHttp({ allowPrivate: options.allowPrivate }),
    logger,
    schedule: options.schedule,
    random: () => 0.5,
  });
  const handler = new JobHandler({
    queue: name,
    definitions: webhookJobs,
    processors: { "webhook.deliver": (job) => deliverer.deliver(job) },
    deadLetters: new DeadLetterStore(firebase.firestore),
    tracer: tracing.tracer,
    logger,
  });
  const worker = startBullmqWorker(handler, { redisUrl, concurrency: 4, logger });
  const engine: Engine = {
    queue,
    publisher: new EventPublisher({ refs, queue, logger }),
    async stop() {
      await worker.close();
      await transport.close();
    },
  };
  engines.push(engine);
  return engine;
}

let dev: Engine;

beforeAll(async () => {
  tracing = await startTracing({ serviceName: "webhook-delivery-test", version: "0", exporter: "memory" });
  receiver = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString();
    const webhookId = (req.url ?? "").slice(1);
    const headers = {
      "webhook-id": String(req.headers["webhook-id"]),
      "webhook-timestamp": String(req.headers["webhook-timestamp"]),
      "webhook-signature": String(req.headers["webhook-signature"]),
    };
    let verified = false;
    try {
      new Webhook(secrets.get(webhookId) ?? "").verify(body, headers);
      verified = req.headers["content-type"] === "application/json";
    } catch {
      verified = false;
    }
    received.push({ webhookId, headers, eventId: headers["webhook-id"], verified, body, at: Date.now() });
    const reply = scripts.get(webhookId)?.shift() ?? { status: 204 };
    res.writeHead(reply.status, reply.headers ?? {}).end(reply.body ?? "");
  });
  receiver.listen(0, "127.0.0.1");
  await once(receiver, "listening");
  receiverPort = (receiver.address() as AddressInfo).port;
  dev = startEngine({ allowPrivate: true, schedule: [0, 50, 50, 50, 50] });
});

afterAll(async () => {
  for (const engine of engines) await engine.stop();
  receiver.closeAllConnections();
  receiver.close();
  await tracing.shutdown();
  await firebase.close();
});

async function addEndpoint(
  tenantId: string,
  events: WebhookEndpointDoc["events"],
  options: { enabled?: boolean; url?: string } = {},
): Promise<string> {
  const webhookId = uniqueId("wh");
  const now = Timestamp.now();
  const secret = newWebhookSecret();
  secrets.set(webhookId, secret);
  await refs.endpoint(tenantId, webhookId).set({
    url: options.url ?? `http://127.0.0.1:${receiverPort}/${webhookId}`,
    events,
    description: null,
    enabled: options.enabled ?? true,
    disabledReason: null,
    failingSince: null,
    createdBy: "test",
    createdAt: now,
    updatedAt: now,
  });
  await refs
    .secret(tenantId, webhookId)
    .set({ current: secret, previous: null, previousExpiresAt: null, rotatedAt: now });
  return webhookId;
}

function statusEvent(botId: string, messageId: string, key?: string): NewEvent {
  return {
    type: "message.status",
    data: {
      botId,
      messageId,
      whatsappMessageId: null,
      to: "15550001111@s.whatsapp.net",
      status: "delivered",
      error: null,
      at: new Date().toISOString(),
    },
    ...(key === undefined ? {} : { key }),
  };
}

function qrEvent(botId: string): NewEvent {
  return { type: "bot.qr", data: { botId, qr: "2@abc", at: new Date().toISOString() } };
}

async function deliveryWhen(
  tenantId: string,
  webhookId: string,
  eventId: string,
  what: string,
  ready: (delivery: WebhookDeliveryDoc) => boolean,
): Promise<WebhookDeliveryDoc> {
  return waitFor(`${what} (${webhookId})`, async () => {
    const delivery = (await refs.delivery(tenantId, webhookId, eventId).get()).data();
    return delivery && ready(delivery) ? delivery : undefined;
  });
}

async function eventIds(tenantId: string): Promise<string[]> {
  const snapshot = await refs.db.collection(`tenants/${tenantId}/events`).get();
  return snapshot.docs.map((doc) => doc.id);
}

describe("webhook delivery", () => {
  it("delivers each event once to each endpoint that subscribes, signed and verifiable", async () => {
    const tenantId = uniqueId("t");
    const all = await addEndpoint(tenantId, ["*"]);
    const statusOnly = await addEndpoint(tenantId, ["message.status"]);
    const qr = await addEndpoint(tenantId, ["bot.qr"]);

    await dev.publisher.publish(tenantId, [statusEvent("b1", "m1"), statusEvent("b1", "m2"), qrEvent("b1")]);
    const ids = await eventIds(tenantId);
    expect(ids).toHaveLength(3);
    const events = new Map<string, EventDoc>();
    for (const id of ids) {
      const event = (await refs.event(tenantId, id).get()).data();
      if (event) events.set(id, event);
    }
    const expected = [...events].flatMap(([eventId, event]) =>
      event.endpointIds.map((webhookId) => ({ webhookId, eventId })),
    );
    // `*` takes every type but bot.qr, which only an endpoint naming it gets.
    expect(expected.filter((e) => e.webhookId === all)).toHaveLength(2);
    expect(expected.filter((e) => e.webhookId === statusOnly)).toHaveLength(2);
    expect(expected.filter((e) => e.webhookId === qr)).toHaveLength(1);

    for (const { webhookId, eventId } of expected) {
      await deliveryWhen(tenantId, webhookId, eventId, "delivered", (d) => d.status === "delivered");
    }
    for (const { webhookId, eventId } of expected) {
      const hits = received.filter((r) => r.webhookId === webhookId && r.eventId === eventId);
      expect(hits).toHaveLength(1);
      expect(hits[0]?.verified).toBe(true);
      expect(hits[0]?.body).toBe(events.get(eventId)?.body);
    }
    const body = JSON.parse(events.values().next().value?.body ?? "{}");
    expect(Object.keys(body).sort()).toEqual(["data", "timestamp", "type"]);
    for (const event of events.values()) expect(event.dispatched).toBe(true);
  });

  it("retries a failing receiver on the schedule until it succeeds, logging every attempt", async () => {
    const tenantId = uniqueId("t");
    const webhookId = await addEndpoint(tenantId, ["message.status"]);
    scripts.set(webhookId, [
      { status: 500, body: "boom" },
      { status: 502 },
      { status: 404 },
      { status: 200, body: "ok" },
    ]);
    await dev.publisher.publish(tenantId, [statusEvent("b1", "m1")]);
    const [eventId = ""] = await eventIds(tenantId);

    const failing = await waitFor("the endpoint marked failing", async () => {
      const endpoint = (await refs.endpoint(tenantId, webhookId).get()).data();
      return endpoint?.failingSince ?? undefined;
    });
    expect(failing).toBeInstanceOf(Timestamp);

    const delivery = await deliveryWhen(tenantId, webhookId, eventId, "delivered", (d) => d.status === "delivered");
    expect(delivery.attempts.map((a) => a.statusCode)).toEqual([500, 502, 404, 200]);
    expect(delivery.attempts[0]).toMatchObject({ error: "HTTP 500", response: "boom", replay: false });
    expect(delivery.attempts[3]).toMatchObject({ error: null, response: "ok" });
    expect(delivery.nextAttemptAt).toBeNull();
    expect(received.filter((r) => r.webhookId === webhookId)).toHaveLength(4);
    expect(received.filter((r) => r.webhookId === webhookId).every((r) => r.verified && r.eventId === eventId)).toBe(
      true,
    );
    const endpoint = (await refs.endpoint(tenantId, webhookId).get()).data();
    expect(endpoint?.failingSince).toBeNull();
    expect(endpoint?.enabled).toBe(true);
  });

  it("gives up after the last attempt of the schedule", async () => {
    const tenantId = uniqueId("t");
    const webhookId = await addEndpoint(tenantId, ["message.status"]);
    scripts.set(
      webhookId,
      Array.from({ length: 10 }, () => ({ status: 500 })),
    );
    await dev.publisher.publish(tenantId, [statusEvent("b1", "m1")]);
    const [eventId = ""] = await eventIds(tenantId);
    const delivery = await deliveryWhen(tenantId, webhookId, eventId, "failed", (d) => d.status === "failed");
    expect(delivery.attempts).toHaveLength(5);
    expect(received.filter((r) => r.webhookId === webhookId)).toHaveLength(5);
  });

  it("disables an endpoint that answers 410 Gone, without retrying", async () => {
    const tenantId = uniqueId("t");
    const webhookId = await addEndpoint(tenantId, ["message.status"]);
    scripts.set(webhookId, [{ status: 410 }]);
    await dev.publisher.publish(tenantId, [statusEvent("b1", "m1")]);
    const [eventId = ""] = await eventIds(tenantId);
    const delivery = await deliveryWhen(tenantId, webhookId, eventId, "failed", (d) => d.status === "failed");
    expect(delivery.attempts.map((a) => a.statusCode)).toEqual([410]);
    const endpoint = (await refs.endpoint(tenantId, webhookId).get()).data();
    expect(endpoint?.enabled).toBe(false);
    expect(endpoint?.disabledReason).toBe("the endpoint answered 410 Gone");
  });

  it("waits as long as a 429's Retry-After says", async () => {
    const tenantId = uniqueId("t");
    const webhookId = await addEndpoint(tenantId, ["message.status"]);
    scripts.set(webhookId, [{ status: 429, headers: { "retry-after": "2" } }, { status: 200 }]);
    await dev.publisher.publish(tenantId, [statusEvent("b1", "m1")]);
    const [eventId = ""] = await eventIds(tenantId);
    const retrying = await deliveryWhen(tenantId, webhookId, eventId, "retrying", (d) => d.status === "retrying");
    const first = retrying.attempts[0];
    expect(first?.statusCode).toBe(429);
    expect((retrying.nextAttemptAt?.toMillis() ?? 0) - (first?.at.toMillis() ?? 0)).toBe(2_000);
    const delivered = await deliveryWhen(tenantId, webhookId, eventId, "delivered", (d) => d.status === "delivered");
    expect(delivered.attempts).toHaveLength(2);
    const hits = received.filter((r) => r.webhookId === webhookId);
    expect((hits[1]?.at ?? 0) - (hits[0]?.at ?? 0)).toBeGreaterThanOrEqual(1_900);
  });

  it("makes one event of the same happening published twice", async () => {
    const tenantId = uniqueId("t");
    const webhookId = await addEndpoint(tenantId, ["message.status"]);
    const event = statusEvent("b1", "m1", "wamid-1:delivered");
    await Promise.all([dev.publisher.publish(tenantId, [event]), dev.publisher.publish(tenantId, [event])]);
    await dev.publisher.publish(tenantId, [event]);
    const ids = await eventIds(tenantId);
    expect(ids).toHaveLength(1);
    const [eventId = ""] = ids;
    await deliveryWhen(tenantId, webhookId, eventId, "delivered", (d) => d.status === "delivered");
    // A later publish of the same key still makes nothing new.
    await dev.publisher.publish(tenantId, [event]);
    expect(await eventIds(tenantId)).toHaveLength(1);
    const delivery = (await refs.delivery(tenantId, webhookId, eventId).get()).data();
    expect(delivery?.attempts).toHaveLength(1);
    expect(received.filter((r) => r.webhookId === webhookId)).toHaveLength(1);
  });

  it("writes nothing for an event no enabled endpoint subscribes to", async () => {
    const tenantId = uniqueId("t");
    await addEndpoint(tenantId, ["bot.status"]);
    await addEndpoint(tenantId, ["*"], { enabled: false });
    expect(await dev.publisher.subscribed(tenantId, "message.status")).toBe(false);
    expect(await dev.publisher.subscribed(tenantId, "bot.status")).toBe(true);
    await dev.publisher.publish(tenantId, [statusEvent("b1", "m1"), qrEvent("b1")]);
    expect(await eventIds(tenantId)).toEqual([]);
    const other = uniqueId("t");
    await dev.publisher.publish(other, [statusEvent("b1", "m1")]);
    expect(await eventIds(other)).toEqual([]);
  });

  it("refuses an oversized or malformed event, naming what is wrong, and stores nothing", async () => {
    const tenantId = uniqueId("t");
    await addEndpoint(tenantId, ["*"]);
    const huge: NewEvent = {
      type: "message.received",
      data: {
        botId: "b1",
        messageId: "m1",
        chat: "1@s.whatsapp.net",
        chatType: "private",
        from: { lid: null, pn: null, name: null },
        sentAt: new Date().toISOString(),
        quotedId: null,
        mentions: [],
        content: { type: "text", text: "x".repeat(25_000) },
      },
    };
    await expect(dev.publisher.publish(tenantId, [huge])).rejects.toThrow(/over 20000/);
    const bad: NewEvent = {
      type: "message.status",
      data: {
        botId: "b1",
        messageId: "m1",
        whatsappMessageId: null,
        to: "x",
        status: "read",
        error: null,
        at: "yesterday",
      },
    };
    // A good event beside a bad one is not stored either.
    await expect(dev.publisher.publish(tenantId, [statusEvent("b1", "m0"), bad])).rejects.toThrow(/at:/);
    expect(await eventIds(tenantId)).toEqual([]);
  });

  it("refuses a loopback endpoint in production, saying why in the attempt log", async () => {
    const production = startEngine({ allowPrivate: false, schedule: [0] });
    const tenantId = uniqueId("t");
    const webhookId = await addEndpoint(tenantId, ["message.status"], {
      url: `http://localhost:${receiverPort}/loopback`,
    });
    await production.publisher.publish(tenantId, [statusEvent("b1", "m1")]);
    const [eventId = ""] = await eventIds(tenantId);
    const delivery = await deliveryWhen(tenantId, webhookId, eventId, "failed", (d) => d.status === "failed");
    expect(delivery.attempts).toHaveLength(1);
    expect(delivery.attempts[0]?.statusCode).toBeNull();
    expect(delivery.attempts[0]?.error).toMatch(/^blocked_address: refused: (127\.0\.0\.1|::1) is a loopback address/);
    expect(received.some((r) => r.webhookId === "loopback")).toBe(false);
  });

  it("replays a delivered event when asked, logging the replay beside the first attempt", async () => {
    const tenantId = uniqueId("t");
    const webhookId = await addEndpoint(tenantId, ["message.status"]);
    scripts.set(webhookId, [{ status: 200 }, { status: 500 }, { status: 200 }]);
    await dev.publisher.publish(tenantId, [statusEvent("b1", "m1")]);
    const [eventId = ""] = await eventIds(tenantId);
    await deliveryWhen(tenantId, webhookId, eventId, "delivered", (d) => d.status === "delivered");
    // What the API's replay queues: attempt 1 again, marked replay, under an id of its own.
    await dev.queue.add(
      "webhook.deliver",
      { tenantId, eventId, webhookId, attempt: 1, replay: true },
      { jobId: `replay-${eventId}-1` },
    );
    const replayed = await deliveryWhen(
      tenantId,
      webhookId,
      eventId,
      "replayed",
      (d) => d.status === "delivered" && d.attempts.length === 3,
    );
    expect(replayed.attempts.map((a) => [a.statusCode, a.replay])).toEqual([
      [200, false],
      [500, true],
      [200, true],
    ]);
    const hits = received.filter((r) => r.webhookId === webhookId);
    expect(hits.map((h) => h.eventId)).toEqual([eventId, eventId, eventId]);
    expect(hits.every((h) => h.verified)).toBe(true);
  });

  it("signs with the previous secret too until it expires, after a rotation", async () => {
    const tenantId = uniqueId("t");
    const webhookId = await addEndpoint(tenantId, ["message.status"]);
    const previous = secrets.get(webhookId) ?? "";
    const current = newWebhookSecret();
    await refs.secret(tenantId, webhookId).set({
      current,
      previous,
      previousExpiresAt: Timestamp.fromMillis(Date.now() + 3_600_000),
      rotatedAt: Timestamp.now(),
    });
    // The receiver still verifies with the old secret, as a receiver mid-switch would.
    await dev.publisher.publish(tenantId, [statusEvent("b1", "m1")]);
    const [eventId = ""] = await eventIds(tenantId);
    await deliveryWhen(tenantId, webhookId, eventId, "delivered", (d) => d.status === "delivered");
    const [hit] = received.filter((r) => r.webhookId === webhookId);
    expect(hit?.verified).toBe(true);
    expect(new Webhook(current).verify(hit?.body ?? "", hit?.headers ?? {})).toBeTruthy();
  });

  it("disables an endpoint whose deliveries have all failed for 5 days", async () => {
    const tenantId = uniqueId("t");
    const webhookId = await addEndpoint(tenantId, ["message.status"]);
    await refs
      .endpoint(tenantId, webhookId)
      .update({ failingSince: Timestamp.fromMillis(Date.now() - 6 * 86_400_000) });
    scripts.set(webhookId, [{ status: 500 }]);
    await dev.publisher.publish(tenantId, [statusEvent("b1", "m1")]);
    const [eventId = ""] = await eventIds(tenantId);
    const delivery = await deliveryWhen(tenantId, webhookId, eventId, "failed", (d) => d.status === "failed");
    expect(delivery.attempts).toHaveLength(1);
    const endpoint = (await refs.endpoint(tenantId, webhookId).get()).data();
    expect(endpoint?.enabled).toBe(false);
    expect(endpoint?.disabledReason).toMatch(/^every delivery failed for 5 days/);
  });

  it("dispatches an event a crash left undispatched", async () => {
    const tenantId = uniqueId("t");
    const webhookId = await addEndpoint(tenantId, ["message.status"]);
    const eventId = `evt_${uniqueId("stranded").replace("-", "")}`;
    const createdAt = Timestamp.fromMillis(Date.now() - 10 * 60_000);
    await refs.event(tenantId, eventId).create({
      type: "message.status",
      botId: "b1",
      body: JSON.stringify({ type: "message.status", timestamp: new Date().toISOString(), data: {} }),
      endpointIds: [webhookId],
      dispatched: false,
      createdAt,
      expiresAt: Timestamp.fromMillis(Date.now() + 86_400_000),
    });
    await waitFor("the stranded event dispatched", async () => {
      await dev.publisher.dispatchStranded(60_000);
      return (await refs.event(tenantId, eventId).get()).data()?.dispatched ? true : undefined;
    });
    await deliveryWhen(tenantId, webhookId, eventId, "delivered", (d) => d.status === "delivered");
    expect(received.filter((r) => r.webhookId === webhookId && r.verified)).toHaveLength(1);
  });
});
