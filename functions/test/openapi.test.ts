import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { expressPath } from "../src/http/route.ts";
import { apiRoutes } from "../src/http/routes.ts";
import { client, startTestApi, type TestApi } from "./support/test-api.ts";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api.close());

const documentSchema = z.object({
  openapi: z.literal("3.1.0"),
  paths: z.record(z.string(), z.record(z.string(), z.object({ operationId: z.string() }).loose())),
  components: z.object({ schemas: z.record(z.string(), z.unknown()) }).loose(),
});

describe("OpenAPI", () => {
  it("describes every route, generated from the routes' schemas", async () => {
    const response = await client(api.url).get("/openapi.json", undefined);
    expect(response.status).toBe(200);
    const document = documentSchema.parse(response.body);
    for (const route of apiRoutes) {
      expect(document.paths[route.path]?.[route.method]?.operationId, `${route.method} ${route.path}`).toBe(
        route.operationId,
      );
    }
    expect(Object.keys(document.components.schemas)).toEqual(expect.arrayContaining(["Bot", "Tenant", "Problem"]));
    // The request schema is the one the route validates with: strict objects forbid extra fields.
    const createBot = JSON.stringify(document.paths["/tenants/{tenantId}/bots"]?.post);
    expect(createBot).toContain('"additionalProperties":false');
    expect(new Set(apiRoutes.map((r) => `${r.method} ${expressPath(r.path)}`)).size).toBe(apiRoutes.length);
  });

  it("renders the reference page with its assets served locally", async () => {
    const redirect = await fetch(`${api.url}/v1/docs`, { redirect: "manual" });
    expect(redirect.status).toBe(301);
    const page = await fetch(`${api.url}/v1/docs/`);
    expect(page.headers.get("content-type")).toContain("text/html");
    const html = await page.text();
    expect(html).toContain("swagger-ui-bundle.js");
    for (const asset of ["swagger-ui-bundle.js", "swagger-ui.css", "init.js"]) {
      const response = await fetch(`${api.url}/v1/docs/${asset}`);
      expect(response.status, asset).toBe(200);
      await response.body?.cancel();
    }
  });
});
