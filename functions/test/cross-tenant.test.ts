/**
 * Tenant isolation, as a matrix generated from `apiRoutes`: every principal of tenant A calls every
 * tenant route with tenant B's ids. A's members must get the very 404 a tenant that does not exist
 * gets (no existence oracle, never a 403), A's API key a 401, and nothing of B may change. A route
 * added to `apiRoutes` joins the matrix by itself; if it takes a body, the sample-body test below
 * fails until it has a valid sample.
 */
import {
  type ApiKeyScope,
  apiKeyScopes,
  MediaStore,
  MessageStore,
  outboxItemPath,
  pendingSendItem,
  type Role,
  roleAllows,
  roles,
  scopesAllow,
} from "@whatsdex/core";
import { testBucket, uniqueId } from "@whatsdex/core/testing";
import { Timestamp } from "firebase-admin/firestore";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { apiKeySchema } from "../src/api-keys/routes.ts";
import { botSchema } from "../src/bots/dto.ts";
import type { RouteDefinition } from "../src/http/route.ts";
import { apiRoutes } from "../src/http/routes.ts";
import { pageOf, problemSchema } from "../src/http/schemas.ts";
import { memberSchema } from "../src/members/routes.ts";
import { tenantSchema } from "../src/tenants/dto.ts";
import { type DocumentSnapshotMap, snapshotTree } from "./support/snapshot-tree.ts";
import {
  type ApiResponse,
  type Credential,
  client,
  signUp,
  startTestApi,
  type TestApi,
  type TestUser,
} from "./support/test-api.ts";

const pathParams = [
  "tenantId",
  "botId",
  "uid",
  "keyId",
  "invitationId",
  "webhookId",
  "deliveryId",
  "messageId",
  "mediaId",
  "chat",
  "templateId",
  "personId",
  "importId",
  "campaignId",
] as const;
type PathParam = (typeof pathParams)[number];
type PathIds = Record<PathParam, string>;

function isPathParam(name: string): name is PathParam {
  return pathParams.some((param) => param === name);
}

/** The route's path with its `{params}` filled in; a parameter the matrix has no id for fails loudly. */
function fillPath(route: RouteDefinition, ids: PathIds): string {
  return route.path.replace(/\{(\w+)\}/g, (_match, name: string) => {
    if (!isPathParam(name)) throw new Error(`${route.operationId}: no test id for {${name}}; add it to PathIds`);
    return encodeURIComponent(ids[name]);
  });
}

/** Routes outside any tenant (create and list tenants) are not part of the matrix. */
const tenantRoutes = apiRoutes.filter((route) => route.path.includes("{tenantId}"));
const allScopes: ApiKeyScope[] = [...apiKeyScopes];
const createdKeySchema = apiKeySchema.extend({ key: z.string() });
const problemRecord = z.record(z.string(), z.unknown());

interface TenantFixture {
  tenantId: string;
  botId: string;
  keyId: string;
  key: string;
  owner: TestUser;
  webhookId: string;
  /** The delivery of a `webhook.test` event to that endpoint (its id is the event's). */
  deliveryId: string;
  /** A message the bot was asked to send. */
  messageId: string;
  /** Media the bot received (kept for its events). */
  mediaId: string;
  /** A chat in the bot's message store. */
  chat: string;
  /** A message template. */
  templateId: string;
  /** An import of one contact (pn:6281234567890). */
  importId: string;
  /** A campaign (a draft). */
  campaignId: string;
}

let api: TestApi;
let http: ReturnType<typeof client>;
let a: TenantFixture & { members: Record<Role, TestUser> };
let b: TenantFixture;
let bBefore: DocumentSnapshotMap;
/** A tenant id of the right shape that no tenant has. */
const ghostTenantId = uniqueId("ghost");

/**
 * A valid body for every operation that takes one, so that a refusal is about who is asking, not
 * about what they sent. Each is an attack worth refusing: promote oneself, demote B's owner, mint a key.
 */
