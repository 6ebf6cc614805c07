import { waitFor } from "@whatsdex/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pageOf, problemSchema } from "../src/http/schemas.ts";
import { memberSchema } from "../src/members/routes.ts";
import { ownerWithTenant } from "./support/fixtures.ts";
import { client, signUp, startTestApi, type TestApi } from "./support/test-api.ts";

let api: TestApi;
let http: ReturnType<typeof client>;
beforeAll(async () => {
  api = await startTestApi();
  http = client(api.url);
});
afterAll(() => api.close());

describe("members", () => {
  it("adds members by email with a role, lists them, and refuses duplicates and unknown emails", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const auth = { token: owner.idToken };
    const colleague = await signUp();
    const added = await http.post(`/tenants/${tenantId}/members`, auth, { email: colleague.email, role: "viewer" });
    expect(added.status).toBe(201);
    expect(memberSchema.parse(added.body)).toMatchObject({
      uid: colleague.uid,
      role: "viewer",
      email: colleague.email,
    });

    const again = await http.post(`/tenants/${tenantId}/members`, auth, { email: colleague.email, role: "admin" });
    expect(problemSchema.parse(again.body).code).toBe("conflict");
    const unknown = await http.post(`/tenants/${tenantId}/members`, auth, {
      email: "nobody@example.test",
      role: "admin",
    });
    expect(unknown.status).toBe(404);
    expect(
      (await http.post(`/tenants/${tenantId}/members`, auth, { email: "not-an-email", role: "admin" })).status,
    ).toBe(400);

    const list = pageOf(memberSchema).parse((await http.get(`/tenants/${tenantId}/members`, auth)).body);
    expect(list.items.map((m) => m.role).sort()).toEqual(["owner", "viewer"]);

    // The new member sees the tenant now.
    expect((await http.get(`/tenants/${tenantId}`, { token: colleague.idToken })).status).toBe(200);
  });

  it("lets only owners grant or revoke ownership, and always keeps one owner", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const admin = await signUp();
    const base = `/tenants/${tenantId}/members`;
    await http.post(base, { token: owner.idToken }, { email: admin.email, role: "admin" });

    const adminGrantsOwner = await http.patch(`${base}/${admin.uid}`, { token: admin.idToken }, { role: "owner" });
    expect(adminGrantsOwner.status).toBe(403);
    const adminDemotesOwner = await http.patch(`${base}/${owner.uid}`, { token: admin.idToken }, { role: "viewer" });
    expect(adminDemotesOwner.status).toBe(403);
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
    await http.post(`/tenants/${tenantId}/members`, { token: owner.idToken }, { email: viewer.email, role: "viewer" });
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
    await http.post(`/tenants/${tenantId}/members`, { token: owner.idToken }, { email: viewer.email, role: "viewer" });
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
