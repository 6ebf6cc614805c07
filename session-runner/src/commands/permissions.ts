import type { BotSettings } from "@whatsdex/core";
import { areJidsSameUser, type GroupMetadata, type GroupParticipant } from "baileys";
import type { Person } from "./command.ts";

/** Who someone is, LID first (the bot's person store). */
export interface Identity {
  lid: string | null;
  pn: string | null;
}

/** The user part of a JID, without its device: `123:4@lid` → `123`. */
export const userOf = (jid: string | null | undefined) => jid?.split("@")[0]?.split(":")[0] ?? null;

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
  const id = lid ? `lid:${userOf(lid)}` : `pn:${userOf(pn) ?? userOf(jid)}`;
  return { lid, pn, id };
}

/** A person known only by their identity (the bot itself, from its credentials). */
export function personOfIdentity(known: Identity): Person {
  return personOf(known.lid ?? known.pn ?? "0@s.whatsapp.net", known.pn, known);
}

/** Owners are numbers or LIDs in the bot's settings, matched against both forms of the person. */
export function isOwner(settings: BotSettings, person: Person): boolean {
  const number = userOf(person.pn);
  return settings.owners.some((owner) => (owner.endsWith("@lid") ? owner === person.lid : owner === number));
}

/** The person's entry among a group's participants, whichever form (LID or PN) the group lists. */
export function participantOf(group: GroupMetadata, person: Identity): GroupParticipant | undefined {
  const forms = [person.lid, person.pn].filter((jid): jid is string => Boolean(jid));
  return group.participants.find((p) =>
    [p.id, p.lid, p.phoneNumber].some((id) => id && forms.some((jid) => areJidsSameUser(id, jid))),
  );
}

export function isAdminIn(group: GroupMetadata | undefined, person: Identity): boolean {
  if (!group) return false;
  const admin = participantOf(group, person)?.admin;
  return admin === "admin" || admin === "superadmin";
}
