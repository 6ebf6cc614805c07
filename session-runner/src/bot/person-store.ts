import { contactPath, contactsCollectionPath, timestampSchema, type WriteFence, zodConverter } from "@whatsdex/core";
import { isLidUser, isPnUser, jidDecode, type LIDMapping, type WAMessageKey } from "baileys";
import { type DocumentData, type Firestore, Timestamp } from "firebase-admin/firestore";
import { z } from "zod";
import { type Identity, type Person, personIdOf } from "../identity/person.ts";

/** A person as one bot knows them (see person.ts for why LID first), with the name they go by. */
export interface Contact extends Person {
  pushName: string | null;
  /** They wrote to the bot in a private chat: a campaign message to them is not a reach-out to a stranger. */
  wrote: boolean;
}

/** What one source tells about a person; any field may be missing. */
export interface Sighting {
  lid?: string | null | undefined;
  pn?: string | null | undefined;
  pushName?: string | null | undefined;
  /** The sighting is a private message they sent the bot. */
  wrote?: boolean | undefined;
}

const contactDocSchema = z.object({
  lid: z.string().nullable(),
  pn: z.string().nullable(),
  pushName: z.string().nullable(),
  wrote: z.boolean().default(false),
  updatedAt: timestampSchema,
});

/** `628…:12@s.whatsapp.net` → `628…@s.whatsapp.net`; anything that is not a user JID → null. */
function normalise(jid: string | null | undefined, kind: "lid" | "pn"): string | null {
  if (!jid) return null;
  if (kind === "lid" ? !isLidUser(jid) : !isPnUser(jid)) return null;
  const decoded = jidDecode(jid);
  if (!decoded?.user || !/^\d{5,20}$/.test(decoded.user)) return null;
  return `${decoded.user}@${kind === "lid" ? "lid" : "s.whatsapp.net"}`;
}

function contactIdOf(contact: Identity): string {
  const id = personIdOf(contact);
  if (!id) throw new Error("a person needs a LID or a phone number");
  return id;
}

export interface PersonStoreOptions {
  db: Firestore;
  tenantId: string;
  botId: string;
  fence: WriteFence;
  /**
   * A LID and a phone number were just learnt to be one person (the tenant's contacts fold the
   * number's contact into the LID's). Told once per pairing this store did not know.
   */
  onPaired?: (pair: { lid: string; pn: string; pushName: string | null }) => void;
}

/**
 * In memory for the bot's owner (the hot path never waits on Firestore), persisted in
 * `bots/{b}/contacts` by `flush()`: one fenced transaction per chunk of changed people, merging so
 * fields other writers own on the same document (opt-outs, tags) are kept.
 */
export class PersonStore {
  readonly #options: PersonStoreOptions;
  readonly #byLid = new Map<string, Contact>();
  readonly #byPn = new Map<string, Contact>();
  /** Changed people by id; a merged-away `pn:` person is recorded here as null (to delete). */
  readonly #dirty = new Map<string, Contact | null>();

  constructor(options: PersonStoreOptions) {
    this.#options = options;
  }

  static async load(options: PersonStoreOptions): Promise<PersonStore> {
    const store = new PersonStore(options);
    const collection = options.db
      .collection(contactsCollectionPath(options.tenantId, options.botId))
      .withConverter(zodConverter(contactDocSchema));
    for (const doc of (await collection.get()).docs) {
      const { lid, pn, pushName, wrote } = doc.data();
      store.#index({ id: doc.id, lid, pn, pushName, wrote });
    }
    return store;
  }

  /** Whether the person with either of these addresses ever wrote to the bot in a private chat. */
  wrote(person: { lid: string | null; pn: string | null }): boolean {
    const byLid = person.lid ? this.resolve(person.lid) : undefined;
    const byPn = person.pn ? this.resolve(person.pn) : undefined;
    return Boolean(byLid?.wrote || byPn?.wrote);
  }

  resolve(jid: string): Contact | undefined {
    const lid = normalise(jid, "lid");
    if (lid) return this.#byLid.get(lid);
    const pn = normalise(jid, "pn");
    return pn ? this.#byPn.get(pn) : undefined;
  }

