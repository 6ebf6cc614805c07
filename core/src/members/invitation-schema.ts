import { z } from "zod";
import { roleSchema } from "../access/roles.ts";
import { timestampSchema } from "../firestore/timestamps.ts";

export const invitationStatusSchema = z.enum(["pending", "accepted", "revoked"]);

/**
 * `tenants/{tenantId}/invitations/{invitationId}`: a role offered to whoever proves, by signing in
 * with a verified address, that they own `email`. Nothing is granted until then (ADR 15).
 */
export const invitationDocSchema = z.object({
  /** The document's own id, repeated for the collection-group lookup of `POST /invitations/{id}/accept`. */
  invitationId: z.string().min(1),
  /** Lowercased: addresses are compared case-insensitively. */
  email: z.string().min(3).max(320),
  role: roleSchema,
  /** Principal id of the inviter (`user:<uid>`); the invitation lapses if they can no longer grant `role`. */
  invitedBy: z.string().min(1),
  status: invitationStatusSchema,
  acceptedBy: z.string().nullable(),
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
  expiresAt: timestampSchema,
});
export type InvitationDoc = z.output<typeof invitationDocSchema>;
