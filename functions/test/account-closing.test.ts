import {
  createLogger,
  MediaStore,
  startTracing,
  type Tracing,
  tenantDeletionRef,
  tenantExportSchema,
} from "@whatsdex/core";
import { testBucket, waitFor } from "@whatsdex/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { problemSchema } from "../src/http/schemas.ts";
import { closingSchema } from "../src/tenants/closing-routes.ts";
import { startClosing, sweepClosings } from "../src/triggers/tenant-closing.ts";
import { ownerWithTenant } from "./support/fixtures.ts";
import { client, signUp, startTestApi, type TestApi } from "./support/test-api.ts";

let api: TestApi;
let http: ReturnType<typeof client>;
/** Another instance, whose access cache holds nothing: what every instance answers once its TTL has passed. */
let uncached: TestApi;
let fresh: ReturnType<typeof client>;
let tracing: Tracing;
const media = new MediaStore(testBucket());
beforeAll(async () => {
  api = await startTestApi();
  http = client(api.url);
  uncached = await startTestApi({ accessCacheTtlMs: 0 });
  fresh = client(uncached.url);
  tracing = await startTracing({ serviceName: "closing-test", version: "0", exporter: "memory" });
});
afterAll(async () => {
  await tracing.shutdown();
  await api.close();
  await uncached.close();
});

const code = (response: { status: number; body: unknown }) => ({
  status: response.status,
  code: problemSchema.safeParse(response.body).data?.code,
});

/** The trigger's and the sweep's dependencies, with a Stripe cancellation that records its calls. */
function closingDeps(cancelled: Array<[string, string]>) {
  return {
    firebase: api.firebase,
    media,
    tracing,
    logger: createLogger({ level: "silent", service: "t", version: "0" }),
    cancelSubscription: async (tenantId: string, stripe: { subscriptionId: string | null }) => {
      cancelled.push([tenantId, stripe.subscriptionId ?? ""]);
    },
  };
}

/**
 * The trigger's handler until the closing is done. Under `npm test` the Functions emulator runs the
 * deployed trigger for the same record; its Stripe cannot cancel these tests' subscriptions, so it
 * fails the first phase, but may hold the closing for a moment: this handler's run then waits.
 */
async function closeUntilDone(deps: ReturnType<typeof closingDeps>, tenantId: string): Promise<void> {
  await waitFor("the closing to be done", async () => {
    await startClosing(deps, { tenantId });
    const phase = (await tenantDeletionRef(api.firebase.firestore, tenantId).get()).data()?.phase;
    return phase === "done" ? true : undefined;
  });
}

