import type { DocumentReference, Firestore, Transaction } from "firebase-admin/firestore";
import { parseOrThrow } from "../../errors/zod-issues.ts";
import { zodConverter } from "../../firestore/converter.ts";
import { governorPath } from "../../firestore/paths.ts";
import type { BotRef, WriteFence } from "../../leases/lease-store.ts";
import {
  afterOutcome,
  afterResume,
  afterSignal,
  decide,
  type PacingDecision,
  type PacingRequest,
  type SendOutcome,
} from "./governor.ts";
import { type GovernorState, governorStateSchema, initialGovernorState } from "./governor-state.ts";
import type { PacingProfile } from "./profile.ts";
import type { Random } from "./random.ts";
import { type WhatsAppSignal, whatsAppSignalSchema } from "./signals.ts";

const converter = zodConverter(governorStateSchema);

export interface GovernorStoreOptions {
  now?: () => number;
  /** Gap and pause jitter; seeded in tests. */
  random?: Random;
}

/** One bot's governor, as its owning runner (and the campaign driver in it) uses it. */
export interface BotGovernor {
  /** May a campaign send go out now? A `send` is counted at once (a crash after it never frees the slot). */
  next(request: Omit<PacingRequest, "now">, profile: PacingProfile): Promise<PacingDecision>;
  /** What became of an allowed send. */
  recorded(outcome: SendOutcome, profile: PacingProfile): Promise<void>;
  /** One of WhatsApp's signals, from the transport. */
  signal(signal: WhatsAppSignal): Promise<void>;
  /** An owner resumed the bot's campaigns: a latched stop (463, failure breaker) is cleared. */
  resume(): Promise<void>;
  state(): Promise<GovernorState>;
}

/**
 * The governor's state in Firestore (`governorPath`), read and written in one transaction per step,
 * so two sends can never both take the last slot of a window, and a runner that takes the bot over
 * continues from the last committed step. Writes are fenced by the bot's lease when a fence is given:
 * a deposed owner cannot count, or uncount, anything.
 */
export class GovernorStore {
  readonly #db: Firestore;
  readonly #now: () => number;
  readonly #random: Random;

  constructor(db: Firestore, options: GovernorStoreOptions = {}) {
    this.#db = db;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
  }

  ref(bot: BotRef): DocumentReference<GovernorState> {
    return this.#db.doc(governorPath(bot.tenantId, bot.botId)).withConverter(converter);
  }

  async load(bot: BotRef): Promise<GovernorState> {
    return (await this.ref(bot).get()).data() ?? initialGovernorState();
  }

  forBot(bot: BotRef, fence?: WriteFence): BotGovernor {
    const step = <T>(
      apply: (state: GovernorState, now: number) => { state: GovernorState; changed: boolean; result: T },
    ) => this.#step(bot, fence, apply);
    return {
      next: (request, profile) =>
        step((state, now) => {
          const { decision, ...rest } = decide(state, profile, { ...request, now }, this.#random);
          return { ...rest, result: decision };
        }),
      recorded: (outcome, profile) =>
        step((state, now) => ({ ...afterOutcome(state, profile, outcome, now), result: undefined })),
      signal: async (signal) => {
        const parsed = parseOrThrow(whatsAppSignalSchema, signal, "WhatsApp signal");
        return step((state, now) => ({ state: afterSignal(state, parsed, now), changed: true, result: undefined }));
      },
      resume: () => step((state) => ({ state: afterResume(state), changed: true, result: undefined })),
      state: () => this.load(bot),
    };
  }

  async #step<T>(
    bot: BotRef,
    fence: WriteFence | undefined,
    apply: (state: GovernorState, now: number) => { state: GovernorState; changed: boolean; result: T },
  ): Promise<T> {
    const ref = this.ref(bot);
    return this.#db.runTransaction(async (tx: Transaction) => {
      // Reads first (Firestore's rule for transactions): the fence, then the state.
      if (fence) await fence.assertHeld(tx);
      const state = (await tx.get(ref)).data() ?? initialGovernorState();
      const { state: next, changed, result } = apply(state, this.#now());
      if (changed) tx.set(ref, next);
      return result;
    });
  }
}
