import { toIso } from "@whatsdex/core";
import type { DeadLetter } from "@whatsdex/core/jobs";
import { z } from "zod";
import { defineRoute } from "../http/route.ts";
import { isoDateTime, pageOf, pageQuery, tenantParams } from "../http/schemas.ts";

export const deadLetterSchema = z
  .object({
    id: z.string(),
    queue: z.string().meta({ description: "media, ai or webhooks" }),
    jobId: z.string(),
    name: z.string().meta({ description: "The job, e.g. media.sticker" }),
    data: z.unknown().meta({ description: "The job's payload as it was added" }),
    error: z.object({
      code: z.string().meta({ description: "attempts_exhausted, unrecoverable, invalid_payload or unknown_job" }),
      message: z.string(),
    }),
    attemptsMade: z.number().int(),
    enqueuedAt: isoDateTime,
    failedAt: isoDateTime,
  })
  .meta({ id: "DeadLetter" });

function toDeadLetter(id: string, letter: DeadLetter): z.output<typeof deadLetterSchema> {
  return {
    id,
    queue: letter.queue,
    jobId: letter.jobId,
    name: letter.name,
    data: letter.data,
    error: letter.error,
    attemptsMade: letter.attemptsMade,
    enqueuedAt: toIso(letter.enqueuedAt),
    failedAt: toIso(letter.failedAt),
  };
}

export const jobRoutes = [
  defineRoute({
    method: "get",
    path: "/tenants/{tenantId}/dead-letters",
    operationId: "listDeadLetters",
    summary: "Jobs that failed for good (a sticker that could not be made, an AI answer that kept failing)",
    tag: "Jobs",
    auth: "user-or-api-key",
    permission: "jobs:read",
    params: tenantParams,
    query: pageQuery,
    responses: { 200: { description: "A page of dead letters, newest first", schema: pageOf(deadLetterSchema) } },
    async handle({ params, query, services }) {
      const page = await services.deadLetters.list(params.tenantId, query);
      return {
        status: 200,
        body: { items: page.items.map((d) => toDeadLetter(d.id, d.data)), nextCursor: page.nextCursor },
      };
    },
  }),
];
