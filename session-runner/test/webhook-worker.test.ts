import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { trace } from "@opentelemetry/api";
import { ConfigError, MediaStore, newWebhookSecret, parseEnv, webhookRefs } from "@whatsdex/core";
import { testBucket, testFirebase, uniqueId, waitFor } from "@whatsdex/core/testing";
import { Timestamp } from "firebase-admin/firestore";
import { pino } from "pino";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runnerEnvSchema } from "../src/config.ts";
import { type JobWorkers, startJobWorkers } from "../src/jobs/workers.ts";
import { SimulatedWhatsApp } from "../src/transport/simulator/simulator.ts";
import { runnerEnv, tenantWithBots, testSupervisor } from "./support/fleet.ts";

/**
 * The runner's wiring: an event published through the workers' EventSink reaches a local receiver
 * through the runner's own webhooks queue (BullMQ) and worker, signed with the endpoint's secret.
 */
const firebase = testFirebase();
const refs = webhookRefs(firebase.firestore);
let jobs: JobWorkers;
let receiver: Server;
let port: number;
const seen: Array<{ id: string; body: string; verified: boolean }> = [];
const secret = newWebhookSecret();

beforeAll(async () => {
  receiver = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString();
    const headers = {
      "webhook-id": String(req.headers["webhook-id"]),
      "webhook-timestamp": String(req.headers["webhook-timestamp"]),
      "webhook-signature": String(req.headers["webhook-signature"]),
    };
    let verified = true;
    try {
      new Webhook(secret).verify(body, headers);
    } catch {
      verified = false;
    }
    seen.push({ id: headers["webhook-id"], body, verified });
    res.writeHead(200).end();
  });
  receiver.listen(0, "127.0.0.1");
  await once(receiver, "listening");
  port = (receiver.address() as AddressInfo).port;
  const env = parseEnv(
    runnerEnvSchema,
    runnerEnv({ JOBS_DRIVER: "bullmq", WEBHOOKS_ALLOW_PRIVATE_TARGETS: "true", JOBS_CONCURRENCY_WEBHOOKS: "2" }),
  );
  jobs = startJobWorkers({
    env,
    projectId: env.GCLOUD_PROJECT ?? "",
    db: firebase.firestore,
    media: new MediaStore(testBucket()),
    tracer: trace.getTracer("webhook-worker-test"),
    logger: pino({ level: "silent" }),
  });
});

afterAll(async () => {
  await jobs.close();
  receiver.closeAllConnections();
  receiver.close();
  await firebase.close();
});

describe("the runner's webhooks worker", () => {
  it("delivers an event published through jobs.events to the tenant's endpoint", async () => {
    const tenantId = uniqueId("t");
    const webhookId = uniqueId("wh");
    const now = Timestamp.now();
    await refs.endpoint(tenantId, webhookId).set({
      url: `http://127.0.0.1:${port}/hook`,
      events: ["bot.status"],
      description: null,
      enabled: true,
      disabledReason: null,
      failingSince: null,
      createdBy: "test",
      createdAt: now,
      updatedAt: now,
    });
    await refs
      .secret(tenantId, webhookId)
      .set({ current: secret, previous: null, previousExpiresAt: null, rotatedAt: now });

    expect(await jobs.events.subscribed(tenantId, "bot.status")).toBe(true);
    await jobs.events.publish(tenantId, [
      {
        type: "bot.status",
        data: { botId: "b1", state: "open", reason: null, phoneNumber: null, at: new Date().toISOString() },
        key: "b1:open:1",
      },
    ]);
    const events = await refs.db.collection(`tenants/${tenantId}/events`).get();
    expect(events.size).toBe(1);
    const eventId = events.docs[0]?.id ?? "";
    const delivery = await waitFor("the delivery recorded", async () => {
      const doc = (await refs.delivery(tenantId, webhookId, eventId).get()).data();
      return doc?.status === "delivered" ? doc : undefined;
    });
    expect(delivery.attempts.map((a) => a.statusCode)).toEqual([200]);
    expect(seen).toEqual([{ id: eventId, body: events.docs[0]?.get("body"), verified: true }]);
  });

  it("hears an endpoint registered while the bot runs at once, and a redelivered message is one event", async () => {
    const { tenantId } = await tenantWithBots(firebase.firestore, 1);
    const whatsapp = new SimulatedWhatsApp();
    const supervisor = testSupervisor(firebase.firestore, { whatsapp, tenantIds: [tenantId], eventSink: jobs.events });
    supervisor.start();
    try {
      (await waitFor("a QR code", async () => whatsapp.liveSockets.find((s) => s.state === "qr"))).link(
        "6281234567890",
      );
      const socket = await waitFor("an open socket", async () => whatsapp.liveSockets.find((s) => s.state === "open"));
      // The bot has published (to nobody) already; the endpoint comes after, as a tenant registers one.
      expect(await jobs.events.subscribed(tenantId, "message.received")).toBe(false);
      const webhookId = uniqueId("wh");
      const now = Timestamp.now();
      await refs
        .secret(tenantId, webhookId)
        .set({ current: secret, previous: null, previousExpiresAt: null, rotatedAt: now });
      await refs.endpoint(tenantId, webhookId).set({
        url: `http://127.0.0.1:${port}/hook`,
        events: ["message.received"],
        description: null,
        enabled: true,
        disabledReason: null,
        failingSince: null,
        createdBy: "test",
        createdAt: now,
        updatedAt: now,
      });
      // Within the listener's round trip, not the 20 s a cached directory would take.
      await waitFor(
        "the endpoint heard",
        async () => (await jobs.events.subscribed(tenantId, "message.received")) || undefined,
        {
          timeoutMs: 5_000,
        },
      );
      const message = {
        key: {
          remoteJid: "111222333444555@lid",
          remoteJidAlt: "6281111111111@s.whatsapp.net",
          id: "REDELIVERED1",
          fromMe: false,
        },
        pushName: "Alice",
        messageTimestamp: Math.floor(Date.now() / 1000),
        message: { conversation: "hello" },
      };
      socket.deliver(message);
      const delivered = await waitFor("the message delivered", async () => {
        const hit = seen.filter((s) => s.body.includes("REDELIVERED1"));
        return hit.length > 0 ? hit : undefined;
      });
      socket.deliver(message); // WhatsApp redelivers it (a retry, a reconnect)
      socket.deliver({ ...message, key: { ...message.key, id: "AFTER1" }, message: { conversation: "later" } });
      await waitFor(
        "the later message delivered",
        async () => seen.some((s) => s.body.includes("AFTER1")) || undefined,
      );
      expect(seen.filter((s) => s.body.includes("REDELIVERED1"))).toEqual(delivered);
      expect(delivered).toHaveLength(1);
      expect(delivered[0]?.verified).toBe(true);
      const events = await refs.db
        .collection(`tenants/${tenantId}/events`)
        .where("type", "==", "message.received")
        .get();
      expect(events.size).toBe(2);
    } finally {
      await supervisor.stop();
    }
  });

  it("refuses WEBHOOKS_ALLOW_PRIVATE_TARGETS when deployed", () => {
    let paths: string[] = [];
    try {
      parseEnv(runnerEnvSchema, {
        ...runnerEnv({ WEBHOOKS_ALLOW_PRIVATE_TARGETS: "true" }),
        K_SERVICE: "session-runner",
      });
    } catch (error) {
      if (error instanceof ConfigError) paths = error.issues.map((issue) => issue.path);
    }
    expect(paths).toContain("WEBHOOKS_ALLOW_PRIVATE_TARGETS");
  });
});