/** A tenant with two bots, an API key, a webhook endpoint, media, and a WhatsApp session's secrets. */
async function populatedTenant() {
  const name = "Bakery & Co";
  const { owner, tenantId } = await ownerWithTenant(http, name);
  const user = { token: owner.idToken };
  const db = api.firebase.firestore;
  await db.doc(`tenants/${tenantId}`).update({ plan: "business", stripeSubscriptionId: "sub_closing_1" });
  const botIds: string[] = [];
  for (const botName of ["Orders", "Support"]) {
    const created = await http.post(`/tenants/${tenantId}/bots`, user, { name: botName, transport: "simulator" });
    const botId = z.object({ id: z.string() }).parse(created.body).id;
    botIds.push(botId);
    await http.post(`/tenants/${tenantId}/bots/${botId}/connect`, user, { method: "qr" });
    await db.doc(`tenants/${tenantId}/bots/${botId}/auth/creds`).set({ noiseKey: "NOISE-PRIVATE-KEY" });
    await db.doc(`tenants/${tenantId}/bots/${botId}/linking/current`).set({ qr: "QR-LINKING-CODE" });
    await db.doc(`tenants/${tenantId}/bots/${botId}/contacts/lid:100000000001`).set({ pushName: "Ann" });
  }
  await db
    .doc(`tenants/${tenantId}/bots/${botIds[0]}/chats/pn-6281234567890`)
    .set({ jid: "6281234567890@s.whatsapp.net", lastMessageAt: new Date() });
  await db
    .doc(`tenants/${tenantId}/bots/${botIds[0]}/chats/pn-6281234567890/messages/m1`)
    .set({ text: "Two croissants please", fromMe: false });
  const keyResponse = await http.post(`/tenants/${tenantId}/api-keys`, user, { name: "CRM", scopes: ["admin"] });
  const apiKey = { apiKey: z.object({ key: z.string() }).parse(keyResponse.body).key };
  const keyHash = (await db.collection(`tenants/${tenantId}/apiKeys`).get()).docs[0]?.get("hash");
  await db.doc(`tenants/${tenantId}/webhooks/wh1`).set({
    url: "https://hooks.example.test/T0/B0/token",
    events: ["*"],
    description: null,
    enabled: true,
    disabledReason: null,
    failingSince: null,
    createdBy: `user:${owner.uid}`,
    createdAt: new Date(),
    updatedAt: new Date(),
  });
  await db.doc(`tenants/${tenantId}/webhooks/wh1/secret/current`).set({ current: "whsec_U0VDUkVUU0VDUkVU" });
  await media.putUpload(tenantId, "up-1", { mimetype: "image/png", data: Buffer.from("png bytes") });
  await media.putInbound({ tenantId, botId: botIds[0] ?? "" }, "in-1", {
    mimetype: "image/jpeg",
    data: Buffer.from("jpeg"),
  });
  return { name, owner, user, tenantId, botIds, apiKey, keyHash: String(keyHash) };
}

describe("GET /v1/tenants/{t}/export", () => {
  it("gives the owner everything the tenant owns as an attachment, with no secret in it", async () => {
    const { user, tenantId, botIds, apiKey, keyHash, owner } = await populatedTenant();
    const response = await http.get(`/tenants/${tenantId}/export`, user);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-disposition")).toMatch(/^attachment; filename="whatsdex-.+\.json"$/);
    const exported = tenantExportSchema.parse(response.body);
    expect(exported.tenant).toMatchObject({ id: tenantId, name: "Bakery & Co", status: "active" });
    expect(exported.members).toEqual([expect.objectContaining({ uid: owner.uid, email: owner.email, role: "owner" })]);
    expect(exported.bots.map((b) => b.id).sort()).toEqual([...botIds].sort());
    const first = exported.bots.find((b) => b.id === botIds[0]);
    expect(first?.contacts).toEqual([expect.objectContaining({ id: "lid:100000000001", pushName: "Ann" })]);
    expect(first?.chats[0]?.messages).toEqual([expect.objectContaining({ id: "m1", text: "Two croissants please" })]);
    expect(exported.apiKeys).toEqual([expect.objectContaining({ name: "CRM", scopes: ["admin"] })]);
    expect(exported.webhooks).toEqual([
      expect.objectContaining({ id: "wh1", url: "https://hooks.example.test/T0/B0/token" }),
    ]);
    expect(exported.media.map((m) => [m.kind, m.id, m.bytes]).sort()).toEqual([
      ["inbound", "in-1", 4],
      ["uploads", "up-1", 9],
    ]);
    expect(exported.audit.length).toBeGreaterThan(0);
    const text = JSON.stringify(response.body);
    for (const secret of ["NOISE-PRIVATE-KEY", "QR-LINKING-CODE", keyHash, "whsec_", "png bytes"]) {
      expect(text).not.toContain(secret);
    }
    expect(text).not.toContain(apiKey.apiKey);

    // Not for API keys, not for strangers.
    expect((await http.get(`/tenants/${tenantId}/export`, apiKey)).status).toBe(401);
    const stranger = await signUp();
    expect(code(await http.get(`/tenants/${tenantId}/export`, { token: stranger.idToken }))).toEqual({
      status: 404,
      code: "not_found",
    });
  });

  it("breaks the connection when reading fails halfway, so a cut-off file never looks whole", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    // A bot document that does not parse: the export fails when it reaches the bots, mid-stream.
    await api.firebase.firestore.doc(`tenants/${tenantId}/bots/broken`).set({ name: 42 });
    await expect(http.get(`/tenants/${tenantId}/export`, { token: owner.idToken })).rejects.toThrow();
    expect(api.logs.lines().some((line) => line.message === "streamed response failed")).toBe(true);
  });

  it("is only for owners: an admin is refused", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const admin = await signUp();
    await http.post(`/tenants/${tenantId}/members`, { token: owner.idToken }, { uid: admin.uid, role: "admin" });
    expect(code(await http.get(`/tenants/${tenantId}/export`, { token: admin.idToken }))).toEqual({
      status: 403,
      code: "forbidden",
    });
  });
});