  /** Records what a source says; returns the person, or undefined if it named no user. */
  observe(sighting: Sighting): Contact | undefined {
    const lid = normalise(sighting.lid, "lid");
    const pn = normalise(sighting.pn, "pn");
    if (!lid && !pn) return undefined;
    const byLid = lid ? this.#byLid.get(lid) : undefined;
    let byPn = pn ? this.#byPn.get(pn) : undefined;
    if (byPn?.lid && lid && byPn.lid !== lid) {
      // The number now belongs to another account: the old one keeps its LID and loses the number.
      const detached: Contact = { ...byPn, pn: null };
      this.#unindex(byPn);
      this.#index(detached);
      this.#dirty.set(detached.id, detached);
      byPn = undefined;
    }
    const existing = byLid ?? byPn;
    const merged: Contact = {
      id: "",
      lid: lid ?? existing?.lid ?? null,
      pn: pn ?? existing?.pn ?? byPn?.pn ?? null,
      pushName: sighting.pushName || existing?.pushName || byPn?.pushName || null,
      wrote: Boolean(sighting.wrote || existing?.wrote || byPn?.wrote),
    };
    merged.id = contactIdOf(merged);
    const unchanged =
      existing &&
      (!byLid || !byPn || byLid === byPn) &&
      existing.id === merged.id &&
      existing.pn === merged.pn &&
      existing.pushName === merged.pushName &&
      existing.wrote === merged.wrote;
    if (unchanged) return existing;
    for (const old of new Set([byLid, byPn])) {
      if (!old) continue;
      this.#unindex(old);
      // A PN-only person who now has a LID becomes that LID's person; the old record goes.
      if (old.id !== merged.id) this.#dirty.set(old.id, null);
    }
    this.#index(merged);
    this.#dirty.set(merged.id, merged);
    if (merged.lid && merged.pn && (existing?.lid !== merged.lid || existing?.pn !== merged.pn)) {
      this.#options.onPaired?.({ lid: merged.lid, pn: merged.pn, pushName: merged.pushName });
    }
    return merged;
  }

  /** A message's sender: in groups the participant, in private chats the chat, with their `*Alt` forms. */
  observeMessageKey(key: WAMessageKey, pushName?: string | null): Contact | undefined {
    const group = key.remoteJid?.endsWith("@g.us") ?? false;
    const primary = group ? key.participant : key.remoteJid;
    const alternate = group ? key.participantAlt : key.remoteJidAlt;
    const forms = [primary, alternate];
    return this.observe({
      lid: forms.find((jid) => isLidUser(jid ?? undefined)),
      pn: forms.find((jid) => isPnUser(jid ?? undefined)),
      pushName: key.fromMe ? null : pushName,
      wrote: !group && key.fromMe === false,
    });
  }

  observeLidMappings(mappings: readonly LIDMapping[]): void {
    for (const { lid, pn } of mappings) this.observe({ lid, pn });
  }

  /** Contacts and group participants: `id` in either form, plus `lid` / `phoneNumber` when sent. */
  observeContacts(
    contacts: ReadonlyArray<{
      id: string;
      lid?: string | undefined;
      phoneNumber?: string | undefined;
      notify?: string | undefined;
    }>,
  ): void {
    for (const contact of contacts) {
      this.observe({
        lid: contact.lid ?? (isLidUser(contact.id) ? contact.id : undefined),
        pn: contact.phoneNumber ?? (isPnUser(contact.id) ? contact.id : undefined),
        pushName: contact.notify,
      });
    }
  }

  get pendingWrites(): number {
    return this.#dirty.size;
  }

  /** Persists what changed since the last flush. A deposed owner's flush fails and keeps its changes. */
  async flush(): Promise<number> {
    const changes = [...this.#dirty];
    if (changes.length === 0) return 0;
    const { db, tenantId, botId, fence } = this.#options;
    const now = Timestamp.now();
    for (let start = 0; start < changes.length; start += 400) {
      const chunk = changes.slice(start, start + 400);
      await db.runTransaction(async (tx) => {
        await fence.assertHeld(tx);
        for (const [id, person] of chunk) {
          const ref = db.doc(contactPath(tenantId, botId, id));
          if (person === null) {
            tx.delete(ref);
          } else {
            const data: DocumentData = {
              lid: person.lid,
              pn: person.pn,
              pushName: person.pushName,
              wrote: person.wrote,
              updatedAt: now,
            };
            tx.set(ref, data, { merge: true });
          }
        }
      });
      for (const [id, person] of chunk) if (this.#dirty.get(id) === person) this.#dirty.delete(id);
    }
    return changes.length;
  }

  #index(person: Contact): void {
    if (person.lid) this.#byLid.set(person.lid, person);
    if (person.pn) this.#byPn.set(person.pn, person);
  }

  #unindex(person: Contact): void {
    if (person.lid && this.#byLid.get(person.lid) === person) this.#byLid.delete(person.lid);
    if (person.pn && this.#byPn.get(person.pn) === person) this.#byPn.delete(person.pn);
  }
}
