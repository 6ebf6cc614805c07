import { type ApiKeyDoc, apiKeyScopeSchema, resourceIdSchema, toIso, toIsoOrNull } from "@whatsdex/core";
import { z } from "zod";
import { auditContext } from "../audit/context.ts";
import { defineRoute } from "../http/route.ts";
import { isoDateTime, pageOf, pageQuery, tenantParams } from "../http/schemas.ts";

export const apiKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string().meta({ description: "The start of the key, to tell keys apart." }),
    scopes: z.array(apiKeyScopeSchema),
    createdBy: z.string().meta({
      description:
        "Who made it (`user:<uid>`). Removing that member, or lowering their role below what the key's scopes need, revokes it.",
    }),
    createdAt: isoDateTime,
    lastUsedAt: isoDateTime.nullable(),
    revokedAt: isoDateTime.nullable(),
  })
  .meta({ id: "ApiKey" });

const createdApiKeySchema = apiKeySchema
  .extend({ key: z.string().meta({ description: "The key itself. Shown only in this response: store it now." }) })
  .meta({ id: "CreatedApiKey" });

function toApiKey(id: string, key: ApiKeyDoc): z.output<typeof apiKeySchema> {
  return {
    id,
    name: key.name,
    prefix: key.prefix,
    scopes: key.scopes,
    createdBy: key.createdBy,
    createdAt: toIso(key.createdAt),
    lastUsedAt: toIsoOrNull(key.lastUsedAt),
    revokedAt: toIsoOrNull(key.revokedAt),
  };
}

/** Keys are managed by signed-in owners and admins only: a key can never mint or revoke keys. */
export const apiKeyRoutes = [
  defineRoute({
    method: "get",
    path: "/tenants/{tenantId}/api-keys",
    operationId: "listApiKeys",
    summary: "List API keys (never their secrets)",
    tag: "API keys",
    auth: "user",
    permission: "apiKeys:manage",
    params: tenantParams,
    query: pageQuery,
    responses: { 200: { description: "A page of API keys", schema: pageOf(apiKeySchema) } },
    async handle({ params, query, services }) {
      const page = await services.apiKeys.list(params.tenantId, query);
      return {
        status: 200,
        body: { items: page.items.map((k) => toApiKey(k.id, k.data)), nextCursor: page.nextCursor },
      };
    },
  }),
  defineRoute({
    method: "post",
    path: "/tenants/{tenantId}/api-keys",
    operationId: "createApiKey",
    summary: "Create an API key; the response is the only time the key is shown",
    tag: "API keys",
    auth: "user",
    permission: "apiKeys:manage",
    params: tenantParams,
    body: z.strictObject({
      name: z.string().trim().min(1).max(100),
      scopes: z.array(apiKeyScopeSchema).min(1).max(4),
    }),
    responses: { 201: { description: "Created", schema: createdApiKeySchema } },
    async handle(context) {
      const { access, body, services } = context;
      const { id, key, apiKey } = await services.apiKeys.create(access, body, auditContext(context));
      return { status: 201, body: { ...toApiKey(id, apiKey), key }, headers: { "Cache-Control": "no-store" } };
    },
  }),
  defineRoute({
    method: "delete",
    path: "/tenants/{tenantId}/api-keys/{keyId}",
    operationId: "revokeApiKey",
    summary: "Revoke an API key (for good)",
    tag: "API keys",
    auth: "user",
    permission: "apiKeys:manage",
    params: tenantParams.extend({ keyId: resourceIdSchema }),
    responses: { 204: { description: "Revoked" } },
    async handle(context) {
      const { access, params, services } = context;
      await services.apiKeys.revoke(access, params.keyId, auditContext(context));
      return { status: 204 };
    },
  }),
];
