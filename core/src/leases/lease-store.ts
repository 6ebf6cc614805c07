import { type DocumentReference, type Firestore, Timestamp, type Transaction } from "firebase-admin/firestore";
import { z } from "zod";
import { zodConverter } from "../firestore/converter.ts";
import { leasePath } from "../firestore/paths.ts";
import { timestampSchema } from "../firestore/timestamps.ts";

/**
 * `tenants/{t}/bots/{b}/lease/current`. `generation` only ever grows, across owners and releases:
 * it is the fencing token every write of the session checks, so a deposed owner (paused, partitioned,
 * or slow to notice) can never write again, even if it still believes it holds the lease.
 */
export const leaseDocSchema = z.object({
  owner: z.string().nullable(),
  generation: z.number().int().min(0),
  expiresAt: timestampSchema,
  acquiredAt: timestampSchema.nullable(),
});
export type LeaseDoc = z.output<typeof leaseDocSchema>;

const converter = zodConverter(leaseDocSchema);

export interface BotRef {
  tenantId: string;
  botId: string;
}

/** What an owner holds: the bot, and the generation its writes are fenced with. */
export interface HeldLease extends BotRef {
  owner: string;
  generation: number;
  expiresAt: Date;
}

export type AcquireResult =
  | { kind: "acquired"; lease: HeldLease }
  /** Another owner holds it; it cannot be taken before `until` (its expiry plus the takeover grace). */
  | { kind: "held"; owner: string; until: Date };

export class LeaseLostError extends Error {
  constructor(lease: BotRef & { generation: number }, reason: string) {
    super(`Lease on ${lease.tenantId}/${lease.botId} (generation ${lease.generation}) is lost: ${reason}`);
    this.name = "LeaseLostError";
  }
}

export interface LeaseStoreOptions {
  ttlMs: number;
  /**
   * How long past its expiry a lease stays untouchable by others, covering clock skew between
   * instances (the holder also lets go before expiry, see the session-runner's supervisor).
   */
  takeoverGraceMs?: number;
  now?: () => number;
}

export class LeaseStore {
  readonly #db: Firestore;
  readonly #ttlMs: number;
  readonly #graceMs: number;
  readonly #now: () => number;

  constructor(db: Firestore, options: LeaseStoreOptions) {
    this.#db = db;
    this.#ttlMs = options.ttlMs;
    this.#graceMs = options.takeoverGraceMs ?? 0;
    this.#now = options.now ?? Date.now;
  }

  get ttlMs(): number {
    return this.#ttlMs;
  }

  #heldByOther(current: LeaseDoc | undefined, owner: string, now: number): boolean {
    return Boolean(current?.owner && current.owner !== owner && current.expiresAt.toMillis() + this.#graceMs > now);
  }

  ref(bot: BotRef): DocumentReference<LeaseDoc> {
    return this.#db.doc(leasePath(bot.tenantId, bot.botId)).withConverter(converter);
  }

  /**
   * Takes the lease if it is free, expired, or already ours; undefined when another owner holds it.
   * A new holder gets the next generation.
   */
  async acquire(bot: BotRef, owner: string): Promise<HeldLease | undefined> {
    const attempt = await this.tryAcquire(bot, owner);
    return attempt.kind === "acquired" ? attempt.lease : undefined;
  }

  /**
   * As `acquire`, but a refusal says until when the other owner's lease protects it, so a caller
   * polling many bots can leave this one alone until then.
   */
  async tryAcquire(bot: BotRef, owner: string): Promise<AcquireResult> {
    const ref = this.ref(bot);
    // A plain read first: polling a held lease must not take transaction locks that delay the
    // holder's own renewals.
    const seen = (await ref.get()).data();
    if (seen && this.#heldByOther(seen, owner, this.#now())) return this.#held(seen);
    return this.#db.runTransaction(async (tx): Promise<AcquireResult> => {
      const current = (await tx.get(ref)).data();
      const now = this.#now();
      if (current && this.#heldByOther(current, owner, now)) return this.#held(current);
      const generation =
        current?.owner === owner && current.expiresAt.toMillis() > now
          ? current.generation
          : (current?.generation ?? 0) + 1;
      const expiresAt = Timestamp.fromMillis(now + this.#ttlMs);
      tx.set(ref, { owner, generation, expiresAt, acquiredAt: Timestamp.fromMillis(now) });
      return { kind: "acquired", lease: { ...bot, owner, generation, expiresAt: expiresAt.toDate() } };
    });
  }

  #held(current: LeaseDoc): AcquireResult {
    return {
      kind: "held",
      owner: current.owner ?? "",
      until: new Date(current.expiresAt.toMillis() + this.#graceMs),
    };
  }

  /** Extends a held lease, or throws LeaseLostError if it is no longer ours at this generation. */
  async renew(lease: HeldLease): Promise<HeldLease> {
    const ref = this.ref(lease);
    return this.#db.runTransaction(async (tx) => {
      await this.#assertHeldIn(tx, lease);
      const expiresAt = Timestamp.fromMillis(this.#now() + this.#ttlMs);
      tx.update(ref, { expiresAt });
      return { ...lease, expiresAt: expiresAt.toDate() };
    });
  }

  /**
   * Gives the lease up (keeping the generation, which must never repeat). Not ours: nothing to do.
   * `alongside` runs in the same transaction, for a change that must become visible exactly when the
   * lease is free.
   */
  async release(lease: HeldLease, alongside?: (tx: Transaction) => Promise<void>): Promise<void> {
    const ref = this.ref(lease);
    await this.#db.runTransaction(async (tx) => {
      const current = (await tx.get(ref)).data();
      if (current?.owner !== lease.owner || current.generation !== lease.generation) return;
      // Reads and writes of its own, committed with the release or not at all (reads come first).
      await alongside?.(tx);
      tx.set(ref, {
        owner: null,
        generation: current.generation,
        expiresAt: Timestamp.fromMillis(0),
        acquiredAt: null,
      });
    });
  }

  /**
   * Inside a caller's transaction: fails it unless `lease` is still the current owner and
   * generation. Reading the lease document in the transaction also makes a concurrent takeover
   * conflict with the write, so the two are ordered and the loser retries and sees the new owner.
   */
  async assertHeld(tx: Transaction, lease: HeldLease): Promise<void> {
    await this.#assertHeldIn(tx, lease);
  }

  async #assertHeldIn(tx: Transaction, lease: HeldLease): Promise<void> {
    const current = (await tx.get(this.ref(lease))).data();
    if (!current) throw new LeaseLostError(lease, "the lease document is gone");
    if (current.owner !== lease.owner) throw new LeaseLostError(lease, `now owned by ${current.owner ?? "nobody"}`);
    if (current.generation !== lease.generation) {
      throw new LeaseLostError(lease, `generation is now ${current.generation}`);
    }
  }
}

/** Fails the transaction it is given unless the holder still owns the bot (see LeaseStore.assertHeld). */
export interface WriteFence {
  assertHeld(tx: Transaction): Promise<void>;
}

export function leaseFence(store: LeaseStore, lease: HeldLease): WriteFence {
  return { assertHeld: (tx) => store.assertHeld(tx, lease) };
}
