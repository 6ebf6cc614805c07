import { type MemberDoc, resourceIdSchema, roleSchema, toIso } from "@whatsdex/core";
import { z } from "zod";
import { defineRoute } from "../http/route.ts";
import { isoDateTime, pageOf, pageQuery, tenantParams } from "../http/schemas.ts";

export const memberSchema = z
  .object({
    uid: z.string(),
    email: z.string().nullable(),
    role: roleSchema,
    createdAt: isoDateTime,
    updatedAt: isoDateTime,
  })
  .meta({ id: "Member" });

function toMember(member: MemberDoc): z.output<typeof memberSchema> {
  return {
    uid: member.uid,
    email: member.email,
    role: member.role,
    createdAt: toIso(member.createdAt),
    updatedAt: toIso(member.updatedAt),
  };
}

const memberParams = tenantParams.extend({ uid: resourceIdSchema });
const addMemberBody = z.union([
  z.strictObject({ email: z.email(), role: roleSchema }),
  z.strictObject({ uid: resourceIdSchema, role: roleSchema }),
]);

export const memberRoutes = [
  defineRoute({
    method: "get",
    path: "/tenants/{tenantId}/members",
    operationId: "listMembers",
    summary: "List the tenant's members",
    tag: "Members",
    auth: "user-or-api-key",
    permission: "members:read",
    params: tenantParams,
    query: pageQuery,
    responses: { 200: { description: "A page of members", schema: pageOf(memberSchema) } },
    async handle({ params, query, services }) {
      const page = await services.members.list(params.tenantId, query);
      return { status: 200, body: { items: page.items.map((m) => toMember(m.data)), nextCursor: page.nextCursor } };
    },
  }),
  defineRoute({
    method: "post",
    path: "/tenants/{tenantId}/members",
    operationId: "addMember",
    summary: "Add a member by email (an existing WhatsDeX account) or uid",
    tag: "Members",
    auth: "user",
    permission: "members:write",
    params: tenantParams,
    body: addMemberBody,
    responses: { 201: { description: "Added", schema: memberSchema } },
    async handle({ access, body, services }) {
      const target = "email" in body ? { email: body.email } : { uid: body.uid };
      return { status: 201, body: toMember(await services.members.add(access, target, body.role)) };
    },
  }),
  defineRoute({
    method: "patch",
    path: "/tenants/{tenantId}/members/{uid}",
    operationId: "changeMemberRole",
    summary: "Change a member's role",
    tag: "Members",
    auth: "user",
    permission: "members:write",
    params: memberParams,
    body: z.strictObject({ role: roleSchema }),
    responses: { 200: { description: "The member", schema: memberSchema } },
    async handle({ access, params, body, services }) {
      return { status: 200, body: toMember(await services.members.changeRole(access, params.uid, body.role)) };
    },
  }),
  defineRoute({
    method: "delete",
    path: "/tenants/{tenantId}/members/{uid}",
    operationId: "removeMember",
    summary: "Remove a member",
    tag: "Members",
    auth: "user",
    permission: "members:write",
    params: memberParams,
    responses: { 204: { description: "Removed" } },
    async handle({ access, params, services }) {
      await services.members.remove(access, params.uid);
      return { status: 204 };
    },
  }),
];
