import { z } from "zod";
import { timestampSchema } from "../firestore/timestamps.ts";

/**
 * The steps of an account closing, in order. Each one is safe to run again (a crash, or two runs
 * at once, repeats a step rather than skipping one), and the record only moves forward.
 */
export const closingPhases = ["cancel_subscription", "await_logouts", "delete_media", "delete_data", "done"] as const;
export const closingPhaseSchema = z.enum(closingPhases);
export type ClosingPhase = z.output<typeof closingPhaseSchema>;

/**
 * `tenantDeletions/{tenantId}`: an account closing, while it runs and after (server-only: no client
 * reads it). It outlives the tenant on purpose: it is what lets an interrupted closing resume, and
 * afterwards the record that the tenant was deleted, when and at whose request. It keeps ids, never
 * the tenant's data (not even its name).
 */
export const tenantDeletionDocSchema = z.object({
  phase: closingPhaseSchema,
  /** Who asked: `user:{uid}` (only signed-in owners may). */
  requestedBy: z.string().min(1),
  requestedAt: timestampSchema,
  updatedAt: timestampSchema,
  /** The Stripe subscription to cancel, copied from the tenant when the closing was asked for. */
  subscriptionId: z.string().nullable(),
  /**
   * The tenant's Stripe customer: every live subscription of it is cancelled too (one from a checkout
   * whose events had not arrived yet would otherwise keep billing). Defaulted for older records.
   */
  customerId: z.string().nullable().default(null),
  /** The logout queued for each bot, whose outcome `await_logouts` waits for. */
  logouts: z.array(z.object({ botId: z.string().min(1), outboxId: z.string().min(1) })),
  /** After this, the closing goes on without the logouts still unconfirmed. */
  logoutDeadline: timestampSchema,
  /** Bots whose logout was not confirmed by the deadline (WhatsApp may still list their device). */
  unconfirmedBots: z.array(z.string()),
  /** Runs that failed, and the last failure: the sweep retries. */
  failures: z.number().int().min(0),
  lastError: z.object({ phase: closingPhaseSchema, message: z.string(), at: timestampSchema }).nullable(),
  /** Who is running the steps now, until when: a trigger and a sweep never run them at once. */
  claim: z.object({ owner: z.string().min(1), until: timestampSchema }).nullable(),
  doneAt: timestampSchema.nullable(),
});
export type TenantDeletionDoc = z.output<typeof tenantDeletionDocSchema>;