describe("DELETE /v1/tenants/{t}", () => {
  it("refuses a wrong confirmation naming body.confirm, and changes nothing", async () => {
    const { user, tenantId, botIds } = await populatedTenant();
    for (const confirm of ["bakery & co", "Bakery & Co ", "Bakery"]) {
      const refused = await http.call("DELETE", `/tenants/${tenantId}`, user, { confirm });
      expect(refused.status).toBe(400);
      expect(problemSchema.parse(refused.body).errors?.map((e) => e.path)).toEqual(["body.confirm"]);
    }
    const missing = await http.call("DELETE", `/tenants/${tenantId}`, user, {});
    expect(problemSchema.parse(missing.body).errors?.map((e) => e.path)).toEqual(["body.confirm"]);
    expect(z.object({ status: z.string() }).parse((await http.get(`/tenants/${tenantId}`, user)).body).status).toBe(
      "active",
    );
    const bot = await http.get(`/tenants/${tenantId}/bots/${botIds[0]}`, user);
    expect(z.object({ desiredState: z.string() }).parse(bot.body).desiredState).toBe("running");
    expect((await tenantDeletionRef(api.firebase.firestore, tenantId).get()).exists).toBe(false);
    expect((await http.get(`/tenants/${tenantId}/deletion`, user)).body).toEqual({ closing: null });
  });

  it("is only for signed-in owners", async () => {
    const { owner, tenantId, name, apiKey } = await populatedTenant();
    const admin = await signUp();
    await http.post(`/tenants/${tenantId}/members`, { token: owner.idToken }, { uid: admin.uid, role: "admin" });
    expect(
      code(await http.call("DELETE", `/tenants/${tenantId}`, { token: admin.idToken }, { confirm: name })),
    ).toEqual({ status: 403, code: "forbidden" });
    expect((await http.call("DELETE", `/tenants/${tenantId}`, apiKey, { confirm: name })).status).toBe(401);
    expect((await tenantDeletionRef(api.firebase.firestore, tenantId).get()).exists).toBe(false);
  });

  it("closes the account: refused at once, then after the closing ran nothing of the tenant is readable or left", async () => {
    const { name, owner, user, tenantId, apiKey, botIds } = await populatedTenant();
    const db = api.firebase.firestore;
    expect((await http.get(`/tenants/${tenantId}`, apiKey)).status).toBe(200);

    const accepted = await http.call("DELETE", `/tenants/${tenantId}`, user, { confirm: name });
    expect(accepted.status).toBe(202);
    expect(accepted.headers.get("location")).toBe(`/v1/tenants/${tenantId}/deletion`);
    expect(closingSchema.parse(accepted.body)).toMatchObject({ phase: "cancel_subscription", bots: 2 });
    // Asked again: the same closing.
    const again = await http.call("DELETE", `/tenants/${tenantId}`, user, { confirm: name });
    expect(again.status).toBe(202);

    // Everything else is refused while it runs, to the owner and to keys alike.
    const closing = { status: 403, code: "tenant_closing" };
    expect(code(await http.get(`/tenants/${tenantId}`, user))).toEqual(closing);
    expect(code(await http.get(`/tenants/${tenantId}/bots`, apiKey))).toEqual(closing);
    expect(code(await http.get(`/tenants/${tenantId}/export`, user))).toEqual(closing);
    expect(code(await http.post(`/tenants/${tenantId}/bots`, user, { name: "late" }))).toEqual(closing);
    expect((await http.get(`/tenants/${tenantId}/deletion`, user)).status).toBe(200);

    // What the bots' runner does with each logout (the session-runner's tests do it for real).
    const record = (await tenantDeletionRef(db, tenantId).get()).data();
    expect(record?.logouts.map((l) => l.botId).sort()).toEqual([...botIds].sort());
    for (const { botId, outboxId } of record?.logouts ?? []) {
      await db.doc(`tenants/${tenantId}/bots/${botId}/outbox/${outboxId}`).update({ status: "done" });
    }
    const cancelled: Array<[string, string]> = [];
    await closeUntilDone(closingDeps(cancelled), tenantId);
    // Redelivered: nothing more happens.
    await startClosing(closingDeps(cancelled), { tenantId });
    expect(cancelled).toEqual([[tenantId, "sub_closing_1"]]);

    for (const credential of [user, { token: (await signUp()).idToken }]) {
      expect(code(await fresh.get(`/tenants/${tenantId}`, credential))).toEqual({ status: 404, code: "not_found" });
    }
    expect(code(await fresh.get(`/tenants/${tenantId}/deletion`, user))).toEqual({ status: 404, code: "not_found" });
    expect((await fresh.get(`/tenants/${tenantId}`, apiKey)).status).toBe(401);
    const mine = z
      .object({ items: z.array(z.object({ id: z.string() })) })
      .parse((await fresh.get("/tenants", user)).body);
    expect(mine.items.map((t) => t.id)).not.toContain(tenantId);
    expect(await db.doc(`tenants/${tenantId}`).listCollections()).toEqual([]);
    expect((await db.doc(`tenants/${tenantId}`).get()).exists).toBe(false);
    const members = await db.collectionGroup("members").where("uid", "==", owner.uid).get();
    expect(members.docs.filter((d) => d.ref.path.startsWith(`tenants/${tenantId}/`))).toEqual([]);
    for (const prefix of ["uploads", "inbound", "transit"]) {
      const [files] = await testBucket().getFiles({ prefix: `${prefix}/${tenantId}/` });
      expect(files.map((f) => f.name)).toEqual([]);
    }
    expect((await tenantDeletionRef(db, tenantId).get()).data()).toMatchObject({ phase: "done", claim: null });
  });

  it("is resumed by the sweep when its run failed", async () => {
    const { name, user, tenantId } = await populatedTenant();
    expect((await http.call("DELETE", `/tenants/${tenantId}`, user, { confirm: name })).status).toBe(202);
    const deps = closingDeps([]);
    const stripeDown = {
      ...deps,
      cancelSubscription: async () => {
        throw new Error("Stripe is down");
      },
    };
    await waitFor("a failed run", async () => {
      await startClosing(stripeDown, { tenantId });
      return (await tenantDeletionRef(api.firebase.firestore, tenantId).get()).data()?.lastError ? true : undefined;
    });
    const failed = await http.get(`/tenants/${tenantId}/deletion`, user);
    expect(z.object({ closing: closingSchema }).parse(failed.body).closing).toMatchObject({
      phase: "cancel_subscription",
      retrying: true,
    });
    // Logouts nobody confirms: the sweep does not wait for them, the trigger's run would until their deadline.
    const db = api.firebase.firestore;
    await tenantDeletionRef(db, tenantId).update({ logoutDeadline: new Date(0) });
    await waitFor("the sweep to finish the closing", async () => {
      await sweepClosings(deps, { staleMs: 0, onlyTenants: [tenantId] });
      return (await tenantDeletionRef(db, tenantId).get()).data()?.phase === "done" ? true : undefined;
    });
    expect((await db.doc(`tenants/${tenantId}`).get()).exists).toBe(false);
  });
});
