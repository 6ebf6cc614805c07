import { resourceIdSchema } from "@whatsdex/core";
import { z } from "zod";
import { auditContext } from "../audit/context.ts";
import { defineRoute } from "../http/route.ts";
import { pageOf, pageQuery, tenantParams } from "../http/schemas.ts";
import { memberSchema, toMember } from "../members/dto.ts";
import { invitationSchema, toInvitation } from "./dto.ts";

const invitationParams = tenantParams.extend({ invitationId: resourceIdSchema });

/**
 * Invitations are made by `POST /tenants/{t}/members` with an email (members routes); owners and
 * admins list and revoke them here, and the invitee accepts one signed in with the invited address
 * verified (ADR 15).
 */
export const invitationRoutes = [
  defineRoute({
    method: "get",
    path: "/tenants/{tenantId}/invitations",
    operationId: "listInvitations",
    summary: "List invitations, newest first (owners and admins)",
    tag: "Members",
    auth: "user",
    permission: "members:write",
    params: tenantParams,
    query: pageQuery,
    responses: { 200: { description: "A page of invitations", schema: pageOf(invitationSchema) } },
    async handle({ params, query, services }) {
      const page = await services.invitations.list(params.tenantId, query);
      return {
        status: 200,
        body: {
          items: page.items.map((i) => toInvitation(params.tenantId, i.id, i.data)),
          nextCursor: page.nextCursor,
        },
      };
    },
  }),
  defineRoute({
    method: "delete",
    path: "/tenants/{tenantId}/invitations/{invitationId}",
    operationId: "revokeInvitation",
    summary: "Revoke a pending invitation",
    tag: "Members",
    auth: "user",
    permission: "members:write",
    params: invitationParams,
    responses: {
      200: { description: "The revoked invitation", schema: invitationSchema },
      409: { description: "The invitation was accepted or revoked already" },
    },
    async handle(context) {
      const { access, params, services } = context;
      const invitation = await services.invitations.revoke(access, params.invitationId, auditContext(context));
      return { status: 200, body: toInvitation(params.tenantId, params.invitationId, invitation) };
    },
  }),
  defineRoute({
    method: "post",
    path: "/invitations/{invitationId}/accept",
    operationId: "acceptInvitation",
    summary: "Accept an invitation, signed in with the invited email address verified",
    description:
      "The caller's Firebase account must have verified the invited address. Accepting makes the caller a member with the invitation's role.",
    tag: "Members",
    auth: "user",
    params: z.strictObject({ invitationId: resourceIdSchema }),
    responses: {
      201: { description: "Accepted: the caller's membership", schema: memberSchema },
      403: { description: "The account's email is not verified, or is not the invited address" },
      404: { description: "No such invitation" },
    },
    async handle({ principal, params, services, requestId }) {
      const { tenantId, member } = await services.invitations.accept(principal, params.invitationId, requestId);
      return { status: 201, body: toMember(member), headers: { Location: `/v1/tenants/${tenantId}` } };
    },
  }),
];
