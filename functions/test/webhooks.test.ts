import {
  auditEntryDocSchema,
  ConfigError,
  EVENT_RETENTION_MS,
  parseEnv,
  UnavailableError,
  type WebhookDeliveryDoc,
  webhookBodySchema,
  webhookRefs,
  webhookTestEventSchema,
} from "@whatsdex/core";
import { envelopeSchema, queueNames, webhookJobs } from "@whatsdex/core/jobs";
import { testRedis, uniqueId } from "@whatsdex/core/testing";
import { Queue } from "bullmq";
import { Timestamp } from "firebase-admin/firestore";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { apiKeySchema } from "../src/api-keys/routes.ts";
import { functionsEnvSchema, jobsDriver, missingJobsSettings } from "../src/config.ts";
import { pageOf, problemSchema } from "../src/http/schemas.ts";
import {
  createdWebhookSchema,
  deliverySchema,
  replayQueuedSchema,
  testQueuedSchema,
  webhookSchema,
  webhookSecretSchema,
} from "../src/webhooks/dto.ts";
import { createWebhookQueue } from "../src/webhooks/queue.ts";
import { ownerWithTenant } from "./support/fixtures.ts";
import { type Credential, client, signUp, startTestApi, type TestApi, type TestUser } from "./support/test-api.ts";

let api: TestApi;
let http: ReturnType<typeof client>;
/** The same API with WEBHOOKS_ALLOW_PRIVATE_TARGETS=true, as in local development. */
let devApi: TestApi;
let devHttp: ReturnType<typeof client>;
const redis = testRedis();
const queues: Queue[] = [];

beforeAll(async () => {
  [api, devApi] = await Promise.all([startTestApi(), startTestApi({ allowPrivateWebhookTargets: true })]);
  http = client(api.url);
  devHttp = client(devApi.url);
});
afterAll(async () => {
  for (const queue of queues) await queue.close();
  redis.disconnect();
  await Promise.all([api.close(), devApi.close()]);
});

const receiver = "https://receiver.example.com/whatsdex";

/** The `webhook.deliver` jobs the API queued (as the session-runner's worker will read them). */
async function queuedJobs(testApi: TestApi) {
  const queue = new Queue(queueNames.webhooks, { connection: redis, prefix: testApi.bullmqPrefix });
  queues.push(queue);
  const jobs = await queue.getJobs(["waiting", "delayed", "prioritized"]);
  return jobs.map((job) => {
    const envelope = envelopeSchema.parse(job.data);
    return { id: envelope.id, name: envelope.name, data: webhookJobs["webhook.deliver"].parse(envelope.data) };
  });
}

async function tenantWith(plan = "business") {
  const { owner, tenantId } = await ownerWithTenant(http);
  await api.firebase.firestore.doc(`tenants/${tenantId}`).update({ plan });
  return { owner, tenantId, auth: { token: owner.idToken } satisfies Credential };
}

async function addMember(tenantId: string, by: TestUser, role: "admin" | "viewer") {
  const user = await signUp();
  const added = await http.post(`/tenants/${tenantId}/members`, { token: by.idToken }, { uid: user.uid, role });
  if (added.status !== 201) throw new Error(`could not add a member: ${added.status}`);
  return { token: user.idToken } satisfies Credential;
}

async function apiKey(tenantId: string, by: TestUser, scopes: string[]): Promise<Credential> {
  const made = await http.post(`/tenants/${tenantId}/api-keys`, { token: by.idToken }, { name: "k", scopes });
  return { apiKey: apiKeySchema.extend({ key: z.string() }).parse(made.body).key };
}

async function createWebhook(tenantId: string, auth: Credential, body: object = { url: receiver, events: ["*"] }) {
  const response = await http.post(`/tenants/${tenantId}/webhooks`, auth, body);
  if (response.status !== 201) throw new Error(`could not create a webhook: ${JSON.stringify(response.body)}`);
  return createdWebhookSchema.parse(response.body);
}

