import { resourceIdSchema, roleSchema } from "@whatsdex/core";
import { z } from "zod";
import { auditContext } from "../audit/context.ts";
import { defineRoute } from "../http/route.ts";
import { pageOf, pageQuery, tenantParams } from "../http/schemas.ts";
import { invitationSchema, toInvitation } from "../invitations/dto.ts";
import { memberSchema, toMember } from "./dto.ts";

export { memberSchema } from "./dto.ts";

const memberParams = tenantParams.extend({ uid: resourceIdSchema });
const addMemberBody = z.union([
  z.strictObject({
    email: z.email().max(320).meta({ description: "Invites this address: nothing is granted until it is accepted." }),
    role: roleSchema,
  }),
  z.strictObject({
    uid: resourceIdSchema.meta({ description: "Adds this existing account at once." }),
    role: roleSchema,
  }),
]);

export const memberRoutes = [
  defineRoute({
    method: "get",
    path: "/tenants/{tenantId}/members",
    operationId: "listMembers",
    summary: "List the tenant's members (owners, admins and admin-scoped keys); a viewer sees only themselves",
    tag: "Members",
    auth: "user-or-api-key",
    permission: "members:read",
    params: tenantParams,
    query: pageQuery,
    responses: { 200: { description: "A page of members", schema: pageOf(memberSchema) } },
    async handle({ access, query, services }) {
      const page = await services.members.list(access, query);
      return { status: 200, body: { items: page.items.map((m) => toMember(m.data)), nextCursor: page.nextCursor } };
    },
  }),
  defineRoute({
    method: "post",
    path: "/tenants/{tenantId}/members",
    operationId: "addMember",
    summary: "Invite someone by email, or add an existing account by uid",
    description:
      "With `email`, an invitation is created (202): the invitee becomes a member only by accepting it while signed in with that address verified. With `uid`, the account is added at once (201).",
    tag: "Members",
    auth: "user",
    permission: "members:write",
    params: tenantParams,
    body: addMemberBody,
    responses: {
      201: { description: "Added (by uid)", schema: memberSchema },
      202: { description: "Invited (by email); pending until accepted", schema: invitationSchema },
    },
    async handle(context) {
      const { access, body, services } = context;
      if ("email" in body) {
        const { id, invitation } = await services.invitations.invite(access, body, auditContext(context));
        return {
          status: 202,
          body: toInvitation(access.tenantId, id, invitation),
          headers: { Location: `/v1/tenants/${access.tenantId}/invitations/${id}` },
        };
      }
      const member = await services.members.addByUid(access, body.uid, body.role, auditContext(context));
      return { status: 201, body: toMember(member) };
    },
  }),
  defineRoute({
    method: "patch",
    path: "/tenants/{tenantId}/members/{uid}",
    operationId: "changeMemberRole",
    summary: "Change a member's role; revokes the API keys they made that the new role could not make",
    tag: "Members",
    auth: "user",
    permission: "members:write",
    params: memberParams,
    body: z.strictObject({ role: roleSchema }),
    responses: { 200: { description: "The member", schema: memberSchema } },
    async handle(context) {
      const { access, params, body, services } = context;
      const member = await services.members.changeRole(access, params.uid, body.role, auditContext(context));
      return { status: 200, body: toMember(member) };
    },
  }),
  defineRoute({
    method: "delete",
    path: "/tenants/{tenantId}/members/{uid}",
    operationId: "removeMember",
    summary: "Remove a member, revoking the API keys they made",
    tag: "Members",
    auth: "user",
    permission: "members:write",
    params: memberParams,
    responses: {
      204: { description: "Removed" },
      409: { description: "The tenant's last owner cannot be removed" },
    },
    async handle(context) {
      const { access, params, services } = context;
      await services.members.remove(access, params.uid, auditContext(context));
      return { status: 204 };
    },
  }),
];
