import { waitFor } from "@whatsdex/core/testing";
import { getAuth } from "firebase-admin/auth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { pageOf, problemSchema } from "../src/http/schemas.ts";
import { memberSchema } from "../src/members/routes.ts";
import { ownerWithTenant } from "./support/fixtures.ts";
import { client, signUp, startTestApi, type TestApi, type TestUser } from "./support/test-api.ts";

let api: TestApi;
let http: ReturnType<typeof client>;
beforeAll(async () => {
  api = await startTestApi();
  http = client(api.url);
});
afterAll(() => api.close());

/** Adds an existing account by uid (by email is an invitation: see invitations.test.ts). */
async function addMember(tenantId: string, by: TestUser, user: TestUser, role: string) {
  const added = await http.post(`/tenants/${tenantId}/members`, { token: by.idToken }, { uid: user.uid, role });
  if (added.status !== 201) throw new Error(`could not add a member: ${added.status}`);
  return memberSchema.parse(added.body);
}

describe("members", () => {
  it("adds an existing account by uid at once, recording its email only once verified, and refuses duplicates and unknown uids", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const auth = { token: owner.idToken };
    const unverified = await signUp();
    const verified = await signUp();
    await getAuth(api.firebase.app).updateUser(verified.uid, { emailVerified: true });

    const added = await http.post(`/tenants/${tenantId}/members`, auth, { uid: unverified.uid, role: "viewer" });
    expect(added.status).toBe(201);
    // An unverified address is only a claim: it is not shown as the member's.
    expect(memberSchema.parse(added.body)).toMatchObject({ uid: unverified.uid, role: "viewer", email: null });
    expect(
      memberSchema.parse(
        (await http.post(`/tenants/${tenantId}/members`, auth, { uid: verified.uid, role: "admin" })).body,
      ).email,
    ).toBe(verified.email);

    const again = await http.post(`/tenants/${tenantId}/members`, auth, { uid: unverified.uid, role: "admin" });
    expect(problemSchema.parse(again.body).code).toBe("conflict");
    const unknown = await http.post(`/tenants/${tenantId}/members`, auth, { uid: "no-such-account", role: "admin" });
    expect(unknown.status).toBe(404);

    const list = pageOf(memberSchema).parse((await http.get(`/tenants/${tenantId}/members`, auth)).body);
    expect(list.items.map((m) => m.role).sort()).toEqual(["admin", "owner", "viewer"]);

    // The new member sees the tenant now.
    expect((await http.get(`/tenants/${tenantId}`, { token: unverified.idToken })).status).toBe(200);
  });

  it("lists everyone (with emails) only to owners, admins and admin-scoped keys: a viewer sees themselves, a read key nothing", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const admin = await signUp();
    const viewer = await signUp();
    await addMember(tenantId, owner, admin, "admin");
    await addMember(tenantId, owner, viewer, "viewer");
    const keyOf = async (scopes: string[]) =>
      z
        .object({ key: z.string() })
        .parse((await http.post(`/tenants/${tenantId}/api-keys`, { token: owner.idToken }, { name: "k", scopes })).body)
        .key;
    const list = async (credential: { token: string } | { apiKey: string }) => {
      const response = await http.get(`/tenants/${tenantId}/members?limit=1`, credential);
      return { status: response.status, body: response.body };
    };
    const everyone = async (credential: { token: string } | { apiKey: string }) => {
      const uids: string[] = [];
      let cursor: string | null = null;
      do {
        const query: string = cursor ? `?limit=2&cursor=${cursor}` : "?limit=2";
        const page = pageOf(memberSchema).parse(
          (await http.get(`/tenants/${tenantId}/members${query}`, credential)).body,
        );
        uids.push(...page.items.map((m) => m.uid));
        cursor = page.nextCursor;
      } while (cursor);
      return uids.sort();
    };
    const all = [owner.uid, admin.uid, viewer.uid].sort();
    expect(await everyone({ token: owner.idToken })).toEqual(all);
    expect(await everyone({ token: admin.idToken })).toEqual(all);
    expect(await everyone({ apiKey: await keyOf(["admin"]) })).toEqual(all);

    const own = await list({ token: viewer.idToken });
    expect(own.status).toBe(200);
    expect(pageOf(memberSchema).parse(own.body)).toEqual({
      items: [expect.objectContaining({ uid: viewer.uid, role: "viewer" })],
      nextCursor: null,
    });
    const readKey = await list({ apiKey: await keyOf(["read"]) });
    expect(readKey.status).toBe(403);
    expect(JSON.stringify(readKey.body)).not.toContain(owner.email);
  });

  it("lets only owners grant or revoke ownership, and always keeps one owner", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const admin = await signUp();
    const base = `/tenants/${tenantId}/members`;
    await addMember(tenantId, owner, admin, "admin");

    const adminGrantsOwner = await http.patch(`${base}/${admin.uid}`, { token: admin.idToken }, { role: "owner" });
    expect(adminGrantsOwner.status).toBe(403);
    const adminDemotesOwner = await http.patch(`${base}/${owner.uid}`, { token: admin.idToken }, { role: "viewer" });
    expect(adminDemotesOwner.status).toBe(403);
    const adminAddsOwner = await http.post(
      base,
      { token: admin.idToken },
      { uid: (await signUp()).uid, role: "owner" },
    );
    expect(adminAddsOwner.status).toBe(403);
    const lastOwner = await http.patch(`${base}/${owner.uid}`, { token: owner.idToken }, { role: "admin" });
    expect(lastOwner.status).toBe(409);
    expect((await http.delete(`${base}/${owner.uid}`, { token: owner.idToken })).status).toBe(409);

    const promoted = await http.patch(`${base}/${admin.uid}`, { token: owner.idToken }, { role: "owner" });
    expect(memberSchema.parse(promoted.body).role).toBe("owner");
    expect((await http.patch(`${base}/${owner.uid}`, { token: owner.idToken }, { role: "viewer" })).status).toBe(200);
    expect((await http.get(`/tenants/${tenantId}/bots`, { token: owner.idToken })).status).toBe(200);
    expect((await http.post(`/tenants/${tenantId}/bots`, { token: owner.idToken }, { name: "x" })).status).toBe(403);
  });

  it("removes a member, who then cannot see the tenant", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const viewer = await signUp();
    await addMember(tenantId, owner, viewer, "viewer");
    const viewerTries = await http.delete(`/tenants/${tenantId}/members/${owner.uid}`, { token: viewer.idToken });
    expect(viewerTries.status).toBe(403);
    expect((await http.delete(`/tenants/${tenantId}/members/${viewer.uid}`, { token: owner.idToken })).status).toBe(
      204,
    );
    expect((await http.get(`/tenants/${tenantId}`, { token: viewer.idToken })).status).toBe(404);
    expect((await http.delete(`/tenants/${tenantId}/members/${viewer.uid}`, { token: owner.idToken })).status).toBe(
      404,
    );
  });

  it("another instance's cached role expires within its TTL after the member is removed", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const viewer = await signUp();
    await addMember(tenantId, owner, viewer, "viewer");
    const other = await startTestApi({ accessCacheTtlMs: 300 });
    try {
      const otherHttp = client(other.url);
      expect((await otherHttp.get(`/tenants/${tenantId}`, { token: viewer.idToken })).status).toBe(200);
      await http.delete(`/tenants/${tenantId}/members/${viewer.uid}`, { token: owner.idToken });
      await waitFor("the other instance to drop the removed member's cached role", async () => {
        const response = await otherHttp.get(`/tenants/${tenantId}`, { token: viewer.idToken });
        return response.status === 404 ? true : undefined;
      });
    } finally {
      await other.close();
    }
  });
});
