import { z } from "zod";
import { cappingStatuses } from "./profile.ts";

const ms = z.number().int().min(0);

/** Why the governor stopped a bot's campaigns: a person must look (and resume) before any more go out. */
export const stopReasons = ["whatsapp_refused_463", "capping", "failure_breaker"] as const;
export type StopReason = (typeof stopReasons)[number];

/**
 * `tenants/{t}/bots/{b}/governor/current`: the pacing governor's memory of one bot, what a runner
 * taking the bot over continues from. Times are epoch milliseconds (arithmetic on them is the whole
 * point of this document); it is written only by the bot's owning runner, in transactions.
 */
export const governorStateSchema = z.object({
  /** When warm-up started: the number's linking if the runner saw it, else the governor's first use. */
  linkedAt: ms.nullable(),
  /** Campaign sends in the last hour, oldest first: the exact minute and hour windows. */
  recent: z.array(ms).max(5_000),
  /**
   * Campaign sends per hour bucket (the bucket's start), the last 25 kept: a 24-hour window counted
   * over whole buckets, so it can over-count a little but never under-count.
   */
  hours: z.array(z.object({ hour: ms, sent: z.number().int().min(0), neverWrote: z.number().int().min(0) })).max(25),
  /** Earliest next send: the last send's typing time plus its Gaussian gap. */
  nextSendAt: ms,
  /** Sends since the last batch pause, and the pause now running. */
  batchCount: z.number().int().min(0),
  pauseUntil: ms,
  /** Failed sends within the profile's failure window, oldest first. */
  failures: z.array(z.object({ at: ms, code: z.string().max(100) })).max(1_000),
  /** WhatsApp's own signals, as the transport last reported them. */
  signals: z.object({
    capping: z
      .object({
        status: z.enum(cappingStatuses),
        used: z.number().int().min(0).nullable(),
        total: z.number().int().min(0).nullable(),
        cycleEndsAt: ms.nullable(),
        at: ms,
      })
      .nullable(),
    reachoutLock: z
      .object({ active: z.boolean(), endsAt: ms.nullable(), type: z.string().max(100).nullable(), at: ms })
      .nullable(),
    last463At: ms.nullable(),
  }),
  /** Set by a stop signal; cleared only by `resume` (an owner resuming the campaign). */
  stopped: z.object({ reason: z.enum(stopReasons), detail: z.string().max(500), at: ms }).nullable(),
});
export type GovernorState = z.output<typeof governorStateSchema>;

export function initialGovernorState(): GovernorState {
  return {
    linkedAt: null,
    recent: [],
    hours: [],
    nextSendAt: 0,
    batchCount: 0,
    pauseUntil: 0,
    failures: [],
    signals: { capping: null, reachoutLock: null, last463At: null },
    stopped: null,
  };
}
