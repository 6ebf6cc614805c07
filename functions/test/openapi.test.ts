import { Validator } from "@seriousme/openapi-schema-validator";
import { eventTypes } from "@whatsdex/core";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineRoute, expressPath } from "../src/http/route.ts";
import { apiRoutes } from "../src/http/routes.ts";
import { tenantParams } from "../src/http/schemas.ts";
import { buildOpenApiDocument } from "../src/openapi/document.ts";
import { serve } from "./serve.ts";
import {
  ConformanceLog,
  checkingResponses,
  type ObservedResponse,
  publishedDocument,
  responseValidator,
} from "./support/openapi-conformance.ts";
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

describe("the published document", () => {
  it("is valid OpenAPI 3.1 and is what the response check reads", async () => {
    const served = await client(api.url).get("/openapi.json", undefined);
    expect(served.body).toEqual(JSON.parse(JSON.stringify(publishedDocument("9.9.9"))));
    const result = await new Validator().validate(JSON.parse(JSON.stringify(served.body)));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it("documents the shared failures on every operation, with the rate limit headers on 429", async () => {
    const document = z
      .object({
        paths: z.record(
          z.string(),
          z.record(z.string(), z.object({ responses: z.record(z.string(), z.unknown()) }).loose()),
        ),
      })
      .parse((await client(api.url).get("/openapi.json", undefined)).body);
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        expect(Object.keys(operation.responses), `${method} ${path}`).toEqual(
          expect.arrayContaining(["400", "413", "429", "500"]),
        );
        expect(JSON.stringify(operation.responses["429"]), `${method} ${path}`).toContain('"Retry-After"');
      }
    }
    // A route's own failure (the last owner) is documented as a problem, like the shared ones.
    const removeMember = JSON.stringify(document.paths["/tenants/{tenantId}/members/{uid}"]?.delete?.responses["409"]);
    expect(removeMember).toContain("application/problem+json");
  });
});

describe("the response check", () => {
  // A route of its own, so these cases do not depend on what the real routes document.
  const thing = z.object({ id: z.string(), name: z.string() }).meta({ id: "Thing" });
  const routes = [
    defineRoute({
      method: "delete",
      path: "/tenants/{tenantId}/things",
      operationId: "removeThing",
      summary: "Remove a thing",
      tag: "Things",
      auth: "user",
      permission: "bots:write",
      params: tenantParams,
      responses: { 200: { description: "Removed", schema: thing } },
      async handle() {
        return { status: 200, body: { id: "t", name: "n" } };
      },
    }),
  ];
  const validate = responseValidator(buildOpenApiDocument(routes, "1.0.0"));
  const problem = (status: number, extra: object = {}) => ({
    type: "urn:whatsdex:problem:x",
    title: "X",
    status,
    detail: "x",
    code: "x",
    ...extra,
  });
  const respond = (status: number, body: unknown, headers: Record<string, string> = {}): ObservedResponse => ({
    method: "DELETE",
    path: "/v1/tenants/t1/things",
    status,
    headers: { "content-type": status >= 400 ? "application/problem+json" : "application/json", ...headers },
    body: Buffer.from(JSON.stringify(body)),
  });

  it("accepts documented answers", () => {
    expect(validate(respond(200, { id: "a", name: "b" }))).toEqual([]);
    expect(validate(respond(404, problem(404)))).toEqual([]);
    const limited = { "retry-after": "3", ratelimit: '"key";r=0;t=3', "ratelimit-policy": '"key";q=5;w=5' };
    expect(validate(respond(429, problem(429), limited))).toEqual([]);
  });

  it("refuses an undocumented status, field, content type or missing header", () => {
    expect(validate(respond(409, problem(409)))).toEqual([expect.stringContaining("status 409 is not documented")]);
    expect(validate(respond(200, { id: "a", name: "b", secret: "s" }))).toEqual([
      expect.stringContaining("must NOT have additional properties (secret)"),
    ]);
    expect(validate(respond(200, { id: "a" }))).toEqual([
      expect.stringContaining("must have required property 'name'"),
    ]);
    expect(validate({ ...respond(200, { id: "a", name: "b" }), headers: { "content-type": "text/html" } })).toEqual([
      expect.stringContaining("content type text/html is not documented"),
    ]);
    expect(validate(respond(404, { message: "nope" }))).not.toEqual([]);
    expect(validate(respond(429, problem(429)))).toEqual([
      "required header Retry-After is missing",
      "required header RateLimit is missing",
      "required header RateLimit-Policy is missing",
    ]);
    // An unknown route's answer must still be a problem.
    expect(validate({ ...respond(200, {}), path: "/v1/elsewhere" })).toEqual(["undocumented operation answered 200"]);
  });

  it("sees what an app really sent, as the test API does", async () => {
    const log = new ConformanceLog();
    const app = express();
    app.delete("/v1/tenants/:tenantId/things", (_req, res) => {
      res
        .status(409)
        .type("application/problem+json")
        .send(JSON.stringify(problem(409)));
    });
    const server = await serve(checkingResponses(app, validate, log));
    try {
      const response = await fetch(`${server.url}/v1/tenants/t1/things`, { method: "DELETE" });
      expect(response.status).toBe(409);
      expect(log.take()).toEqual([expect.stringContaining("DELETE /v1/tenants/t1/things -> 409")]);
    } finally {
      await server.close();
    }
  });
});

describe("the webhooks section", () => {
  it("publishes every event type as an OpenAPI 3.1 webhook: its body schema and the Standard Webhooks headers", async () => {
    const document = z
      .object({
        webhooks: z.record(
          z.string(),
          z.object({
            post: z.object({
              parameters: z.array(z.object({ in: z.string(), name: z.string(), required: z.boolean() }).loose()),
              requestBody: z.object({
                content: z.object({ "application/json": z.object({ schema: z.object({ $ref: z.string() }) }) }),
              }),
            }),
          }),
        ),
        components: z.object({ schemas: z.record(z.string(), z.unknown()) }),
      })
      .parse((await client(api.url).get("/openapi.json", undefined)).body);
    expect(Object.keys(document.webhooks).sort()).toEqual([...eventTypes].sort());
    for (const [type, item] of Object.entries(document.webhooks)) {
      const headers = item.post.parameters.filter((p) => p.in === "header" && p.required).map((p) => p.name);
      expect(headers.sort(), type).toEqual(["webhook-id", "webhook-signature", "webhook-timestamp"]);
      const name = item.post.requestBody.content["application/json"].schema.$ref.split("/").at(-1) ?? "";
      const body = JSON.stringify(document.components.schemas[name]);
      expect(body, type).toContain(`"const":"${type}"`);
      expect(body, type).toMatch(/"required":\["type","timestamp","data"\]/);
    }
    // The payloads are the core schemas themselves, named once.
    expect(Object.keys(document.components.schemas)).toEqual(
      expect.arrayContaining(["MessageReceivedEvent", "BotQrEvent", "WebhookTestEvent", "PersonRef"]),
    );
  });
});
