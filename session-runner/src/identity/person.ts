/**
 * Who someone on WhatsApp is, as every part of the runner names them: LID first. WhatsApp addresses
 * people by LID (a per-user privacy id) and, when it chooses to, by phone number (PN); the two
 * forms of one person never compare equal as strings, so anything keyed by a person (bans, owners,
 * warnings, cooldowns, caps, opt-outs) is keyed by the id made here, in one place.
 */

/** A person's two JID forms, where known: `<digits>@lid` and `<digits>@s.whatsapp.net`. */
export interface Identity {
  lid: string | null;
  pn: string | null;
}

/** A person: both forms where known, and their id (`lid:<digits>` once the LID is known, else `pn:<digits>`). */
export interface Person extends Identity {
  id: string;
}

/** The user part of a JID, without its device: `123:4@lid` → `123`. */
export const userOf = (jid: string | null | undefined): string | null => jid?.split("@")[0]?.split(":")[0] ?? null;

/** The id of a person with these forms (LID first), or null when neither is known. */
export function personIdOf(identity: Identity): string | null {
  if (identity.lid) return `lid:${userOf(identity.lid)}`;
  if (identity.pn) return `pn:${userOf(identity.pn)}`;
  return null;
}

/** Every id a person may be known by: what is keyed by their number still holds once their LID is known. */
export function idsOf(person: Pick<Person, "lid" | "pn" | "id">): string[] {
  const ids = [
    person.id,
    person.lid ? `lid:${userOf(person.lid)}` : null,
    person.pn ? `pn:${userOf(person.pn)}` : null,
  ];
  return ids.filter((id): id is string => Boolean(id));
}

/**
 * The sender as one person: what the person store knows, else the JID the message came from and
 * the alternate form WhatsApp sent alongside. Devices (`123:4@lid`) are the same person.
 */
export function personOf(jid: string, alt: string | null, known: Identity): Person {
  const forms = [jid, alt].filter((form): form is string => Boolean(form));
  const lidForm = forms.find((form) => form.endsWith("@lid"));
  const pnForm = forms.find((form) => form.endsWith("@s.whatsapp.net"));
  const lid = known.lid ?? (lidForm ? `${userOf(lidForm)}@lid` : null);
  const pn = known.pn ?? (pnForm ? `${userOf(pnForm)}@s.whatsapp.net` : null);
  return { lid, pn, id: personIdOf({ lid, pn }) ?? `pn:${userOf(jid)}` };
}

/** A person known only by their identity (the bot itself, from its credentials). */
export function personOfIdentity(known: Identity): Person {
  return personOf(known.lid ?? known.pn ?? "0@s.whatsapp.net", known.pn, known);
}
