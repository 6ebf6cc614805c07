import type { BinaryNode } from "baileys";
import type { Account } from "../accounts/directory.ts";
import { GROUP_ADDRESSING, type Group, type GroupRole } from "./group.ts";

/**
 * A participant as WhatsApp names it in a LID-addressed group: the LID as `jid`, the number as
 * `phone_number` (Baileys' extractGroupMetadata and its notification parser read both).
 */
export function participantNode(account: Account, role?: GroupRole, attrs: Record<string, string> = {}): BinaryNode {
  return {
    tag: "participant",
    attrs: {
      jid: account.lidJid,
      phone_number: account.pnJid,
      ...(role && role !== "member" ? { type: role } : {}),
      ...attrs,
    },
  };
}

/** `<group>` as a metadata query, the participating list and a create notification carry it. */
export function groupNode(group: Group): BinaryNode {
  const content: BinaryNode[] = group.participants().map(({ account, role }) => participantNode(account, role));
  const description = group.description;
  if (description) {
    content.push({
      tag: "description",
      attrs: {
        id: description.id,
        participant: description.by.lidJid,
        participant_pn: description.by.pnJid,
        t: String(description.at),
      },
      content: [{ tag: "body", attrs: {}, content: Buffer.from(description.body) }],
    });
  }
  if (group.announce) content.push({ tag: "announcement", attrs: {} });
  if (group.restrict) content.push({ tag: "locked", attrs: {} });
  if (group.ephemeral > 0) content.push({ tag: "ephemeral", attrs: { expiration: String(group.ephemeral) } });
  content.push({ tag: "member_add_mode", attrs: {}, content: Buffer.from(group.memberAddMode) });
  return {
    tag: "group",
    attrs: {
      id: group.id,
      subject: group.subject,
      s_t: String(group.subjectTime),
      s_o: group.subjectOwner.lidJid,
      s_o_pn: group.subjectOwner.pnJid,
      creation: String(group.creation),
      creator: group.creator.lidJid,
      creator_pn: group.creator.pnJid,
      size: String(group.size),
      addressing_mode: GROUP_ADDRESSING,
    },
    content,
  };
}
