import type { DocumentReference, Firestore, Timestamp } from "firebase-admin/firestore";
import { zodConverter } from "../firestore/converter.ts";
import { tenantContactPath } from "../firestore/paths.ts";
import {
  type ContactDoc,
  contactDocSchema,
  type OptOut,
  optInKeywords,
  optOutKeywords,
  optOutKeywordsAnyLanguage,
  personIdSchema,
} from "./schema.ts";

/**
 * A whole message as keywords are compared: accents dropped (NFD, combining marks removed), lower
 * case, inner spaces collapsed, surrounding spaces and punctuation (`STOP.`, `¡Baja!`) trimmed.
 */
export function keywordForm(text: string): string {
  return text
    .normalize("NFD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/\s+/g, " ")
    .replace(/^[\s\p{P}]+|[\s\p{P}]+$/gu, "");
}

const optOutByLanguage = {
  en: new Set([...optOutKeywords.en, ...optOutKeywordsAnyLanguage].map(keywordForm)),
  id: new Set([...optOutKeywords.id, ...optOutKeywordsAnyLanguage].map(keywordForm)),
};
const optInByLanguage = {
  en: new Set(optInKeywords.en.map(keywordForm)),
  id: new Set(optInKeywords.id.map(keywordForm)),
};

/** Longer than any keyword: such a message is never compared (nor normalised). */
const MAX_KEYWORD_MESSAGE = 40;

/** Whether a message, as a whole, asks to stop campaigns or to get them again, in the bot's language. */
export function optOutIntent(text: string, language: "en" | "id"): "opt_out" | "opt_in" | null {
  if (text.length === 0 || text.length > MAX_KEYWORD_MESSAGE) return null;
  const form = keywordForm(text);
  if (optOutByLanguage[language].has(form)) return "opt_out";
  if (optInByLanguage[language].has(form)) return "opt_in";
  return null;
}

/** The person who wrote: their id (LID first) and JIDs where known, as the runner's person store names them. */
export interface OptOutPerson {
  id: string;
  /** `<digits>@lid` */
  lid: string | null;
  /** `<digits>@s.whatsapp.net` */
  pn: string | null;
}

export interface OptOutChange {
  /** Whether any contact document changed: false when they were opted out (or in) already. */
  changed: boolean;
}

const converter = zodConverter(contactDocSchema);
const digits = (jid: string | null) => jid?.split("@")[0]?.split(":")[0] ?? null;

/**
 * Every contact id the person may be stored under: a contact imported by phone number is `pn:…`,
 * one who wrote to a bot is `lid:…`; an opt-out must hold whichever a campaign addresses.
 */
function candidateIds(person: OptOutPerson): string[] {
  const ids = [
    person.id,
    person.lid ? `lid:${digits(person.lid)}` : null,
    person.pn ? `pn:${digits(person.pn)}` : null,
  ];
  return [...new Set(ids.filter((id): id is string => id !== null && personIdSchema.safeParse(id).success))];
}

async function change(
  db: Firestore,
  tenantId: string,
  person: OptOutPerson,
  apply: (contact: ContactDoc) => ContactDoc | null,
  create: (() => ContactDoc) | null,
): Promise<OptOutChange> {
  const refs: Array<DocumentReference<ContactDoc>> = candidateIds(person).map((id) =>
    db.doc(tenantContactPath(tenantId, id)).withConverter(converter),
  );
  const [first] = refs;
  if (!first) return { changed: false };
  return db.runTransaction(async (tx) => {
    const snapshots = await tx.getAll(...refs);
    const existing = snapshots.flatMap((snapshot) => {
      const data = snapshot.data();
      return data ? [{ ref: snapshot.ref, data }] : [];
    });
    if (existing.length === 0) {
      if (!create) return { changed: false };
      tx.create(first, create());
      return { changed: true };
    }
    let changed = false;
    for (const { ref, data } of existing) {
      const updated = apply(data);
      if (!updated) continue;
      tx.set(ref, updated);
      changed = true;
    }
    return { changed };
  });
}

/**
 * The person wrote an opt-out keyword to a bot of the tenant: every contact document they are stored
 * under gets `optOut` (via WhatsApp, the bot, what they wrote), and learns their LID or phone number
 * if it did not know it; none: one is created (LID first, no tags, no fields), so a later import or
 * campaign finds them opted out. Transactional: two bots (or a redelivery) at once record it once,
 * and `changed` is true for exactly one of them.
 */
export function recordOptOut(
  db: Firestore,
  tenantId: string,
  person: OptOutPerson,
  what: { botId: string; text: string; at: Timestamp },
): Promise<OptOutChange> {
  const optOut: OptOut = { at: what.at, via: "whatsapp", botId: what.botId, reason: what.text.slice(0, 200) };
  return change(
    db,
    tenantId,
    person,
    (contact) =>
      contact.optOut
        ? null
        : { ...contact, lid: contact.lid ?? person.lid, pn: contact.pn ?? person.pn, optOut, updatedAt: what.at },
    () => ({
      lid: person.lid,
      pn: person.pn,
      name: null,
      tags: [],
      fields: {},
      optOut,
      importId: null,
      createdAt: what.at,
      updatedAt: what.at,
    }),
  );
}

/**
 * The person wrote an opt-in keyword: every opt-out they have is cleared (their own word outweighs
 * how the opt-out came about). No contact, or none opted out: nothing changes.
 */
export function recordOptIn(
  db: Firestore,
  tenantId: string,
  person: OptOutPerson,
  what: { at: Timestamp },
): Promise<OptOutChange> {
  return change(
    db,
    tenantId,
    person,
    (contact) =>
      contact.optOut
        ? { ...contact, lid: contact.lid ?? person.lid, pn: contact.pn ?? person.pn, optOut: null, updatedAt: what.at }
        : null,
    null,
  );
}
