import { pageLimitSchema, resourceIdSchema } from "@whatsdex/core";
import { z } from "zod";

/** Schemas several resources share; each also documents itself in the OpenAPI output. */
export const tenantParams = z.strictObject({ tenantId: resourceIdSchema });

export const pageQuery = z.strictObject({
  limit: pageLimitSchema.meta({ description: "Items per page, 1-100 (default 20)." }),
  cursor: z.string().min(1).max(500).optional().meta({ description: "`nextCursor` of the previous page." }),
});

export const isoDateTime = z.iso.datetime();

export function pageOf<S extends z.ZodType>(item: S) {
  return z.object({
    items: z.array(item),
    nextCursor: z.string().nullable().meta({ description: "Pass as `cursor` for the next page; null on the last." }),
  });
}

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string().meta({ description: "Stable, machine-readable error code." }),
    instance: z.string().optional(),
    requestId: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    details: z
      .record(z.string(), z.unknown())
      .optional()
      .meta({ description: "Facts about the refusal, e.g. a limit." }),
  })
  .meta({ id: "Problem", description: "RFC 9457 problem details." });