/** A delivery as the deliverer records it, with its stored event (which replays need). */
async function recordDelivery(
  tenantId: string,
  webhookId: string,
  at: number,
  status: WebhookDeliveryDoc["status"] = "delivered",
  { keepEvent = true }: { keepEvent?: boolean } = {},
): Promise<string> {
  const refs = webhookRefs(api.firebase.firestore);
  const eventId = uniqueId("evt");
  const createdAt = Timestamp.fromMillis(at);
  const expiresAt = Timestamp.fromMillis(at + EVENT_RETENTION_MS);
  const body = { type: "webhook.test", timestamp: new Date(at).toISOString(), data: { webhookId, message: "hi" } };
  if (keepEvent) {
    await refs.event(tenantId, eventId).set({
      type: "webhook.test",
      botId: null,
      body: JSON.stringify(body),
      endpointIds: [webhookId],
      dispatched: true,
      createdAt,
      expiresAt,
    });
  }
  await refs.delivery(tenantId, webhookId, eventId).set({
    eventId,
    type: "webhook.test",
    status,
    attempts: [
      {
        at: createdAt,
        statusCode: status === "delivered" ? 200 : 500,
        error: status === "delivered" ? null : "HTTP 500",
        latencyMs: 42,
        response: "ok",
        replay: false,
      },
    ],
    nextAttemptAt: null,
    createdAt,
    updatedAt: createdAt,
    expiresAt,
  });
  return eventId;
}

