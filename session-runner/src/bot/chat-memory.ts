import { aiMemoryPath, type BotRef, derivedId, zodConverter } from "@whatsdex/core";
import { type Firestore, Timestamp } from "firebase-admin/firestore";
import { z } from "zod";

const turnSchema = z.object({
  /** The job that asked: an exchange is recorded once however often its job runs. */
  id: z.string().min(1),
  user: z.string(),
  model: z.string(),
});
export type Turn = z.output<typeof turnSchema>;

const memorySchema = z.object({ summary: z.string().nullable(), turns: z.array(turnSchema) });
export type Memory = z.output<typeof memorySchema>;

export interface MemoryLimits {
  /** Exchanges kept word for word when older ones are summarised. */
  keep: number;
  /** Summarise once there are more exchanges than this, or more characters than `compactAfterChars`. */
  compactAfterTurns: number;
  compactAfterChars: number;
  /** Never more than this many exchanges, even if summarising keeps failing (the oldest go). */
  maxTurns: number;
}

export const DEFAULT_MEMORY_LIMITS: MemoryLimits = {
  keep: 4,
  compactAfterTurns: 12,
  compactAfterChars: 12_000,
  maxTurns: 40,
};

const EMPTY: Memory = { summary: null, turns: [] };
const converter = zodConverter(memorySchema);

/**
 * What the AI remembers of each chat: a summary of older exchanges and the latest ones word for
 * word, in `tenants/{t}/bots/{b}/aiMemory/{chat key}` — under the bot, so no other bot (and no other
 * tenant) ever reads it. Written by AI jobs on any instance, so every change is a transaction.
 */
export class ChatMemory {
  readonly #db: Firestore;
  readonly limits: MemoryLimits;

  constructor(db: Firestore, limits: Partial<MemoryLimits> = {}) {
    this.#db = db;
    this.limits = { ...DEFAULT_MEMORY_LIMITS, ...limits };
  }

  /** Reads are parsed (a malformed document fails naming its path and fields); writes add `updatedAt`. */
  #ref(bot: BotRef, chat: string) {
    return this.#db.doc(aiMemoryPath(bot.tenantId, bot.botId, derivedId("chat", chat)));
  }

  async read(bot: BotRef, chat: string): Promise<Memory> {
    return (await this.#ref(bot, chat).withConverter(converter).get()).data() ?? EMPTY;
  }

  /** Records one exchange (once per id); returns the memory as it now is. */
  async append(bot: BotRef, chat: string, turn: Turn): Promise<Memory> {
    const ref = this.#ref(bot, chat);
    return this.#db.runTransaction(async (tx) => {
      const current = (await tx.get(ref.withConverter(converter))).data() ?? EMPTY;
      if (current.turns.some((t) => t.id === turn.id)) return current;
      const next = { summary: current.summary, turns: [...current.turns, turn].slice(-this.limits.maxTurns) };
      tx.set(ref, { ...next, updatedAt: Timestamp.now() });
      return next;
    });
  }

  needsCompaction(memory: Memory): boolean {
    const chars = memory.turns.reduce((sum, t) => sum + t.user.length + t.model.length, 0);
    return (
      memory.turns.length > this.limits.keep &&
      (memory.turns.length > this.limits.compactAfterTurns || chars > this.limits.compactAfterChars)
    );
  }

  /** The exchanges a compaction would summarise (all but the latest `keep`). */
  olderTurns(memory: Memory): Turn[] {
    return memory.turns.slice(0, Math.max(0, memory.turns.length - this.limits.keep));
  }

  /**
   * Replaces the summarised exchanges with `summary`. Exchanges recorded meanwhile stay; if the chat
   * was cleared meanwhile, nothing is written.
   */
  async compact(bot: BotRef, chat: string, summarised: readonly Turn[], summary: string): Promise<boolean> {
    const ref = this.#ref(bot, chat);
    const ids = new Set(summarised.map((t) => t.id));
    return this.#db.runTransaction(async (tx) => {
      const current = (await tx.get(ref.withConverter(converter))).data();
      if (!current?.turns.some((t) => ids.has(t.id))) return false;
      tx.set(ref, { summary, turns: current.turns.filter((t) => !ids.has(t.id)), updatedAt: Timestamp.now() });
      return true;
    });
  }

  async clear(bot: BotRef, chat: string): Promise<boolean> {
    const ref = this.#ref(bot, chat);
    const existed = (await ref.get()).exists;
    await ref.delete();
    return existed;
  }
}
