import type { PersonId } from "./schema.ts";

/** A contact's WhatsApp identities as the contact document keeps them (JIDs), and its id. */
export interface ContactIdentity {
  personId: PersonId;
  lid: string | null;
  pn: string | null;
}

const digitsOf = (personId: string) => personId.slice(personId.indexOf(":") + 1);

/**
 * A phone number as people write it (`+62 812-3456 7890`, `0062…`, `6281234567890@s.whatsapp.net`)
 * as E.164 digits, or null when it is not one: 8-15 digits with the country code, no trunk `0`.
 */
export function phoneDigits(raw: string): string | null {
  let text = raw.trim().replace(/@s\.whatsapp\.net$/, "");
  text = text.replace(/[\s().\-\u00a0]/g, "");
  if (text.startsWith("+")) text = text.slice(1);
  else if (text.startsWith("00")) text = text.slice(2);
  return /^[1-9]\d{7,14}$/.test(text) ? text : null;
}

/** A LID as digits (`123456789012345` or `123456789012345@lid`), or null. */
export function lidDigits(raw: string): string | null {
  const text = raw.trim().replace(/@lid$/, "");
  return /^[1-9]\d{4,19}$/.test(text) ? text : null;
}

export const pnJid = (digits: string) => `${digits}@s.whatsapp.net`;
export const lidJid = (digits: string) => `${digits}@lid`;

/** LID first: a contact whose LID is known is `lid:<digits>`, whatever its phone number. */
export function identityOf(lid: string | null, phone: string | null): ContactIdentity {
  if (lid) return { personId: `lid:${lid}`, lid: lidJid(lid), pn: phone ? pnJid(phone) : null };
  if (phone) return { personId: `pn:${phone}`, lid: null, pn: pnJid(phone) };
  throw new Error("a contact needs a LID or a phone number");
}

/** The phone number's digits a contact document keeps, for the CSV and the API. */
export function phoneOfJid(pn: string | null): string | null {
  return pn ? pn.replace(/@s\.whatsapp\.net$/, "") : null;
}

export function lidOfJid(lid: string | null): string | null {
  return lid ? lid.replace(/@lid$/, "") : null;
}

/** The JID a person id names (`pn:1…` → `1…@s.whatsapp.net`). */
export function jidOfPersonId(personId: PersonId): string {
  return personId.startsWith("lid:") ? lidJid(digitsOf(personId)) : pnJid(digitsOf(personId));
}