function sampleBodies(attacker: TestUser): Record<string, unknown> {
  return {
    createTenant: { name: "Another tenant" },
    updateTenant: { name: "Taken over" },
    addMember: { email: attacker.email, role: "owner" },
    changeMemberRole: { role: "viewer" },
    createBot: { name: "Intruder", transport: "simulator" },
    updateBot: { name: "Renamed", settings: { mode: "self", owners: ["6281234567890"] } },
    connectBot: { method: "pairing_code", phoneNumber: "+62 812 3456 7890" },
    sendMessage: { to: "+62 812 3456 7890", content: { type: "text", text: "hello from A" } },
    createApiKey: { name: "stolen", scopes: ["admin"] },
    createWebhook: { url: "https://attacker.example.com/hook", events: ["*"] },
    updateWebhook: { url: "https://attacker.example.com/hook", enabled: true },
    replayWebhookDeliveries: { from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date().toISOString() },
    closeTenant: { confirm: "Tenant B" },
    upsertContact: { phone: "+62 812 3456 7890", name: "Planted by A", tags: ["vip"] },
    updateContact: { name: "Renamed by A" },
    optOutContact: { reason: "sabotage" },
    createCampaign: {
      name: "Hijack",
      botIds: ["bot-b"],
      templateId: "tpl-b",
      audience: { kind: "tags", tags: ["all"] },
      timezone: "UTC",
    },
    updateCampaign: { name: "Renamed by A" },
    pauseCampaign: { reason: "sabotage" },
    createTemplate: { name: "Phish", body: "Click here {{name}}" },
    updateTemplate: { body: "Send your OTP to A" },
    previewTemplate: { personId: "pn:6281234567890" },
    startCheckout: { plan: "enterprise", interval: "year" },
  };
}

function sampleBody(route: RouteDefinition, attacker: TestUser): unknown {
  if (!route.body) return undefined;
  const body = sampleBodies(attacker)[route.operationId];
  if (body === undefined) throw new Error(`${route.operationId} takes a body but has no sample in sampleBodies`);
  return body;
}

function callRoute(route: RouteDefinition, ids: PathIds, credential: Credential): Promise<ApiResponse> {
  return http.call(route.method.toUpperCase(), fillPath(route, ids), credential, sampleBody(route, a.owner));
}

function idsOf(tenant: TenantFixture): PathIds {
  return {
    tenantId: tenant.tenantId,
    botId: tenant.botId,
    uid: tenant.owner.uid,
    keyId: tenant.keyId,
    invitationId: "invitation-1",
    webhookId: tenant.webhookId,
    deliveryId: tenant.deliveryId,
    messageId: tenant.messageId,
    mediaId: tenant.mediaId,
    chat: tenant.chat,
    templateId: tenant.templateId,
    campaignId: tenant.campaignId,
    personId: "pn:6281234567890",
    importId: tenant.importId,
  };
}

function expectProblem(response: ApiResponse, status: number, code: string): void {
  expect({ status: response.status, body: response.body }).toMatchObject({ status, body: { code } });
  expect(response.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(problemSchema.parse(response.body).code).toBe(code);
}

/** The problem body without what names this one request (its id and its path). */
function withoutRequestFields(body: unknown): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(problemRecord.parse(body)).filter(([key]) => key !== "requestId" && key !== "instance"),
  );
}

