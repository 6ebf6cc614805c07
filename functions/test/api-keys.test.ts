import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { apiKeySchema } from "../src/api-keys/routes.ts";
import { botSchema } from "../src/bots/dto.ts";
import { pageOf, problemSchema } from "../src/http/schemas.ts";
import { ownerWithTenant } from "./support/fixtures.ts";
import { client, signUp, startTestApi, type TestApi } from "./support/test-api.ts";

let api: TestApi;
let http: ReturnType<typeof client>;
beforeAll(async () => {
  api = await startTestApi();
  http = client(api.url);
});
afterAll(() => api.close());

const created = apiKeySchema.extend({ key: z.string() });

describe("API keys", () => {
  it("shows a new key once, stores only its hash, and lists it without the secret", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const response = await http.post(
      `/tenants/${tenantId}/api-keys`,
      { token: owner.idToken },
      {
        name: "CRM",
        scopes: ["read", "messages"],
      },
    );
    expect(response.status).toBe(201);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const key = created.parse(response.body);
    expect(key.key).toMatch(/^wdx_[0-9a-f]{20}_[\w-]{43}$/);
    expect(key.key.startsWith(key.prefix)).toBe(true);

    const stored = (await api.firebase.firestore.doc(`tenants/${tenantId}/apiKeys/${key.id}`).get()).data();
    // The secret is everything after `wdx_<20 hex id>_` (it may itself contain "_").
    const secret = key.key.slice("wdx_".length + 20 + 1);
    expect(secret).toHaveLength(43);
    expect(JSON.stringify(stored)).not.toContain(secret);
    const list = await http.get(`/tenants/${tenantId}/api-keys`, { token: owner.idToken });
    expect(JSON.stringify(list.body)).not.toContain(key.key);
    expect(pageOf(apiKeySchema).parse(list.body).items).toHaveLength(1);
  });

  it("authorises by scope, records last use, and stops working once revoked", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const user = { token: owner.idToken };
    const make = async (scopes: string[]) =>
      created.parse((await http.post(`/tenants/${tenantId}/api-keys`, user, { name: scopes.join("+"), scopes })).body);
    const reader = await make(["read"]);
    const botsKey = await make(["bots"]);

    expect((await http.get(`/tenants/${tenantId}`, { apiKey: reader.key })).status).toBe(200);
    const denied = await http.post(`/tenants/${tenantId}/bots`, { apiKey: reader.key }, { name: "x" });
    expect(denied.status).toBe(403);
    expect(problemSchema.parse(denied.body).code).toBe("forbidden");
    const bot = await http.post(`/tenants/${tenantId}/bots`, { apiKey: botsKey.key }, { name: "x" });
    expect(botSchema.parse(bot.body).name).toBe("x");
    expect((await http.get(`/tenants/${tenantId}`, { apiKey: botsKey.key })).status).toBe(403);

    // No key may administer access: not even one with every scope.
    expect((await http.get(`/tenants/${tenantId}/api-keys`, { apiKey: reader.key })).status).toBe(401);
    expect((await http.post("/tenants", { apiKey: reader.key }, { name: "x" })).status).toBe(401);

    const afterUse = await api.firebase.firestore.doc(`tenants/${tenantId}/apiKeys/${reader.id}`).get();
    expect(afterUse.get("lastUsedAt")).not.toBeNull();

    expect((await http.delete(`/tenants/${tenantId}/api-keys/${reader.id}`, user)).status).toBe(204);
    expect((await http.delete(`/tenants/${tenantId}/api-keys/${reader.id}`, user)).status).toBe(204);
    const revoked = await http.get(`/tenants/${tenantId}`, { apiKey: reader.key });
    expect(revoked.status).toBe(401);
    expect((await api.firebase.firestore.doc(`tenants/${tenantId}`).get()).get("apiKeyCount")).toBe(1);
  });

  it("refuses tampered, malformed and other-tenant keys alike", async () => {
    const a = await ownerWithTenant(http);
    const b = await ownerWithTenant(http);
    const key = created.parse(
      (await http.post(`/tenants/${a.tenantId}/api-keys`, { token: a.owner.idToken }, { name: "k", scopes: ["read"] }))
        .body,
    );
    const tampered = `${key.key.slice(0, -1)}${key.key.endsWith("A") ? "B" : "A"}`;
    for (const apiKey of [tampered, "wdx_123", "", key.key.toUpperCase()]) {
      expect((await http.get(`/tenants/${a.tenantId}`, { apiKey })).status, apiKey).toBe(401);
    }
    expect((await http.get(`/tenants/${b.tenantId}`, { apiKey: key.key })).status).toBe(401);
  });

  it("limits active keys per plan", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const make = () =>
      http.post(`/tenants/${tenantId}/api-keys`, { token: owner.idToken }, { name: "k", scopes: ["read"] });
    expect((await make()).status).toBe(201);
    expect((await make()).status).toBe(201);
    const third = await make();
    expect(problemSchema.parse(third.body)).toMatchObject({ code: "plan_limit", details: { limit: 2 } });
  });

  it("records who made each key, and revokes a member's keys when they are removed or demoted below what the keys need", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    await api.firebase.firestore.doc(`tenants/${tenantId}`).update({ plan: "business" });
    const [admin, otherAdmin] = await Promise.all([signUp(), signUp()]);
    for (const user of [admin, otherAdmin]) {
      const added = await http.post(
        `/tenants/${tenantId}/members`,
        { token: owner.idToken },
        { uid: user.uid, role: "admin" },
      );
      expect(added.status).toBe(201);
    }
    const make = async (token: string, scopes: string[]) =>
      created.parse((await http.post(`/tenants/${tenantId}/api-keys`, { token }, { name: "k", scopes })).body);
    const adminKey = await make(admin.idToken, ["admin", "bots"]);
    const otherAdminKey = await make(otherAdmin.idToken, ["read"]);
    const ownerKey = await make(owner.idToken, ["read"]);
    expect(adminKey.createdBy).toBe(`user:${admin.uid}`);

    const listed = async () =>
      new Map(
        pageOf(apiKeySchema)
          .parse((await http.get(`/tenants/${tenantId}/api-keys`, { token: owner.idToken })).body)
          .items.map((key) => [key.id, key]),
      );
    expect((await listed()).get(ownerKey.id)?.createdBy).toBe(`user:${owner.uid}`);
    const works = async (key: string) => (await http.get(`/tenants/${tenantId}/bots`, { apiKey: key })).status === 200;

    // Owner -> admin and back keeps the keys: an admin may still make every scope.
    const members = `/tenants/${tenantId}/members`;
    await http.patch(`${members}/${admin.uid}`, { token: owner.idToken }, { role: "owner" });
    await http.patch(`${members}/${admin.uid}`, { token: owner.idToken }, { role: "admin" });
    expect(await works(adminKey.key)).toBe(true);

    // A viewer cannot make keys at all: the demotion revokes theirs in the same change.
    expect((await http.patch(`${members}/${admin.uid}`, { token: owner.idToken }, { role: "viewer" })).status).toBe(
      200,
    );
    expect(await works(adminKey.key)).toBe(false);
    expect((await listed()).get(adminKey.id)?.revokedAt).not.toBeNull();

    expect((await http.delete(`${members}/${otherAdmin.uid}`, { token: owner.idToken })).status).toBe(204);
    expect(await works(otherAdminKey.key)).toBe(false);
    expect((await listed()).get(otherAdminKey.id)?.revokedAt).not.toBeNull();

    expect(await works(ownerKey.key)).toBe(true);
    expect((await api.firebase.firestore.doc(`tenants/${tenantId}`).get()).get("apiKeyCount")).toBe(1);
  });
});