describe("webhook endpoints", () => {
  it("shows a new endpoint's secret once: stored apart, server-only, never in get or list; owners may ask for it again", async () => {
    const { owner, tenantId, auth } = await tenantWith();
    const response = await http.post(`/tenants/${tenantId}/webhooks`, auth, {
      url: receiver,
      events: ["message.received", "bot.status", "message.received"],
      description: "CRM",
    });
    expect(response.status).toBe(201);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const created = createdWebhookSchema.parse(response.body);
    expect(created).toMatchObject({
      url: receiver,
      events: ["message.received", "bot.status"],
      description: "CRM",
      enabled: true,
      disabledReason: null,
      failingSince: null,
      createdBy: `user:${owner.uid}`,
    });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(created.secret.slice("whsec_".length), "base64")).toHaveLength(32);

    const db = api.firebase.firestore;
    const endpointDoc = await db.doc(`tenants/${tenantId}/webhooks/${created.id}`).get();
    expect(JSON.stringify(endpointDoc.data())).not.toContain(created.secret.slice(6));
    const secretDoc = await db.doc(`tenants/${tenantId}/webhooks/${created.id}/secret/current`).get();
    expect(secretDoc.get("current")).toBe(created.secret);

    const got = await http.get(`/tenants/${tenantId}/webhooks/${created.id}`, auth);
    expect(webhookSchema.strict().parse(got.body).id).toBe(created.id);
    const list = await http.get(`/tenants/${tenantId}/webhooks`, auth);
    expect(
      pageOf(webhookSchema)
        .parse(list.body)
        .items.map((w) => w.id),
    ).toEqual([created.id]);
    for (const body of [got.body, list.body]) expect(JSON.stringify(body)).not.toContain(created.secret.slice(6));

    const revealed = await http.get(`/tenants/${tenantId}/webhooks/${created.id}/secret`, auth);
    expect(revealed.status).toBe(200);
    expect(revealed.headers.get("cache-control")).toBe("no-store");
    expect(webhookSecretSchema.parse(revealed.body)).toMatchObject({ secret: created.secret, previousExpiresAt: null });

    // Every change and every reveal is audited, and no secret reaches the audit log.
    const audit = await db.collection(`tenants/${tenantId}/audit`).where("target", "==", `webhook:${created.id}`).get();
    const entries = audit.docs.map((doc) => auditEntryDocSchema.parse(doc.data()));
    expect(entries.map((entry) => entry.action).sort()).toEqual(["webhook.created", "webhook.secret_revealed"]);
    expect(JSON.stringify(entries)).not.toContain(created.secret.slice(6));
  });

  it("lets owners, admins and admin-scoped keys manage endpoints; viewers and other keys get 403; only signed-in managers see a secret again", async () => {
    const { owner, tenantId, auth } = await tenantWith();
    const viewer = await addMember(tenantId, owner, "viewer");
    const admin = await addMember(tenantId, owner, "admin");
    const messagesKey = await apiKey(tenantId, owner, ["messages"]);
    const readKey = await apiKey(tenantId, owner, ["read"]);
    const adminKey = await apiKey(tenantId, owner, ["admin"]);

    // A tenant's server registers its own endpoint with an admin-scoped key.
    const byKey = await createWebhook(tenantId, adminKey);
    const base = `/tenants/${tenantId}/webhooks`;
    expect((await http.get(base, adminKey)).status).toBe(200);
    expect((await http.get(`${base}/${byKey.id}`, admin)).status).toBe(200);

    for (const [who, credential] of [
      ["viewer", viewer],
      ["messages key", messagesKey],
      ["read key", readKey],
    ] as const) {
      for (const response of [
        await http.get(base, credential),
        await http.get(`${base}/${byKey.id}`, credential),
        await http.post(base, credential, { url: receiver, events: ["*"] }),
        await http.get(`${base}/${byKey.id}/secret`, credential),
        await http.get(`${base}/${byKey.id}/deliveries`, credential),
      ]) {
        expect(response.status, who).toBe(403);
        expect(problemSchema.parse(response.body).code).toBe("forbidden");
      }
    }
    // Keys never see a secret again, not even an admin-scoped one: signed-in owners and admins do.
    expect((await http.get(`${base}/${byKey.id}/secret`, adminKey)).status).toBe(403);
    expect((await http.get(`${base}/${byKey.id}/secret`, admin)).status).toBe(200);
    expect((await http.get(`${base}/${byKey.id}/secret`, auth)).status).toBe(200);
    expect(pageOf(webhookSchema).parse((await http.get(base, auth)).body).items).toHaveLength(1);
  });

  it("refuses a bad URL or event type with a 400 naming the field, and writes nothing", async () => {
    const { tenantId, auth } = await tenantWith();
    const cases: Array<[object, string]> = [
      [{ url: "not a url", events: ["*"] }, "url"],
      [{ url: "ftp://files.example.com/in", events: ["*"] }, "url"],
      [{ url: "http://receiver.example.com/hook", events: ["*"] }, "url"],
      [{ url: "https://user:pw@receiver.example.com/hook", events: ["*"] }, "url"],
      [{ url: "https://127.0.0.1/hook", events: ["*"] }, "url"],
      [{ url: "https://0x7f000001/hook", events: ["*"] }, "url"],
      [{ url: "https://169.254.169.254/computeMetadata/v1/", events: ["*"] }, "url"],
      [{ url: "https://10.1.2.3/hook", events: ["*"] }, "url"],
      [{ url: "https://[::1]/hook", events: ["*"] }, "url"],
      [{ url: "https://[::ffff:127.0.0.1]/hook", events: ["*"] }, "url"],
      [{ url: "https://[fd00::1]/hook", events: ["*"] }, "url"],
      [{ url: "https://[64:ff9b::a9fe:a9fe]/hook", events: ["*"] }, "url"],
      [{ url: "https://localhost/hook", events: ["*"] }, "url"],
      [{ url: "https://metadata.google.internal/hook", events: ["*"] }, "url"],
      [{ url: receiver, events: ["message.exploded"] }, "body.events[0]"],
      [{ url: receiver, events: ["*", "bot.qr"] }, "body.events"],
      [{ url: receiver, events: [] }, "body.events"],
      [{ url: receiver }, "body.events"],
      [{ url: receiver, events: ["*"], secret: "whsec_mine" }, "body"],
    ];
    for (const [body, field] of cases) {
      const response = await http.post(`/tenants/${tenantId}/webhooks`, auth, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      const problem = problemSchema.parse(response.body);
      expect(problem.code).toBe("validation_failed");
      expect(
        problem.errors?.map((e) => e.path),
        JSON.stringify(body),
      ).toContain(field);
    }
    const stored = await api.firebase.firestore.collection(`tenants/${tenantId}/webhooks`).get();
    expect(stored.size).toBe(0);
    const audit = await api.firebase.firestore.collection(`tenants/${tenantId}/audit`).get();
    expect(audit.docs.filter((doc) => String(doc.get("action")).startsWith("webhook."))).toEqual([]);
  });

  it("accepts http and this machine's addresses only when private targets are allowed (local development)", async () => {
    const { owner, tenantId } = await ownerWithTenant(devHttp);
    const response = await devHttp.post(
      `/tenants/${tenantId}/webhooks`,
      { token: owner.idToken },
      { url: "http://127.0.0.1:8092/webhooks", events: ["*"] },
    );
    expect(response.status).toBe(201);
    expect(createdWebhookSchema.parse(response.body).url).toBe("http://127.0.0.1:8092/webhooks");
    // The metadata server stays out of reach even here, as the SSRF guard keeps it.
    for (const url of ["http://169.254.169.254/computeMetadata/v1/", "http://metadata.google.internal/"]) {
      const refused = await devHttp.post(
        `/tenants/${tenantId}/webhooks`,
        { token: owner.idToken },
        { url, events: ["*"] },
      );
      expect(
        problemSchema.parse(refused.body).errors?.map((e) => e.path),
        url,
      ).toEqual(["url"]);
    }
  });

  it("allows at most 10 endpoints per tenant and says so", async () => {
    const { tenantId, auth } = await tenantWith("free");
    for (let i = 0; i < 10; i++) await createWebhook(tenantId, auth, { url: `${receiver}/${i}`, events: ["*"] });
    const eleventh = await http.post(`/tenants/${tenantId}/webhooks`, auth, { url: receiver, events: ["*"] });
    expect(eleventh.status).toBe(403);
    const problem = problemSchema.parse(eleventh.body);
    expect(problem).toMatchObject({ code: "plan_limit", details: { limit: 10 } });
    expect(problem.detail).toContain("at most 10 webhook endpoints");
  });

  it("patches URL, events, description and enabled; re-enabling forgets why it was disabled", async () => {
    const { tenantId, auth } = await tenantWith();
    const created = await createWebhook(tenantId, auth);
    const path = `/tenants/${tenantId}/webhooks/${created.id}`;
    const patched = await http.patch(path, auth, {
      url: `${receiver}/v2`,
      events: ["message.received", "bot.qr"],
      description: "helpdesk",
    });
    expect(webhookSchema.parse(patched.body)).toMatchObject({
      url: `${receiver}/v2`,
      events: ["message.received", "bot.qr"],
      description: "helpdesk",
      enabled: true,
    });

    const refused = await http.patch(path, auth, { url: "http://receiver.example.com/", description: null });
    expect(problemSchema.parse(refused.body).errors?.map((e) => e.path)).toEqual(["url"]);
    expect(webhookSchema.parse((await http.get(path, auth)).body).description).toBe("helpdesk");

    // As the deliverer leaves an endpoint that answered 410 Gone.
    await api.firebase.firestore
      .doc(`tenants/${tenantId}/webhooks/${created.id}`)
      .update({ enabled: false, disabledReason: "The endpoint answered 410 Gone.", failingSince: Timestamp.now() });
    expect(webhookSchema.parse((await http.get(path, auth)).body)).toMatchObject({
      enabled: false,
      disabledReason: "The endpoint answered 410 Gone.",
    });
    expect((await http.post(`${path}/test`, auth)).status).toBe(409);
    const enabled = webhookSchema.parse((await http.patch(path, auth, { enabled: true })).body);
    expect(enabled).toMatchObject({ enabled: true, disabledReason: null, failingSince: null });
    expect(webhookSchema.parse((await http.patch(path, auth, { description: null })).body).description).toBeNull();
  });

  it("rotates the secret: a new one shown once, the old one kept as previous for 24 hours", async () => {
    const { tenantId, auth } = await tenantWith();
    const created = await createWebhook(tenantId, auth);
    const path = `/tenants/${tenantId}/webhooks/${created.id}`;
    const before = Date.now();
    const response = await http.post(`${path}/rotate-secret`, auth);
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const rotated = webhookSecretSchema.parse(response.body);
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(created.secret);
    const expiresAt = Date.parse(rotated.previousExpiresAt ?? "");
    expect(expiresAt).toBeGreaterThanOrEqual(before + 24 * 3_600_000 - 1_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 24 * 3_600_000);

    const stored = await api.firebase.firestore.doc(`tenants/${tenantId}/webhooks/${created.id}/secret/current`).get();
    expect(stored.get("current")).toBe(rotated.secret);
    expect(stored.get("previous")).toBe(created.secret);
    expect(webhookSecretSchema.parse((await http.get(`${path}/secret`, auth)).body)).toEqual(rotated);
  });

  it("deletes an endpoint with its secret and its delivery log", async () => {
    const { tenantId, auth } = await tenantWith();
    const created = await createWebhook(tenantId, auth);
    await recordDelivery(tenantId, created.id, Date.now());
    await recordDelivery(tenantId, created.id, Date.now(), "failed");
    const db = api.firebase.firestore;
    const endpoint = db.doc(`tenants/${tenantId}/webhooks/${created.id}`);
    expect((await endpoint.collection("deliveries").get()).size).toBe(2);

    expect((await http.delete(`/tenants/${tenantId}/webhooks/${created.id}`, auth)).status).toBe(204);
    expect((await endpoint.get()).exists).toBe(false);
    expect((await endpoint.collection("secret").get()).size).toBe(0);
    expect((await endpoint.collection("deliveries").get()).size).toBe(0);
    expect((await http.get(`/tenants/${tenantId}/webhooks/${created.id}`, auth)).status).toBe(404);
    expect((await http.delete(`/tenants/${tenantId}/webhooks/${created.id}`, auth)).status).toBe(404);
  });

  it("answers 404 for another tenant's endpoint, whichever way it is asked for", async () => {
    const a = await tenantWith();
    const b = await tenantWith();
    const theirs = await createWebhook(a.tenantId, a.auth);
    const eventId = await recordDelivery(a.tenantId, theirs.id, Date.now());
    const viaOwnTenant = `/tenants/${b.tenantId}/webhooks/${theirs.id}`;
    for (const response of [
      await http.get(viaOwnTenant, b.auth),
      await http.patch(viaOwnTenant, b.auth, { enabled: false }),
      await http.delete(viaOwnTenant, b.auth),
      await http.post(`${viaOwnTenant}/rotate-secret`, b.auth),
      await http.get(`${viaOwnTenant}/secret`, b.auth),
      await http.post(`${viaOwnTenant}/test`, b.auth),
      await http.get(`${viaOwnTenant}/deliveries`, b.auth),
      await http.get(`${viaOwnTenant}/deliveries/${eventId}`, b.auth),
      await http.post(`${viaOwnTenant}/deliveries/${eventId}/replay`, b.auth),
      await http.get(`/tenants/${a.tenantId}/webhooks/${theirs.id}`, b.auth),
      await http.get(`/tenants/${a.tenantId}/webhooks/${theirs.id}/secret`, b.auth),
    ]) {
      expect(response.status).toBe(404);
    }
    expect(
      webhookSchema.parse((await http.get(`/tenants/${a.tenantId}/webhooks/${theirs.id}`, a.auth)).body).enabled,
    ).toBe(true);
  });
});

