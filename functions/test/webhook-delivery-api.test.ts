import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createLogger, OutboundHttp, WebhookDeliverer, webhookBodySchema, webhookRefs } from "@whatsdex/core";
import { DeadLetterStore, JobHandler, JobQueue, queueNames, webhookJobs } from "@whatsdex/core/jobs";
import { bullmqTransport, startBullmqWorker } from "@whatsdex/core/jobs/bullmq";
import { requireEnv, waitFor } from "@whatsdex/core/testing";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createdWebhookSchema,
  deliverySchema,
  replayQueuedSchema,
  testQueuedSchema,
  webhookSecretSchema,
} from "../src/webhooks/dto.ts";
import { ownerWithTenant } from "./support/fixtures.ts";
import { client, startTestApi, type TestApi } from "./support/test-api.ts";

/**
 * What the API queues is what the session-runner delivers: the API (private targets allowed, as in
 * local development) queues on BullMQ, the runner's deliverer runs as a real worker on that queue,
 * and a receiver on this machine verifies every request with the official Standard Webhooks library.
 */

interface Received {
  headers: { "webhook-id": string; "webhook-timestamp": string; "webhook-signature": string };
  body: string;
}

let api: TestApi;
let http: ReturnType<typeof client>;
let receiver: Server;
let receiverUrl: string;
const received: Received[] = [];
let stopWorker: () => Promise<void>;

beforeAll(async () => {
  api = await startTestApi({ allowPrivateWebhookTargets: true });
  http = client(api.url);
  receiver = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(Buffer.from(chunk));
    const headers = {
      "webhook-id": String(req.headers["webhook-id"]),
      "webhook-timestamp": String(req.headers["webhook-timestamp"]),
      "webhook-signature": String(req.headers["webhook-signature"]),
    };
    received.push({ headers, body: Buffer.concat(chunks).toString("utf8") });
    res.writeHead(204).end();
  });
  receiver.listen(0, "127.0.0.1");
  await once(receiver, "listening");
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

  // The session-runner's webhooks worker, as its composition root wires it, on the API's queue.
  const redisUrl = requireEnv("REDIS_URL");
  const logger = createLogger({ level: "silent", service: "session-runner", version: "9.9.9" });
  const transport = bullmqTransport({ redisUrl, queue: queueNames.webhooks, prefix: api.bullmqPrefix });
  const queue = new JobQueue({ name: queueNames.webhooks, definitions: webhookJobs, transport });
  const deliverer = new WebhookDeliverer({
    refs: webhookRefs(api.firebase.firestore),
    queue,
    http: new OutboundHttp({ allowPrivate: true }),
    logger,
    schedule: [0, 50, 50],
  });
  const handler = new JobHandler({
    queue: queueNames.webhooks,
    definitions: webhookJobs,
    processors: { "webhook.deliver": (job) => deliverer.deliver(job) },
    deadLetters: new DeadLetterStore(api.firebase.firestore),
    tracer: api.tracing.tracer,
    logger,
  });
  const worker = startBullmqWorker(handler, { redisUrl, concurrency: 2, logger, prefix: api.bullmqPrefix });
  stopWorker = async () => {
    await worker.close();
    await transport.close();
  };
});

afterAll(async () => {
  await stopWorker();
  receiver.closeAllConnections();
  receiver.close();
  await api.close();
});

/** The requests that reached the receiver for one event. */
function requestsFor(eventId: string): Received[] {
  return received.filter((request) => request.headers["webhook-id"] === eventId);
}

function verifies(secret: string, request: Received): boolean {
  try {
    new Webhook(secret).verify(request.body, request.headers);
    return true;
  } catch {
    return false;
  }
}

describe("webhook tests and replays, delivered", () => {
  it("delivers a test event signed with the endpoint's secret, logs it, replays it, and signs with both secrets after a rotation", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const auth = { token: owner.idToken };
    const created = createdWebhookSchema.parse(
      (await http.post(`/tenants/${tenantId}/webhooks`, auth, { url: receiverUrl, events: ["message.received"] })).body,
    );
    const base = `/tenants/${tenantId}/webhooks/${created.id}`;

    const { eventId } = testQueuedSchema.parse((await http.post(`${base}/test`, auth)).body);
    const [first] = await waitFor("the test event at the receiver", async () => {
      const requests = requestsFor(eventId);
      return requests.length > 0 ? requests : undefined;
    });
    if (!first) throw new Error("no request");
    expect(verifies(created.secret, first)).toBe(true);
    const body = webhookBodySchema.parse(JSON.parse(first.body));
    expect(body).toMatchObject({ type: "webhook.test", data: { webhookId: created.id } });

    const delivered = await waitFor("the delivery logged as delivered", async () => {
      const delivery = deliverySchema.parse((await http.get(`${base}/deliveries/${eventId}`, auth)).body);
      return delivery.status === "delivered" ? delivery : undefined;
    });
    expect(delivered.attempts).toEqual([expect.objectContaining({ statusCode: 204, error: null, replay: false })]);

    // A replay is the same event (same webhook-id, same body) delivered again, logged as a replay.
    const replay = await http.post(`${base}/deliveries/${eventId}/replay`, auth);
    expect(replayQueuedSchema.parse(replay.body)).toEqual({ queued: 1, nextFrom: null });
    const replayed = await waitFor("the replay logged", async () => {
      const delivery = deliverySchema.parse((await http.get(`${base}/deliveries/${eventId}`, auth)).body);
      return delivery.attempts.length === 2 ? delivery : undefined;
    });
    expect(replayed.attempts[1]).toMatchObject({ statusCode: 204, replay: true });
    const both = requestsFor(eventId);
    expect(both).toHaveLength(2);
    expect(both[1]?.body).toBe(first.body);

    // After a rotation both secrets sign, so a receiver still on the old one keeps verifying.
    const rotated = webhookSecretSchema.parse((await http.post(`${base}/rotate-secret`, auth)).body);
    const next = testQueuedSchema.parse((await http.post(`${base}/test`, auth)).body);
    const [afterRotation] = await waitFor("the test event after the rotation", async () => {
      const requests = requestsFor(next.eventId);
      return requests.length > 0 ? requests : undefined;
    });
    if (!afterRotation) throw new Error("no request");
    expect(afterRotation.headers["webhook-signature"].split(" ")).toHaveLength(2);
    expect(verifies(rotated.secret, afterRotation)).toBe(true);
    expect(verifies(created.secret, afterRotation)).toBe(true);
    expect(verifies(`whsec_${Buffer.alloc(32).toString("base64")}`, afterRotation)).toBe(false);
  });
});
