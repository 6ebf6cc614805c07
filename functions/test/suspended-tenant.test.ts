import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { problemSchema } from "../src/http/schemas.ts";
import { ownerWithTenant } from "./support/fixtures.ts";
import { client, signUp, startTestApi, type TestApi } from "./support/test-api.ts";

let api: TestApi;
let http: ReturnType<typeof client>;
beforeAll(async () => {
  // No cache: the suspension (made outside the API) is seen by the next request.
  api = await startTestApi({ accessCacheTtlMs: 0 });
  http = client(api.url);
});
afterAll(() => api.close());

const suspended = { status: 403, code: "tenant_suspended" };
const outcome = (response: { status: number; body: unknown }) => ({
  status: response.status,
  code: problemSchema.safeParse(response.body).data?.code,
});

describe("a suspended tenant", () => {
  it("is refused every tenant-scoped request, reads included, by members and API keys; strangers still see nothing", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const user = { token: owner.idToken };
    const keyResponse = await http.post(`/tenants/${tenantId}/api-keys`, user, { name: "CRM", scopes: ["admin"] });
    const apiKey = { apiKey: z.object({ key: z.string() }).parse(keyResponse.body).key };
    expect((await http.get(`/tenants/${tenantId}/bots`, apiKey)).status).toBe(200);

    const tenant = api.firebase.firestore.doc(`tenants/${tenantId}`);
    await tenant.update({ status: "suspended" });

    expect(outcome(await http.get(`/tenants/${tenantId}`, user))).toEqual(suspended);
    expect(outcome(await http.get(`/tenants/${tenantId}/bots`, user))).toEqual(suspended);
    expect(outcome(await http.get(`/tenants/${tenantId}/members`, user))).toEqual(suspended);
    expect(outcome(await http.post(`/tenants/${tenantId}/bots`, user, { name: "new" }))).toEqual(suspended);
    expect(outcome(await http.get(`/tenants/${tenantId}/bots`, apiKey))).toEqual(suspended);
    expect(outcome(await http.post(`/tenants/${tenantId}/bots`, apiKey, { name: "new" }))).toEqual(suspended);
    expect((await tenant.collection("bots").get()).size).toBe(0);
    const refused = problemSchema.parse((await http.get(`/tenants/${tenantId}`, user)).body);
    expect(refused.detail).toMatch(/suspended/);

    // Someone outside the tenant learns nothing, not even that it is suspended.
    const stranger = await signUp();
    expect(outcome(await http.get(`/tenants/${tenantId}`, { token: stranger.idToken }))).toEqual({
      status: 404,
      code: "not_found",
    });
    // Its members still see it, and why, in their list of tenants.
    const mine = await http.get("/tenants", user);
    expect(JSON.stringify(mine.body)).toContain('"status":"suspended"');

    await tenant.update({ status: "active" });
    expect((await http.get(`/tenants/${tenantId}/bots`, user)).status).toBe(200);
    expect((await http.get(`/tenants/${tenantId}/bots`, apiKey)).status).toBe(200);
  });
});
