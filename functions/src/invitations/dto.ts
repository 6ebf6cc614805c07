import { type InvitationDoc, invitationState, roleSchema, toIso } from "@whatsdex/core";
import { z } from "zod";
import { isoDateTime } from "../http/schemas.ts";

export const invitationSchema = z
  .object({
    id: z.string(),
    tenantId: z.string(),
    email: z.string(),
    role: roleSchema,
    status: z.enum(["pending", "accepted", "revoked", "expired"]),
    invitedBy: z.string(),
    createdAt: isoDateTime,
    expiresAt: isoDateTime,
  })
  .meta({
    id: "Invitation",
    description:
      "A role offered to whoever signs in with `email` verified and accepts it (POST /v1/invitations/{id}/accept).",
  });

export function toInvitation(
  tenantId: string,
  id: string,
  invitation: InvitationDoc,
): z.output<typeof invitationSchema> {
  return {
    id,
    tenantId,
    email: invitation.email,
    role: invitation.role,
    status: invitationState(invitation),
    invitedBy: invitation.invitedBy,
    createdAt: toIso(invitation.createdAt),
    expiresAt: toIso(invitation.expiresAt),
  };
}
