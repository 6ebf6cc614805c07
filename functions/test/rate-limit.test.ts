import { PlanCatalog } from "@whatsdex/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { problemSchema } from "../src/http/schemas.ts";
import { planPolicy } from "../src/rate-limit/policy.ts";
import { TokenBuckets } from "../src/rate-limit/token-buckets.ts";
import { ownerWithTenant } from "./support/fixtures.ts";
import { type ApiResponse, type Credential, client, startTestApi, type TestApi } from "./support/test-api.ts";

// The plan catalog's budgets on a clock the test moves: refills happen when the test says so.
let now = Date.parse("2026-12-01T00:00:00Z");
let api: TestApi;
let http: ReturnType<typeof client>;
beforeAll(async () => {
  api = await startTestApi({ rateLimits: { policy: planPolicy, now: () => now } });
  http = client(api.url);
});
afterAll(() => api.close());

const free = PlanCatalog.get("free");
const starter = PlanCatalog.get("starter");

async function newKey(tenantId: string, token: string): Promise<string> {
  const response = await http.post(`/tenants/${tenantId}/api-keys`, { token }, { name: "k", scopes: ["read"] });
  return z.object({ key: z.string() }).parse(response.body).key;
}

/** `count` sequential requests; the statuses in order. */
async function statuses(count: number, send: () => Promise<ApiResponse>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push((await send()).status);
  return out;
}

const limits = (response: ApiResponse) => ({
  policy: response.headers.get("ratelimit-policy"),
  limit: response.headers.get("ratelimit"),
  retryAfter: response.headers.get("retry-after"),
});

describe("API rate limits", () => {
  it("refuses a key past its plan's budget with 429 and the RateLimit headers; others are unaffected; tokens refill", async () => {
    const a = await ownerWithTenant(http, "Tenant A");
    const b = await ownerWithTenant(http, "Tenant B");
    const [keyA1, keyA2, keyB] = [
      await newKey(a.tenantId, a.owner.idToken),
      await newKey(a.tenantId, a.owner.idToken),
      await newKey(b.tenantId, b.owner.idToken),
    ];
    const list = (tenantId: string, credential: Credential) => http.get(`/tenants/${tenantId}/bots`, credential);
    const { burst, perSecond } = free.apiRequestsPerKey;
    const window = Math.ceil(burst / perSecond);

    const first = await list(a.tenantId, { apiKey: keyA1 });
    expect(limits(first)).toEqual({
      policy: `"key";q=${burst};w=${window}`,
      limit: `"key";r=${burst - 1};t=1`,
      retryAfter: null,
    });
    expect(await statuses(burst - 1, () => list(a.tenantId, { apiKey: keyA1 }))).toEqual(Array(burst - 1).fill(200));

    const refused = await list(a.tenantId, { apiKey: keyA1 });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("content-type")).toContain("application/problem+json");
    expect(problemSchema.parse(refused.body)).toMatchObject({ code: "rate_limited", status: 429 });
    expect(limits(refused)).toEqual({
      policy: `"key";q=${burst};w=${window}`,
      limit: `"key";r=0;t=${window}`,
      retryAfter: String(Math.ceil(1 / perSecond)),
    });

    // Another key of the tenant, its owner, and another tenant's key each have their own budget.
    expect((await list(a.tenantId, { apiKey: keyA2 })).status).toBe(200);
    const owner = await list(a.tenantId, { token: a.owner.idToken });
    expect(owner.status).toBe(200);
    expect(limits(owner).policy).toBe(`"user";q=${free.apiRequestsPerUser.burst};w=30`);
    expect((await list(b.tenantId, { apiKey: keyB })).status).toBe(200);

    // One token per second comes back: exactly one more request, then refused again.
    now += 1_000 / perSecond;
    expect(await statuses(2, () => list(a.tenantId, { apiKey: keyA1 }))).toEqual([200, 429]);
    // A full window refills the whole bucket.
    now += window * 1_000;
    const refilled = await list(a.tenantId, { apiKey: keyA1 });
    expect(refilled.status).toBe(200);
    expect(limits(refilled).limit).toBe(`"key";r=${burst - 1};t=1`);
  });

  it("sizes the budget by the tenant's plan", async () => {
    const { owner, tenantId } = await ownerWithTenant(http, "Starter tenant");
    await api.firebase.firestore.doc(`tenants/${tenantId}`).update({ plan: "starter" });
    const key = await newKey(tenantId, owner.idToken);
    const { burst } = starter.apiRequestsPerKey;
    expect(burst).toBeGreaterThan(free.apiRequestsPerKey.burst);
    const got = await statuses(burst + 1, () => http.get(`/tenants/${tenantId}/bots`, { apiKey: key }));
    expect(got).toEqual([...Array(burst).fill(200), 429]);
  });

  it("limits callers without valid credentials per address, before their credentials are looked up", async () => {
    const from = (address: string) => ({ "x-forwarded-for": address });
    const { burst } = planPolicy.address;
    const anonymous = (address: string) => http.call("GET", "/openapi.json", undefined, undefined, from(address));
    expect(await statuses(burst, () => anonymous("203.0.113.1"))).toEqual(Array(burst).fill(200));
    const refused = await anonymous("203.0.113.1");
    expect(refused.status).toBe(429);
    expect(limits(refused)).toEqual({
      policy: `"address";q=${burst};w=${burst}`,
      limit: '"address";r=0;t=30',
      retryAfter: "1",
    });
    expect((await anonymous("203.0.113.2")).status).toBe(200);

    // Forged keys cost their address, and once it is spent they are refused unread.
    const { owner, tenantId } = await ownerWithTenant(http, "Probed tenant");
    const forged = (address: string) =>
      http.call(
        "GET",
        `/tenants/${tenantId}/bots`,
        { apiKey: "wdx_0123456789abcdef0123_nope" },
        undefined,
        from(address),
      );
    expect(await statuses(burst, () => forged("203.0.113.3"))).toEqual(Array(burst).fill(401));
    expect((await forged("203.0.113.3")).status).toBe(429);
    const key = await newKey(tenantId, owner.idToken);
    const fromElsewhere = await http.call(
      "GET",
      `/tenants/${tenantId}/bots`,
      { apiKey: key },
      undefined,
      from("203.0.113.4"),
    );
    expect(fromElsewhere.status).toBe(200);
  });
});

describe("token buckets", () => {
  it("refill at their rate and hold at most maxKeys callers, forgetting the least recently used", () => {
    let clock = 0;
    const buckets = new TokenBuckets({ maxKeys: 2, now: () => clock });
    const budget = { burst: 2, perSecond: 0.5 };
    expect([buckets.take("a", budget).allowed, buckets.take("a", budget).allowed]).toEqual([true, true]);
    expect(buckets.take("a", budget)).toEqual({ allowed: false, remaining: 0, resetSeconds: 4, retryAfterSeconds: 2 });
    clock += 1_000;
    expect(buckets.take("a", budget)).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    clock += 1_000;
    expect(buckets.take("a", budget)).toMatchObject({ allowed: true, remaining: 0 });

    buckets.take("b", budget);
    buckets.take("c", budget);
    expect(buckets.size).toBe(2);
    // "a" was the least recently used: forgotten, it comes back full.
    expect(buckets.peek("a", budget)).toMatchObject({ allowed: true, remaining: 2 });
  });
});
