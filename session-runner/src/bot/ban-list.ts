import { AuditLog, type BotRef, banPath, bansCollectionPath, type WriteFence } from "@whatsdex/core";
import { type Firestore, Timestamp, type Transaction } from "firebase-admin/firestore";
import { z } from "zod";
import type { Bans } from "../commands/command.ts";
import { idsOf, type Person } from "../identity/person.ts";

const banDocSchema = z.object({
  lid: z.string().nullable(),
  pn: z.string().nullable(),
  bannedBy: z.string(),
  createdAt: z.instanceof(Timestamp),
});

/**
 * The WhatsApp users one bot ignores (`bots/{b}/bans/{personId}`), loaded when its owner instance
 * claims the bot and checked in memory on every message; bans and unbans are fenced writes, each
 * audited in its own transaction with the owner who made it (by person id) as the actor.
 */
export class BanList implements Bans {
  readonly #db: Firestore;
  readonly #bot: BotRef;
  readonly #fence: WriteFence;
  readonly #banned = new Set<string>();
  readonly #audit: AuditLog;

  constructor(db: Firestore, bot: BotRef, fence: WriteFence) {
    this.#db = db;
    this.#bot = bot;
    this.#fence = fence;
    this.#audit = new AuditLog(db);
  }

  async load(): Promise<void> {
    const snapshot = await this.#db.collection(bansCollectionPath(this.#bot.tenantId, this.#bot.botId)).get();
    this.#banned.clear();
    for (const doc of snapshot.docs) {
      const ban = banDocSchema.safeParse(doc.data());
      // A malformed ban still bans: its id is the person.
      this.#banned.add(doc.id);
      if (ban.success) for (const id of idsOf({ id: doc.id, lid: ban.data.lid, pn: ban.data.pn })) this.#banned.add(id);
    }
  }

  has(person: Pick<Person, "lid" | "pn" | "id">): boolean {
    // Asked on every command; most bots ban nobody.
    return this.#banned.size > 0 && idsOf(person).some((id) => this.#banned.has(id));
  }

  get size(): number {
    return this.#banned.size;
  }

  /** False when they were banned already. `bannedBy` is the owner's person id. */
  async ban(person: Person, bannedBy: string): Promise<boolean> {
    if (this.has(person)) return false;
    const ref = this.#db.doc(banPath(this.#bot.tenantId, this.#bot.botId, person.id));
    await this.#db.runTransaction(async (tx) => {
      await this.#fence.assertHeld(tx);
      tx.set(ref, { lid: person.lid, pn: person.pn, bannedBy, createdAt: Timestamp.now() });
      this.#record(tx, "person.banned", person, bannedBy);
    });
    for (const id of idsOf(person)) this.#banned.add(id);
    return true;
  }

  /** False when they were not banned. Removes the ban under every id the person is known by. */
  async unban(person: Person, unbannedBy: string): Promise<boolean> {
    if (!this.has(person)) return false;
    const ids = idsOf(person);
    await this.#db.runTransaction(async (tx) => {
      await this.#fence.assertHeld(tx);
      for (const id of ids) tx.delete(this.#db.doc(banPath(this.#bot.tenantId, this.#bot.botId, id)));
      this.#record(tx, "person.unbanned", person, unbannedBy);
    });
    for (const id of ids) this.#banned.delete(id);
    return true;
  }

  /** The person is named by id only: the audit log never holds a raw phone number. */
  #record(tx: Transaction, action: "person.banned" | "person.unbanned", person: Person, ownerId: string): void {
    const banned = action === "person.banned";
    this.#audit.record(
      tx,
      this.#bot.tenantId,
      { actor: { kind: "whatsapp", id: ownerId }, requestId: null },
      {
        action,
        target: `person:${person.id}`,
        botId: this.#bot.botId,
        before: { banned: !banned },
        after: { banned },
      },
    );
  }
}
