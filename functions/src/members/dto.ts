import { type MemberDoc, roleSchema, toIso } from "@whatsdex/core";
import { z } from "zod";
import { isoDateTime } from "../http/schemas.ts";

export const memberSchema = z
  .object({
    uid: z.string(),
    email: z.string().nullable().meta({ description: "Only a verified address; null when none is known." }),
    role: roleSchema,
    createdAt: isoDateTime,
    updatedAt: isoDateTime,
  })
  .meta({ id: "Member" });

export function toMember(member: MemberDoc): z.output<typeof memberSchema> {
  return {
    uid: member.uid,
    email: member.email,
    role: member.role,
    createdAt: toIso(member.createdAt),
    updatedAt: toIso(member.updatedAt),
  };
}
