import { AUDIT_RETENTION_DAYS, type AuditEntryDoc, auditEntryDocSchema } from "@whatsdex/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { apiKeySchema } from "../src/api-keys/routes.ts";
import { auditEntrySchema } from "../src/audit/routes.ts";
import { botSchema } from "../src/bots/dto.ts";
import { pageOf } from "../src/http/schemas.ts";
import { invitationSchema } from "../src/invitations/dto.ts";
import { ownerWithTenant } from "./support/fixtures.ts";
import { client, signUp, startTestApi, type TestApi } from "./support/test-api.ts";

let api: TestApi;
let http: ReturnType<typeof client>;
beforeAll(async () => {
  api = await startTestApi();
  http = client(api.url);
});
afterAll(() => api.close());

const createdKey = apiKeySchema.extend({ key: z.string() });
type Entry = z.output<typeof auditEntrySchema>;

/** Every entry, following cursors `limit` at a time. */
async function readAll(tenantId: string, token: string, filter = "", limit = 100): Promise<Entry[]> {
  const entries: Entry[] = [];
  let cursor: string | null = null;
  do {
    const query: string = `?limit=${limit}${filter}${cursor ? `&cursor=${cursor}` : ""}`;
    const response = await http.get(`/tenants/${tenantId}/audit${query}`, { token });
    expect(response.status).toBe(200);
    const page = pageOf(auditEntrySchema).parse(response.body);
    entries.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return entries;
}

describe("audit log", () => {
  it("records every change made through the API with who, what, before/after and the request id, never a secret", async () => {
    const { owner, tenantId } = await ownerWithTenant(http, "Before");
    const auth = { token: owner.idToken };
    const base = `/tenants/${tenantId}`;
    const rename = await http.call("PATCH", base, auth, { name: "After" }, { "x-request-id": "rename-request-1" });
    expect(rename.status).toBe(200);

    const admin = await signUp();
    expect((await http.post(`${base}/members`, auth, { uid: admin.uid, role: "viewer" })).status).toBe(201);
    expect((await http.patch(`${base}/members/${admin.uid}`, auth, { role: "admin" })).status).toBe(200);
    const invitation = invitationSchema.parse(
      (await http.post(`${base}/members`, auth, { email: "someone@example.test", role: "viewer" })).body,
    );
    expect((await http.delete(`${base}/invitations/${invitation.id}`, auth)).status).toBe(200);

    const key = createdKey.parse((await http.post(`${base}/api-keys`, auth, { name: "CI", scopes: ["bots"] })).body);
    const bot = botSchema.parse(
      (await http.post(`${base}/bots`, { apiKey: key.key }, { name: "Support", transport: "simulator" })).body,
    );
    const botBase = `${base}/bots/${bot.id}`;
    expect((await http.patch(botBase, auth, { settings: { prefixes: ["!"] } })).status).toBe(200);
    expect((await http.post(`${botBase}/connect`, { apiKey: key.key }, { method: "qr" })).status).toBe(202);
    expect((await http.post(`${botBase}/disconnect`, auth)).status).toBe(202);
    expect((await http.post(`${botBase}/logout`, auth)).status).toBe(202);
    expect((await http.delete(`${base}/api-keys/${key.id}`, auth)).status).toBe(204);
    expect((await http.delete(botBase, auth)).status).toBe(204);

    const entries = await readAll(tenantId, owner.idToken);
    expect(entries.map((e) => e.action).reverse()).toEqual([
      "tenant.created",
      "tenant.updated",
      "member.added",
      "member.role_changed",
      "invitation.created",
      "invitation.revoked",
      "apiKey.created",
      "bot.created",
      "bot.updated",
      "bot.connect",
      "bot.disconnect",
      "bot.logout",
      "apiKey.revoked",
      "bot.deleted",
    ]);
    const byAction = (action: string) => entries.find((e) => e.action === action);
    const user = { kind: "user", id: owner.uid };
    expect(byAction("tenant.updated")).toMatchObject({
      actor: user,
      target: `tenant:${tenantId}`,
      requestId: "rename-request-1",
      before: { name: "Before" },
      after: { name: "After" },
    });
    expect(byAction("member.role_changed")).toMatchObject({
      target: `member:${admin.uid}`,
      before: { role: "viewer" },
      after: { role: "admin" },
    });
    expect(byAction("bot.updated")).toMatchObject({
      botId: bot.id,
      before: { "settings.prefixes": [".", "!", "/"] },
      after: { "settings.prefixes": ["!"] },
    });
    expect(byAction("bot.connect")).toMatchObject({
      actor: { kind: "apiKey", id: key.id },
      after: { desiredState: "running" },
    });
    expect(byAction("bot.created")?.actor).toEqual({ kind: "apiKey", id: key.id });
    // Every entry names the request that made it (the response's X-Request-Id).
    for (const entry of entries) expect(entry.requestId).toMatch(/^[\w.:-]+$/);

    // The key itself, its secret and its hash are nowhere in the log.
    const stored = (await api.firebase.firestore.doc(`${base.slice(1)}/apiKeys/${key.id}`).get()).get("hash");
    const everything = JSON.stringify(entries);
    expect(everything).not.toContain(key.key.slice(-20));
    expect(everything).not.toContain(String(stored));
    expect(byAction("apiKey.created")?.after).toMatchObject({ scopes: ["bots"], createdBy: `user:${owner.uid}` });
    expect(byAction("apiKey.created")?.after).not.toHaveProperty("hash");

    // Entries expire by the TTL policy on expiresAt.
    const docs = await api.firebase.firestore.collection(`tenants/${tenantId}/audit`).get();
    for (const doc of docs.docs) {
      const entry: AuditEntryDoc = auditEntryDocSchema.parse(doc.data());
      expect(entry.expiresAt.toMillis() - entry.createdAt.toMillis()).toBe(AUDIT_RETENTION_DAYS * 86_400_000);
    }
  });

  it("pages by cursor, filters by action and target, and is for owners and admins only", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const auth = { token: owner.idToken };
    const base = `/tenants/${tenantId}`;
    const [admin, viewer] = await Promise.all([signUp(), signUp()]);
    await http.post(`${base}/members`, auth, { uid: admin.uid, role: "admin" });
    await http.post(`${base}/members`, auth, { uid: viewer.uid, role: "viewer" });
    await http.patch(`${base}/members/${viewer.uid}`, auth, { role: "admin" });
    await http.patch(`${base}/members/${viewer.uid}`, { token: admin.idToken }, { role: "viewer" });
    for (const name of ["one", "two", "three"]) await http.patch(base, auth, { name });

    const all = await readAll(tenantId, owner.idToken);
    expect(all).toHaveLength(8);
    const paged = await readAll(tenantId, admin.idToken, "", 3);
    expect(paged.map((e) => e.id)).toEqual(all.map((e) => e.id));

    const roleChanges = await readAll(tenantId, owner.idToken, "&action=member.role_changed", 1);
    expect(roleChanges.map((e) => e.actor.id)).toEqual([admin.uid, owner.uid]);
    const aboutViewer = await readAll(tenantId, owner.idToken, `&target=member:${viewer.uid}`);
    expect(aboutViewer.map((e) => e.action)).toEqual(["member.role_changed", "member.role_changed", "member.added"]);
    const both = await readAll(tenantId, owner.idToken, `&action=member.added&target=member:${viewer.uid}`);
    expect(both).toHaveLength(1);
    expect((await http.get(`${base}/audit?action=member.exploded`, auth)).status).toBe(400);

    expect((await http.get(`${base}/audit`, { token: viewer.idToken })).status).toBe(403);
    const key = createdKey.parse((await http.post(`${base}/api-keys`, auth, { name: "k", scopes: ["admin"] })).body);
    expect((await http.get(`${base}/audit`, { apiKey: key.key })).status).toBe(401);
  });

  it("writes nothing for a change that is refused: the entry and the change commit together", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const before = await readAll(tenantId, owner.idToken);
    const lastOwner = await http.patch(
      `/tenants/${tenantId}/members/${owner.uid}`,
      { token: owner.idToken },
      {
        role: "admin",
      },
    );
    expect(lastOwner.status).toBe(409);
    expect(await readAll(tenantId, owner.idToken)).toEqual(before);
  });
});