async function createTenant(owner: TestUser, name: string): Promise<TenantFixture> {
  const auth = { token: owner.idToken };
  const tenant = await http.post("/tenants", auth, { name });
  expect(tenant.status).toBe(201);
  const tenantId = tenantSchema.parse(tenant.body).id;
  const bot = await http.post(`/tenants/${tenantId}/bots`, auth, { name: `${name} bot`, transport: "simulator" });
  expect(bot.status).toBe(201);
  const key = await http.post(`/tenants/${tenantId}/api-keys`, auth, { name: `${name} key`, scopes: allScopes });
  expect(key.status).toBe(201);
  const created = createdKeySchema.parse(key.body);
  const webhook = await http.post(`/tenants/${tenantId}/webhooks`, auth, {
    url: `https://${name.replace(/\W/g, "").toLowerCase()}.example.com/hook`,
    events: ["*"],
  });
  expect(webhook.status).toBe(201);
  const webhookId = z.object({ id: z.string() }).parse(webhook.body).id;
  const test = await http.post(`/tenants/${tenantId}/webhooks/${webhookId}/test`, auth);
  expect(test.status).toBe(202);
  const botId = botSchema.parse(bot.body).id;
  // A message the bot was asked to send (written as the API queues one, without connecting the bot).
  const messageId = uniqueId("msg");
  await api.firebase.firestore
    .doc(outboxItemPath(tenantId, botId, messageId))
    .set(
      pendingSendItem(
        { to: "6281234567890@s.whatsapp.net", content: { type: "text", text: `from ${name}` }, requestedBy: "t" },
        Timestamp.now(),
      ),
    );
  // What the bot received: its media (kept for events) and a chat in its message store.
  const mediaId = uniqueId("media");
  await new MediaStore(testBucket()).putInbound({ tenantId, botId }, mediaId, {
    mimetype: "image/png",
    data: Buffer.from(`${name} image`),
  });
  const chat = "111222333444555@lid";
  await new MessageStore(api.firebase.firestore).record(
    { tenantId, botId },
    {
      chat,
      messageId: "IN1",
      direction: "in",
      from: { lid: chat, pn: null, name: null },
      content: { type: "text", text: `to ${name}` },
      quotedId: null,
      sentAtMs: Date.now(),
    },
    30,
  );
  // A contact, written by an import (its report, and what undoing it needs, are kept too).
  const form = new FormData();
  form.append("file", new Blob(["phone,name\r\n6281234567890,Budi\r\n"], { type: "text/csv" }), "contacts.csv");
  const imported = await fetch(`${api.url}/v1/tenants/${tenantId}/contacts/imports`, {
    method: "POST",
    headers: { authorization: `Bearer ${owner.idToken}` },
    body: form,
  });
  expect(imported.status).toBe(201);
  const importId = z.object({ id: z.string() }).parse(await imported.json()).id;
  const template = await http.post(`/tenants/${tenantId}/templates`, auth, {
    name: `${name} template`,
    body: "Hi {{name|there}}",
  });
  expect(template.status).toBe(201);
  const templateId = z.object({ id: z.string() }).parse(template.body).id;
  const campaign = await http.post(`/tenants/${tenantId}/campaigns`, auth, {
    name: `${name} campaign`,
    botIds: [botSchema.parse(bot.body).id],
    templateId,
    audience: { kind: "tags", tags: ["all"] },
    timezone: "UTC",
  });
  expect(campaign.status).toBe(201);
  return {
    campaignId: z.object({ id: z.string() }).parse(campaign.body).id,
    templateId,
    importId,
    messageId,
    mediaId,
    chat,
    tenantId,
    botId: botSchema.parse(bot.body).id,
    keyId: created.id,
    key: created.key,
    owner,
    webhookId,
    deliveryId: z.object({ eventId: z.string() }).parse(test.body).eventId,
  };
}

beforeAll(async () => {
  api = await startTestApi();
  http = client(api.url);
  const [aOwner, aAdmin, aViewer, bOwner] = await Promise.all([signUp(), signUp(), signUp(), signUp()]);
  const [tenantA, tenantB] = await Promise.all([createTenant(aOwner, "Tenant A"), createTenant(bOwner, "Tenant B")]);
  for (const [user, role] of [
    [aAdmin, "admin"],
    [aViewer, "viewer"],
  ] as const) {
    const added = await http.post(
      `/tenants/${tenantA.tenantId}/members`,
      { token: aOwner.idToken },
      { uid: user.uid, role },
    );
    expect(memberSchema.parse(added.body)).toMatchObject({ uid: user.uid, role });
  }
  a = { ...tenantA, members: { owner: aOwner, admin: aAdmin, viewer: aViewer } };
  b = tenantB;
  bBefore = await snapshotTree(api.firebase.firestore.doc(`tenants/${b.tenantId}`));
});
afterAll(() => api.close());

