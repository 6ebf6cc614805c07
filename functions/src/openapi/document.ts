import { z } from "zod";
import type {
  ZodOpenApiOperationObject,
  ZodOpenApiPathsObject,
  ZodOpenApiResponseObject,
  ZodOpenApiResponsesObject,
} from "zod-openapi";
import { createDocument } from "zod-openapi";
import { healthSchema } from "../health/schema.ts";
import type { RouteDefinition } from "../http/route.ts";
import { problemSchema } from "../http/schemas.ts";
import { webhookDefinitions } from "./webhooks.ts";

function problem(description: string): ZodOpenApiResponseObject {
  return { description, content: { "application/problem+json": { schema: problemSchema } } };
}

const rateLimitHeaders: NonNullable<ZodOpenApiResponseObject["headers"]> = {
  "Retry-After": {
    description: "Seconds until the next request can succeed.",
    required: true,
    schema: { type: "integer", minimum: 1 },
  },
  RateLimit: {
    description: 'The bucket that ran out, e.g. `"key";r=0;t=10` (draft-ietf-httpapi-ratelimit-headers).',
    required: true,
    schema: { type: "string" },
  },
  "RateLimit-Policy": {
    description: 'Its size and refill window, e.g. `"key";q=60;w=30`.',
    required: true,
    schema: { type: "string" },
  },
};

/**
 * Failures any request can meet before or around its operation: a malformed or oversized body is
 * refused before routing, every caller has a request budget, and anything can fail on our side.
 */
function sharedErrorResponses(): ZodOpenApiResponsesObject {
  return {
    "400": problem("The request is not valid; `errors` names every bad field."),
    "413": problem("The body is too large."),
    "429": {
      ...problem(
        "Too many requests: the API key's, the user's or (without valid credentials) the address's budget is spent. Wait `Retry-After` seconds.",
      ),
      headers: rateLimitHeaders,
    },
    "500": problem("Something failed on our side; it has been logged with the `requestId`."),
  };
}

/** Failures any operation of its kind can answer with, besides its own successes. */
function errorResponses(route: RouteDefinition): ZodOpenApiResponsesObject {
  const responses: ZodOpenApiResponsesObject = {
    ...sharedErrorResponses(),
    "401": problem("Missing or invalid credentials."),
  };
  if (route.permission) {
    responses["403"] = problem(
      "Your role or the key's scopes do not allow this, a plan limit was reached, or the tenant is suspended (code `tenant_suspended`) or its account is being closed (code `tenant_closing`).",
    );
    responses["404"] = problem("Not found, or not yours: both answer the same.");
  }
  if (route.method !== "get" && route.method !== "delete") {
    responses["409"] = problem("Conflicts with the current state.");
  }
  return responses;
}

function operation(route: RouteDefinition): ZodOpenApiOperationObject {
  const responses: ZodOpenApiResponsesObject = errorResponses(route);
  for (const [status, spec] of Object.entries(route.responses)) {
    // A route lists its own failures (e.g. 409) with a description; their body is a problem.
    responses[status as `${1 | 2 | 3 | 4 | 5}${string}`] =
      Number(status) >= 400
        ? problem(spec.description)
        : {
            description: spec.description,
            ...(spec.schema ? { content: { [spec.contentType ?? "application/json"]: { schema: spec.schema } } } : {}),
          };
  }
  const requestParams: NonNullable<ZodOpenApiOperationObject["requestParams"]> = {};
  if (route.params) requestParams.path = route.params;
  if (route.query) requestParams.query = route.query;
  if (route.headers) requestParams.header = route.headers;
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [route.tag],
    security: route.auth === "user" ? [{ firebaseIdToken: [] }] : [{ firebaseIdToken: [] }, { apiKey: [] }],
    requestParams,
    ...(route.body ? { requestBody: { required: true, content: { "application/json": { schema: route.body } } } } : {}),
    ...(route.rawBody
      ? { requestBody: { required: true, content: { [route.rawBody.contentType]: { schema: route.rawBody.schema } } } }
      : {}),
    responses,
  };
}

/** The OpenAPI 3.1 description of the API, generated from the routes' own schemas. */
export function buildOpenApiDocument(
  routes: readonly RouteDefinition[],
  version: string,
): ReturnType<typeof createDocument> {
  const paths: ZodOpenApiPathsObject = {
    "/healthz": {
      get: {
        operationId: "health",
        summary: "Liveness and Firestore reachability",
        tags: ["Health"],
        security: [],
        responses: {
          ...sharedErrorResponses(),
          "200": { description: "Healthy", content: { "application/json": { schema: healthSchema } } },
          "503": {
            description: "Firestore does not answer",
            content: { "application/json": { schema: healthSchema } },
          },
        },
      },
    },
    "/openapi.json": {
      get: {
        operationId: "openApiDocument",
        summary: "This document",
        tags: ["Health"],
        security: [],
        responses: {
          ...sharedErrorResponses(),
          "200": {
            description: "The OpenAPI 3.1 document",
            content: { "application/json": { schema: z.record(z.string(), z.unknown()) } },
          },
        },
      },
    },
  };
  for (const route of routes) {
    const item = paths[route.path] ?? {};
    item[route.method] = operation(route);
    paths[route.path] = item;
  }
  return createDocument({
    openapi: "3.1.0",
    info: {
      title: "WhatsDeX tenant API",
      version,
      description: [
        "Manage tenants, members, WhatsApp bots and API keys. Errors are RFC 9457 problem details with a stable `code`.",
        "",
        "Every API key, every user (per tenant) and every address without valid credentials has a request budget",
        "(a token bucket sized by the tenant's plan). Answers carry `RateLimit` and `RateLimit-Policy`",
        "(draft-ietf-httpapi-ratelimit-headers); past the budget the answer is 429 with `Retry-After`.",
        "Budgets are kept per server instance, so they are approximate.",
      ].join("\n"),
    },
    servers: [{ url: "/v1", description: "Relative to the api function's URL" }],
    paths,
    // What we send to a tenant's endpoints (docs/webhooks.md), one entry per event type.
    webhooks: webhookDefinitions(),
    components: {
      securitySchemes: {
        firebaseIdToken: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description: "A Firebase Auth ID token of a signed-in dashboard user.",
        },
        apiKey: {
          type: "apiKey",
          in: "header",
          name: "X-Api-Key",
          description: "A tenant API key; scoped to its tenant and to its scopes.",
        },
      },
    },
  });
}
