import type { BotSettings } from "@whatsdex/core";
import { areJidsSameUser, type GroupMetadata, type GroupParticipant } from "baileys";
import { type Identity, type Person, userOf } from "../identity/person.ts";

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