describe("webhook tests, deliveries and replays", () => {
  it("sends webhook.test to that endpoint only, as a stored event with its delivery and a queued webhook.deliver job", async () => {
    const { tenantId, auth } = await tenantWith();
    const target = await createWebhook(tenantId, auth, { url: receiver, events: ["message.received"] });
    const other = await createWebhook(tenantId, auth, { url: `${receiver}/other`, events: ["*"] });
    const response = await http.post(`/tenants/${tenantId}/webhooks/${target.id}/test`, auth);
    expect(response.status).toBe(202);
    const { eventId } = testQueuedSchema.parse(response.body);

    const refs = webhookRefs(api.firebase.firestore);
    const event = (await refs.event(tenantId, eventId).get()).data();
    expect(event).toMatchObject({ type: "webhook.test", endpointIds: [target.id], dispatched: true });
    const body = webhookBodySchema.parse(JSON.parse(event?.body ?? "null"));
    expect(body.type).toBe("webhook.test");
    expect(webhookTestEventSchema.parse(body.data).webhookId).toBe(target.id);
    expect((event?.expiresAt.toMillis() ?? 0) - (event?.createdAt.toMillis() ?? 0)).toBe(EVENT_RETENTION_MS);

    const delivery = deliverySchema.parse(
      (await http.get(`/tenants/${tenantId}/webhooks/${target.id}/deliveries/${eventId}`, auth)).body,
    );
    expect(delivery).toMatchObject({ eventId, type: "webhook.test", status: "pending", attempts: [] });
    expect((await refs.deliveries(tenantId, other.id).get()).size).toBe(0);

    const jobs = await queuedJobs(api);
    expect(jobs.filter((job) => job.data.eventId === eventId)).toEqual([
      {
        id: expect.any(String),
        name: "webhook.deliver",
        data: { tenantId, eventId, webhookId: target.id, attempt: 1, replay: false },
      },
    ]);
  });

  it("lists an endpoint's deliveries newest first with a cursor and a status filter, and gets one", async () => {
    const { tenantId, auth } = await tenantWith();
    const created = await createWebhook(tenantId, auth);
    const now = Date.now();
    const ids = [];
    for (let i = 0; i < 5; i++)
      ids.push(await recordDelivery(tenantId, created.id, now - (5 - i) * 60_000, i % 2 ? "failed" : "delivered"));
    const path = `/tenants/${tenantId}/webhooks/${created.id}/deliveries`;

    const first = pageOf(deliverySchema).parse((await http.get(`${path}?limit=3`, auth)).body);
    expect(first.items.map((d) => d.id)).toEqual([ids[4], ids[3], ids[2]]);
    expect(first.items[0]?.attempts[0]).toMatchObject({
      statusCode: 200,
      latencyMs: 42,
      response: "ok",
      replay: false,
    });
    const second = pageOf(deliverySchema).parse(
      (await http.get(`${path}?limit=3&cursor=${first.nextCursor ?? ""}`, auth)).body,
    );
    expect(second.items.map((d) => d.id)).toEqual([ids[1], ids[0]]);
    expect(second.nextCursor).toBeNull();

    const failed = pageOf(deliverySchema).parse((await http.get(`${path}?status=failed`, auth)).body);
    expect(failed.items.map((d) => d.id)).toEqual([ids[3], ids[1]]);
    expect((await http.get(`${path}?status=lost`, auth)).status).toBe(400);

    const one = deliverySchema.parse((await http.get(`${path}/${ids[1]}`, auth)).body);
    expect(one).toMatchObject({ id: ids[1], status: "failed", attempts: [{ statusCode: 500, error: "HTTP 500" }] });
    expect((await http.get(`${path}/evt_missing`, auth)).status).toBe(404);
  });

  it("replays one delivery as a replay job of its own each time; an expired event cannot be", async () => {
    const { tenantId, auth } = await tenantWith();
    const created = await createWebhook(tenantId, auth);
    const eventId = await recordDelivery(tenantId, created.id, Date.now() - 3_600_000, "failed");
    const path = `/tenants/${tenantId}/webhooks/${created.id}/deliveries/${eventId}/replay`;
    for (let i = 0; i < 2; i++) {
      const response = await http.post(path, auth);
      expect(response.status).toBe(202);
      expect(replayQueuedSchema.parse(response.body)).toEqual({ queued: 1, nextFrom: null });
    }
    const jobs = (await queuedJobs(api)).filter((job) => job.data.eventId === eventId);
    expect(jobs.map((job) => job.data)).toEqual([
      { tenantId, eventId, webhookId: created.id, attempt: 1, replay: true },
      { tenantId, eventId, webhookId: created.id, attempt: 1, replay: true },
    ]);
    expect(new Set(jobs.map((job) => job.id)).size).toBe(2);

    const gone = await recordDelivery(tenantId, created.id, Date.now(), "failed", { keepEvent: false });
    const expired = await http.post(`/tenants/${tenantId}/webhooks/${created.id}/deliveries/${gone}/replay`, auth);
    expect(expired.status).toBe(409);
    expect(problemSchema.parse(expired.body).detail).toContain("expired");
  });

  it("replays a time range of this endpoint's deliveries (optionally by status), at most 7 days back", async () => {
    const { tenantId, auth } = await tenantWith();
    const created = await createWebhook(tenantId, auth);
    const other = await createWebhook(tenantId, auth, { url: `${receiver}/other`, events: ["*"] });
    const now = Date.now();
    const hour = 3_600_000;
    const old = await recordDelivery(tenantId, created.id, now - 5 * hour, "failed");
    const inRange = [
      await recordDelivery(tenantId, created.id, now - 3 * hour, "failed"),
      await recordDelivery(tenantId, created.id, now - 2 * hour, "delivered"),
      await recordDelivery(tenantId, created.id, now - 1 * hour, "failed"),
    ];
    const elsewhere = await recordDelivery(tenantId, other.id, now - 2 * hour, "failed");
    const path = `/tenants/${tenantId}/webhooks/${created.id}/replay`;
    const range = { from: new Date(now - 4 * hour).toISOString(), to: new Date(now).toISOString() };

    const failedOnly = await http.post(path, auth, { ...range, status: "failed" });
    expect(failedOnly.status).toBe(202);
    expect(replayQueuedSchema.parse(failedOnly.body)).toEqual({ queued: 2, nextFrom: null });
    const all = await http.post(path, auth, range);
    expect(replayQueuedSchema.parse(all.body)).toEqual({ queued: 3, nextFrom: null });

    const replayed = (await queuedJobs(api)).filter((job) => job.data.webhookId === created.id && job.data.replay);
    expect(replayed.map((job) => job.data.eventId).sort()).toEqual(
      [inRange[0], inRange[2], ...inRange].map(String).sort(),
    );
    expect(replayed.some((job) => job.data.eventId === old || job.data.eventId === elsewhere)).toBe(false);

    const tooOld = await http.post(path, auth, { from: new Date(now - 8 * 24 * hour).toISOString(), to: range.to });
    expect(tooOld.status).toBe(400);
    expect(problemSchema.parse(tooOld.body).errors?.map((e) => e.path)).toEqual(["from"]);
    const backwards = await http.post(path, auth, { from: range.to, to: range.from });
    expect(problemSchema.parse(backwards.body).errors?.map((e) => e.path)).toEqual(["to"]);
    const notADate = await http.post(path, auth, { from: "yesterday", to: range.to });
    expect(problemSchema.parse(notADate.body).errors?.map((e) => e.path)).toEqual(["body.from"]);
  });
});

