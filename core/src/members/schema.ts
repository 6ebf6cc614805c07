import { z } from "zod";
import { roleSchema } from "../access/roles.ts";
import { timestampSchema } from "../firestore/timestamps.ts";

/** `tenants/{tenantId}/members/{uid}`; `uid` is repeated in the document for collection-group queries. */
export const memberDocSchema = z.object({
  uid: z.string().min(1),
  role: roleSchema,
  email: z.string().nullable(),
  addedBy: z.string().min(1),
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
});
export type MemberDoc = z.output<typeof memberDocSchema>;
