import { DeadLetterStore } from "@whatsdex/core/jobs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { apiKeySchema } from "../src/api-keys/routes.ts";
import { pageOf } from "../src/http/schemas.ts";
import { deadLetterSchema } from "../src/jobs/routes.ts";
import { ownerWithTenant } from "./support/fixtures.ts";
import { client, signUp, startTestApi, type TestApi } from "./support/test-api.ts";

let api: TestApi;
let http: ReturnType<typeof client>;
beforeAll(async () => {
  api = await startTestApi();
  http = client(api.url);
});
afterAll(() => api.close());

describe("dead letters", () => {
  it("lists a tenant's failed jobs, newest first, to its owners and admin keys only", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const store = new DeadLetterStore(api.firebase.firestore);
    for (const jobId of ["a", "b", "c"]) {
      await store.record({
        tenantId,
        scope: `${tenantId}/b1`,
        queue: "media",
        jobId: `msg-${jobId}:sticker`,
        name: "media.sticker",
        data: { tenantId, botId: "b1", to: "123456@lid" },
        error: { code: "unrecoverable", message: "The image is gone" },
        attemptsMade: 1,
        enqueuedAt: Date.now() - 1_000,
      });
    }
    const first = await http.get(`/tenants/${tenantId}/dead-letters?limit=2`, { token: owner.idToken });
    expect(first.status).toBe(200);
    const page = pageOf(deadLetterSchema).parse(first.body);
    expect(page.items.map((d) => d.jobId)).toEqual(["msg-c:sticker", "msg-b:sticker"]);
    expect(page.items[0]).toMatchObject({
      queue: "media",
      name: "media.sticker",
      error: { code: "unrecoverable" },
      attemptsMade: 1,
    });
    const rest = pageOf(deadLetterSchema).parse(
      (await http.get(`/tenants/${tenantId}/dead-letters?cursor=${page.nextCursor}`, { token: owner.idToken })).body,
    );
    expect(rest.items.map((d) => d.jobId)).toEqual(["msg-a:sticker"]);

    // Another tenant's owner sees nothing of it; a key without the admin scope is refused.
    const stranger = await signUp();
    expect((await http.get(`/tenants/${tenantId}/dead-letters`, { token: stranger.idToken })).status).toBe(404);
    const readKey = apiKeySchema
      .extend({ key: z.string() })
      .parse(
        (await http.post(`/tenants/${tenantId}/api-keys`, { token: owner.idToken }, { name: "ro", scopes: ["read"] }))
          .body,
      );
    expect((await http.get(`/tenants/${tenantId}/dead-letters`, { apiKey: readKey.key })).status).toBe(403);
    const adminKey = apiKeySchema
      .extend({ key: z.string() })
      .parse(
        (await http.post(`/tenants/${tenantId}/api-keys`, { token: owner.idToken }, { name: "ops", scopes: ["admin"] }))
          .body,
      );
    expect((await http.get(`/tenants/${tenantId}/dead-letters`, { apiKey: adminKey.key })).status).toBe(200);
  });
});