describe("an API without its job queue's settings", () => {
  it("answers a webhook test with a 503 naming them, and keeps no event it did not queue", async () => {
    const bare = await startTestApi({ withoutWebhookQueue: true });
    try {
      const bareHttp = client(bare.url);
      const { owner, tenantId } = await ownerWithTenant(bareHttp);
      const auth = { token: owner.idToken };
      const created = await bareHttp.post(`/tenants/${tenantId}/webhooks`, auth, { url: receiver, events: ["*"] });
      const { id } = createdWebhookSchema.parse(created.body);
      const test = await bareHttp.post(`/tenants/${tenantId}/webhooks/${id}/test`, auth);
      expect(test.status).toBe(503);
      expect(problemSchema.parse(test.body)).toMatchObject({
        code: "unavailable",
        detail: expect.stringContaining("REDIS_URL"),
      });
      expect((await bare.firebase.firestore.collection(`tenants/${tenantId}/events`).get()).size).toBe(0);
      expect(
        (await bare.firebase.firestore.collection(`tenants/${tenantId}/webhooks/${id}/deliveries`).get()).size,
      ).toBe(0);
    } finally {
      await bare.close();
    }
  });
});

describe("the API's webhooks queue settings", () => {
  function problems(env: Record<string, string>): string[] {
    try {
      parseEnv(functionsEnvSchema, env);
    } catch (error) {
      if (error instanceof ConfigError) return error.issues.map((issue) => issue.path);
      throw error;
    }
    return [];
  }

  it("refuses WEBHOOKS_ALLOW_PRIVATE_TARGETS=true when deployed", () => {
    const deployed = { K_SERVICE: "api", GCLOUD_PROJECT: "whatsdex-prod", NODE_ENV: "production" };
    const without = problems(deployed);
    expect(without).not.toContain("WEBHOOKS_ALLOW_PRIVATE_TARGETS");
    expect(problems({ ...deployed, WEBHOOKS_ALLOW_PRIVATE_TARGETS: "true" }).sort()).toEqual(
      [...without, "WEBHOOKS_ALLOW_PRIVATE_TARGETS"].sort(),
    );
    expect(problems({ ...deployed, WEBHOOKS_ALLOW_PRIVATE_TARGETS: "false" })).toEqual(without);
  });

  it("names the driver's missing settings, and a queue without them refuses jobs with a 503 naming them", async () => {
    const cloud = parseEnv(functionsEnvSchema, { GCLOUD_PROJECT: "demo-whatsdex", JOBS_DRIVER: "cloudtasks" });
    expect(missingJobsSettings(cloud)).toEqual([
      "CLOUD_TASKS_LOCATION",
      "CLOUD_TASKS_SERVICE_ACCOUNT",
      "TASKS_BASE_URL",
    ]);
    const local = parseEnv(functionsEnvSchema, { GCLOUD_PROJECT: "demo-whatsdex" });
    expect(jobsDriver(local)).toBe("bullmq");
    expect(missingJobsSettings(local)).toEqual(["REDIS_URL"]);

    const queue = createWebhookQueue(local, "demo-whatsdex");
    const job = { tenantId: "t1", eventId: "evt_1", webhookId: "w1", attempt: 1, replay: true };
    await expect(queue.add("webhook.deliver", job)).rejects.toThrow(UnavailableError);
    await expect(queue.add("webhook.deliver", job)).rejects.toThrow(/REDIS_URL/);
  });
});
