import type { ZodOpenApiOperationObject, ZodOpenApiPathsObject, ZodOpenApiResponsesObject } from "zod-openapi";
import { createDocument } from "zod-openapi";
import type { RouteDefinition } from "../http/route.ts";
import { problemSchema } from "../http/schemas.ts";

/** Failures any operation of its kind can answer with, besides its own successes. */
function errorResponses(route: RouteDefinition): ZodOpenApiResponsesObject {
  const problem = (description: string) => ({
    description,
    content: { "application/problem+json": { schema: problemSchema } },
  });
  const responses: ZodOpenApiResponsesObject = {
    "400": problem("The request is not valid; `errors` names every bad field."),
    "401": problem("Missing or invalid credentials."),
  };
  if (route.permission) {
    responses["403"] = problem("Your role or the key's scopes do not allow this, or a plan limit was reached.");
    responses["404"] = problem("Not found, or not yours: both answer the same.");
  }
  if (route.method !== "get" && route.method !== "delete") {
    responses["409"] = problem("Conflicts with the current state.");
    responses["413"] = problem("The body is too large.");
  }
  return responses;
}

function operation(route: RouteDefinition): ZodOpenApiOperationObject {
  const responses: ZodOpenApiResponsesObject = errorResponses(route);
  for (const [status, spec] of Object.entries(route.responses)) {
    responses[status as `2${string}`] = {
      description: spec.description,
      ...(spec.schema ? { content: { "application/json": { schema: spec.schema } } } : {}),
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
        responses: { "200": { description: "Healthy" }, "503": { description: "Firestore does not answer" } },
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
      description:
        "Manage tenants, members, WhatsApp bots and API keys. Errors are RFC 9457 problem details with a stable `code`.",
    },
    servers: [{ url: "/v1", description: "Relative to the api function's URL" }],
    paths,
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
