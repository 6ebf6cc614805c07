import { MAX_FREE_TENANTS_PER_USER, tenantNameSchema } from "@whatsdex/core";
import { z } from "zod";
import { auditContext } from "../audit/context.ts";
import { defineRoute } from "../http/route.ts";
import { pageOf, pageQuery, tenantParams } from "../http/schemas.ts";
import { tenantSchema, tenantWithRoleSchema, toTenant } from "./dto.ts";

const createTenantBody = z.strictObject({ name: tenantNameSchema });
const patchTenantBody = z.strictObject({ name: tenantNameSchema.optional() });

export const tenantRoutes = [
  defineRoute({
    method: "post",
    path: "/tenants",
    operationId: "createTenant",
    summary: "Create a tenant; the caller becomes its owner",
    tag: "Tenants",
    auth: "user",
    body: createTenantBody,
    responses: {
      201: { description: "Created", schema: tenantSchema },
      403: {
        description: `Plan limit reached (code \`plan_limit\`): the caller already created ${MAX_FREE_TENANTS_PER_USER} tenants that are on the Free plan; upgrade one to create another.`,
      },
    },
    async handle({ principal, body, services, requestId }) {
      const { id, tenant } = await services.tenants.create(principal, body, requestId);
      return { status: 201, body: toTenant(id, tenant), headers: { Location: `/v1/tenants/${id}` } };
    },
  }),
  defineRoute({
    method: "get",
    path: "/tenants",
    operationId: "listMyTenants",
    summary: "The tenants the caller is a member of",
    tag: "Tenants",
    auth: "user",
    query: pageQuery,
    responses: { 200: { description: "A page of tenants", schema: pageOf(tenantWithRoleSchema) } },
    async handle({ principal, query, services }) {
      if (principal.kind !== "user") throw new Error("user-only route reached without a user");
      const page = await services.tenants.listForUser(principal.uid, query);
      return {
        status: 200,
        body: {
          items: page.items.map((item) => ({ ...toTenant(item.id, item.tenant), role: item.role })),
          nextCursor: page.nextCursor,
        },
      };
    },
  }),
  defineRoute({
    method: "get",
    path: "/tenants/{tenantId}",
    operationId: "getTenant",
    summary: "Get a tenant",
    tag: "Tenants",
    auth: "user-or-api-key",
    permission: "tenant:read",
    params: tenantParams,
    responses: { 200: { description: "The tenant", schema: tenantSchema } },
    async handle({ params, services }) {
      return { status: 200, body: toTenant(params.tenantId, await services.tenants.get(params.tenantId)) };
    },
  }),
  defineRoute({
    method: "patch",
    path: "/tenants/{tenantId}",
    operationId: "updateTenant",
    summary: "Rename a tenant",
    tag: "Tenants",
    auth: "user-or-api-key",
    permission: "tenant:write",
    params: tenantParams,
    body: patchTenantBody,
    responses: { 200: { description: "The updated tenant", schema: tenantSchema } },
    async handle(context) {
      const { access, params, body, services } = context;
      const tenant = await services.tenants.update(access, body, auditContext(context));
      return { status: 200, body: toTenant(params.tenantId, tenant) };
    },
  }),
];
