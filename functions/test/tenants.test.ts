import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { pageOf, problemSchema } from "../src/http/schemas.ts";
import { tenantSchema, tenantWithRoleSchema } from "../src/tenants/dto.ts";
import { client, signUp, startTestApi, type TestApi, type TestUser } from "./support/test-api.ts";

let api: TestApi;
let http: ReturnType<typeof client>;
let owner: TestUser;
beforeAll(async () => {
  api = await startTestApi();
  http = client(api.url);
  owner = await signUp();
});
afterAll(() => api.close());

describe("tenants", () => {
  it("creates a tenant on the free plan with the caller as owner", async () => {
    const created = await http.post("/tenants", { token: owner.idToken }, { name: "  Acme Support  " });
    expect(created.status).toBe(201);
    const tenant = tenantSchema.parse(created.body);
    expect(tenant).toMatchObject({ name: "Acme Support", plan: "free", status: "active", botCount: 0 });
    expect(tenant.limits.maxBots).toBe(1);
    expect(created.headers.get("location")).toBe(`/v1/tenants/${tenant.id}`);

    const member = await api.firebase.firestore.doc(`tenants/${tenant.id}/members/${owner.uid}`).get();
    expect(member.data()).toMatchObject({ role: "owner", uid: owner.uid, email: owner.email });

    const fetched = await http.get(`/tenants/${tenant.id}`, { token: owner.idToken });
    expect(fetched.status).toBe(200);
    expect(tenantSchema.parse(fetched.body).id).toBe(tenant.id);
  });

  it("lists the caller's tenants with their role, page by page", async () => {
    const user = await signUp();
    const ids: string[] = [];
    for (const name of ["one", "two", "three"]) {
      const created = await http.post("/tenants", { token: user.idToken }, { name });
      ids.push(tenantSchema.parse(created.body).id);
    }
    const page = pageOf(tenantWithRoleSchema);
    const first = page.parse((await http.get("/tenants?limit=2", { token: user.idToken })).body);
    expect(first.items.map((t) => t.name)).toEqual(["three", "two"]);
    expect(first.items.every((t) => t.role === "owner")).toBe(true);
    expect(first.nextCursor).not.toBeNull();
    const second = page.parse(
      (await http.get(`/tenants?limit=2&cursor=${first.nextCursor}`, { token: user.idToken })).body,
    );
    expect(second.items.map((t) => t.name)).toEqual(["one"]);
    expect(second.nextCursor).toBeNull();
  });

  it("renames a tenant and rejects unknown fields, naming them", async () => {
    const tenant = tenantSchema.parse((await http.post("/tenants", { token: owner.idToken }, { name: "Old" })).body);
    const renamed = await http.patch(`/tenants/${tenant.id}`, { token: owner.idToken }, { name: "New" });
    expect(tenantSchema.parse(renamed.body).name).toBe("New");

    const rejected = await http.patch(
      `/tenants/${tenant.id}`,
      { token: owner.idToken },
      { name: "", plan: "enterprise" },
    );
    expect(rejected.status).toBe(400);
    const problem = problemSchema.parse(rejected.body);
    expect(problem.code).toBe("validation_failed");
    expect(problem.errors?.map((e) => e.path).sort()).toEqual(["body", "body.name"]);
    const stored = await api.firebase.firestore.doc(`tenants/${tenant.id}`).get();
    expect(stored.get("name")).toBe("New");
    expect(stored.get("plan")).toBe("free");
  });

  it("refuses missing, malformed and forged credentials with 401", async () => {
    const none = await http.post("/tenants", undefined, { name: "x" });
    expect(none.status).toBe(401);
    expect(problemSchema.parse(none.body).code).toBe("unauthenticated");
    expect((await http.post("/tenants", { token: "not-a-jwt" }, { name: "x" })).status).toBe(401);
    const unsigned = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from(
      JSON.stringify({ sub: "attacker", aud: "other-project" }),
    ).toString("base64url")}.`;
    expect((await http.post("/tenants", { token: unsigned }, { name: "x" })).status).toBe(401);
  });

  it("answers an unknown tenant with 404 and a malformed id with 400 before reading", async () => {
    const missing = await http.get("/tenants/doesnotexist123", { token: owner.idToken });
    expect(missing.status).toBe(404);
    expect(problemSchema.parse(missing.body).code).toBe("not_found");
    const malformed = await http.get(`/tenants/${encodeURIComponent("__bad__")}`, { token: owner.idToken });
    expect(malformed.status).toBe(400);
    expect(z.array(z.object({ path: z.string() })).parse(problemSchema.parse(malformed.body).errors)[0]?.path).toBe(
      "path.tenantId",
    );
  });
});
