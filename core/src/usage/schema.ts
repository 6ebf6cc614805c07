import { z } from "zod";
import { timestampSchema } from "../firestore/timestamps.ts";

const count = z.number().int().min(0).default(0);

/**
 * `tenants/{t}/usage/{YYYY-MM-DD}`: one tenant's counters for one UTC day, against its plan's daily
 * limits. Written with increments (so a field appears the first time it is counted: absent is 0);
 * read by the runner's message allowance, AI jobs and API sends, and shown to the dashboard.
 */
export const usageDocSchema = z.object({
  day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  /** Messages the tenant's bots sent: command replies (in blocks) and API sends. */
  messages: count,
  aiCalls: count,
  aiInputTokens: count,
  aiOutputTokens: count,
  updatedAt: timestampSchema.optional(),
});
export type UsageDoc = z.output<typeof usageDocSchema>;
/** The counters `UsageService` reserves against the plan. */
export type UsageCounter = "messages" | "aiCalls";