describe("cross-tenant isolation", () => {
  it("covers every tenant route, each guarded by a permission", () => {
    expect(tenantRoutes.length).toBeGreaterThan(0);
    for (const route of tenantRoutes) {
      expect({ route: route.operationId, permission: route.permission }).toEqual({
        route: route.operationId,
        permission: expect.any(String),
      });
    }
  });

  it("has a valid sample body for every route that takes one", () => {
    for (const route of apiRoutes) {
      if (!route.body) continue;
      const result = route.body.safeParse(sampleBody(route, a.owner));
      expect({ route: route.operationId, valid: result.success }).toEqual({ route: route.operationId, valid: true });
    }
  });

  it("snapshots B with its tenant, owner, bot, key, webhook, template, campaign and stored chat (and the audit entries of their creation)", () => {
    const audit = Object.entries(bBefore).filter(([path]) => path.startsWith(`tenants/${b.tenantId}/audit/`));
    expect(audit.map(([, entry]) => z.object({ action: z.string() }).parse(entry).action).sort()).toEqual([
      "apiKey.created",
      "bot.created",
      "campaign.created",
      "contacts.imported",
      "template.created",
      "tenant.created",
      "webhook.created",
    ]);
    expect(
      Object.keys(bBefore)
        .filter((path) => !path.includes("/audit"))
        .sort(),
    ).toEqual(
      [
        `tenants/${b.tenantId}`,
        `tenants/${b.tenantId}/apiKeys/${b.keyId}`,
        `tenants/${b.tenantId}/bots/${b.botId}`,
        `tenants/${b.tenantId}/bots/${b.botId}/outbox/${b.messageId}`,
        `tenants/${b.tenantId}/bots/${b.botId}/chats/lid-111222333444555`,
        `tenants/${b.tenantId}/bots/${b.botId}/chats/lid-111222333444555/messages/IN1`,
        `tenants/${b.tenantId}/members/${b.owner.uid}`,
        `tenants/${b.tenantId}/webhooks/${b.webhookId}`,
        `tenants/${b.tenantId}/webhooks/${b.webhookId}/secret/current`,
        `tenants/${b.tenantId}/webhooks/${b.webhookId}/deliveries/${b.deliveryId}`,
        `tenants/${b.tenantId}/events/${b.deliveryId}`,
        `tenants/${b.tenantId}/templates/${b.templateId}`,
        `tenants/${b.tenantId}/contacts/pn:6281234567890`,
        `tenants/${b.tenantId}/contactImports/${b.importId}`,
        `tenants/${b.tenantId}/contactImports/${b.importId}/changes/pn:6281234567890`,
        `tenants/${b.tenantId}/campaigns/${b.campaignId}`,
      ].sort(),
    );
    expect(bBefore[`tenants/${b.tenantId}`]).toMatchObject({ botCount: 1, apiKeyCount: 1 });
  });

  describe.each(roles)("A's %s on B's ids", (role) => {
    it.each(tenantRoutes.map((route) => ({ route, name: `${route.method.toUpperCase()} ${route.path}` })))(
      "$name is the same 404 as for a tenant that does not exist",
      async ({ route }) => {
        const credential = { token: a.members[role].idToken };
        const onB = await callRoute(route, idsOf(b), credential);
        expectProblem(onB, 404, "not_found");
        expect(problemSchema.parse(onB.body).instance).toBe(`/v1${fillPath(route, idsOf(b))}`);

        const onGhost = await callRoute(route, { ...idsOf(b), tenantId: ghostTenantId }, credential);
        expectProblem(onGhost, 404, "not_found");
        expect(withoutRequestFields(onB.body)).toEqual(withoutRequestFields(onGhost.body));
      },
    );
  });

  describe("A's API key (all scopes) on B's ids", () => {
    it.each(tenantRoutes.map((route) => ({ route, name: `${route.method.toUpperCase()} ${route.path}` })))(
      "$name is a 401, the same as for a tenant that does not exist",
      async ({ route }) => {
        const onB = await callRoute(route, idsOf(b), { apiKey: a.key });
        expectProblem(onB, 401, "unauthenticated");
        const onGhost = await callRoute(route, { ...idsOf(b), tenantId: ghostTenantId }, { apiKey: a.key });
        expectProblem(onGhost, 401, "unauthenticated");
        expect(withoutRequestFields(onB.body)).toEqual(withoutRequestFields(onGhost.body));
      },
    );
  });

  describe("A's principals on A's own ids (sanity: the matrix is not refusing everything)", () => {
    const reads = tenantRoutes.filter((route) => route.method === "get");

    it.each(roles)("A's %s reads what its role allows and is refused the rest with 403", async (role) => {
      expect(reads.length).toBeGreaterThan(0);
      for (const route of reads) {
        const response = await callRoute(route, idsOf(a), { token: a.members[role].idToken });
        const permission = route.permission;
        if (!permission) throw new Error(`${route.operationId} has no permission`);
        const expected = roleAllows(role, permission) ? 200 : 403;
        expect({ route: route.operationId, status: response.status }).toEqual({
          route: route.operationId,
          status: expected,
        });
      }
    });

    it("A's API key reads A through every read route that takes keys, and is a 401 on user-only routes", async () => {
      for (const route of reads) {
        const response = await callRoute(route, idsOf(a), { apiKey: a.key });
        const permission = route.permission;
        if (!permission) throw new Error(`${route.operationId} has no permission`);
        const expected = route.auth === "user" ? 401 : scopesAllow(allScopes, permission) ? 200 : 403;
        expect({ route: route.operationId, status: response.status }).toEqual({
          route: route.operationId,
          status: expected,
        });
      }
    });

    it("A's viewer is refused every route its role does not allow with 403 forbidden, before the body is read", async () => {
      const forbidden = tenantRoutes.filter((route) => route.permission && !roleAllows("viewer", route.permission));
      expect(forbidden.length).toBeGreaterThan(0);
      for (const route of forbidden) {
        const response = await callRoute(route, idsOf(a), { token: a.members.viewer.idToken });
        expect({ route: route.operationId, status: response.status }).toEqual({
          route: route.operationId,
          status: 403,
        });
        expect(problemSchema.parse(response.body).code).toBe("forbidden");
      }
    });

    it("A's owner, admin and key can still write to A", async () => {
      const renamed = await http.patch(
        `/tenants/${a.tenantId}`,
        { token: a.members.owner.idToken },
        { name: "Tenant A renamed" },
      );
      expect(tenantSchema.parse(renamed.body).name).toBe("Tenant A renamed");
      const bot = await http.patch(
        `/tenants/${a.tenantId}/bots/${a.botId}`,
        { token: a.members.admin.idToken },
        { name: "A's bot renamed" },
      );
      expect(botSchema.parse(bot.body).name).toBe("A's bot renamed");
      const connect = await http.post(
        `/tenants/${a.tenantId}/bots/${a.botId}/connect`,
        { apiKey: a.key },
        { method: "qr" },
      );
      expect(connect.status).toBe(202);
    });
  });

  it("B's owner, made a viewer of A, may read A's bots but not create one (403), and keeps B", async () => {
    const added = await http.post(
      `/tenants/${a.tenantId}/members`,
      { token: a.members.owner.idToken },
      { uid: b.owner.uid, role: "viewer" },
    );
    expect(added.status).toBe(201);
    const auth = { token: b.owner.idToken };

    const create = await http.post(`/tenants/${a.tenantId}/bots`, auth, {
      name: "B's bot in A",
      transport: "simulator",
    });
    expectProblem(create, 403, "forbidden");
    const list = await http.get(`/tenants/${a.tenantId}/bots`, auth);
    expect(list.status).toBe(200);
    const listed = pageOf(botSchema).parse(list.body).items;
    expect(listed.map((bot) => bot.id)).toEqual([a.botId]);

    const viewerCreate = await http.post(
      `/tenants/${a.tenantId}/bots`,
      { token: a.members.viewer.idToken },
      {
        name: "Viewer's bot",
        transport: "simulator",
      },
    );
    expectProblem(viewerCreate, 403, "forbidden");
    expect((await http.get(`/tenants/${a.tenantId}/bots`, { token: a.members.viewer.idToken })).status).toBe(200);

    expect((await http.get(`/tenants/${b.tenantId}/bots/${b.botId}`, auth)).status).toBe(200);
  });

  it("left every document of B exactly as it was", async () => {
    const after = await snapshotTree(api.firebase.firestore.doc(`tenants/${b.tenantId}`));
    expect(after).toEqual(bBefore);
    // The comparison saw real Timestamps, by value.
    expect(after[`tenants/${b.tenantId}`]).toMatchObject({
      createdAt: { timestamp: [expect.any(Number), expect.any(Number)] },
    });
  });
});
