import { randomBytes } from "node:crypto";
import { type BinaryNode, getBinaryNodeChild, getBinaryNodeChildren } from "baileys";
import type { QueryAnswer, QueryContext } from "../iq/queries.ts";
import { groupNode } from "./group-nodes.ts";
import type { GroupOperations, GroupSetting, ParticipantAction } from "./group-operations.ts";
import { GroupRefusal } from "./group-refusals.ts";

type GroupQuery = (iq: BinaryNode, ctx: QueryContext, groups: GroupOperations) => QueryAnswer;

const first = (iq: BinaryNode): BinaryNode => {
  const node = Array.isArray(iq.content) ? iq.content[0] : undefined;
  if (!node) throw new GroupRefusal("badRequest", "empty w:g2 query");
  return node;
};
const text = (node: BinaryNode | undefined): string | undefined => {
  if (node?.content instanceof Uint8Array) return Buffer.from(node.content).toString("utf8");
  return typeof node?.content === "string" ? node.content : undefined;
};
const to = (iq: BinaryNode) => iq.attrs.to ?? "";
const jidsOf = (node: BinaryNode) => getBinaryNodeChildren(node, "participant").map((p) => p.attrs.jid ?? "");

const participants =
  (action: ParticipantAction): GroupQuery =>
  (iq, { account }, groups) => {
    const outcomes = groups.changeParticipants(account, to(iq), action, jidsOf(first(iq)));
    return [{ tag: action, attrs: {}, content: outcomes.map((outcome) => outcome.node) }];
  };

const setting =
  (name: GroupSetting): GroupQuery =>
  (iq, { account }, groups) => {
    groups.setSetting(account, to(iq), name);
    return undefined;
  };

/**
 * `w:g2` queries as Baileys 7 makes them (lib/Socket/groups.js), by the first child's tag; each
 * answer has the shape its parser reads (extractGroupMetadata, the per-participant `error`).
 */
const QUERIES: Record<string, GroupQuery> = {
  create: (iq, { account }, groups) => {
    const create = first(iq);
    return [groupNode(groups.create(account, create.attrs.subject ?? "", jidsOf(create), create.attrs.key))];
  },
  query: (iq, { account }, groups) => [groupNode(groups.memberOf(account, to(iq)))],
  participating: (_iq, { account }, groups) => [
    { tag: "groups", attrs: {}, content: groups.participating(account).map(groupNode) },
  ],
  add: participants("add"),
  remove: participants("remove"),
  promote: participants("promote"),
  demote: participants("demote"),
  // To a group: read (get) or revoke (set) its code. To @g.us with a code: look at (get) or join (set).
  invite: (iq, { account }, groups) => {
    const code = first(iq).attrs.code;
    if (code && iq.attrs.type === "set") return [{ tag: "group", attrs: { jid: groups.join(account, code).jid } }];
    if (code) return [groupNode(groups.invitedTo(code))];
    const current = iq.attrs.type === "set" ? groups.revokeInvite(account, to(iq)) : groups.inviteCode(account, to(iq));
    return [{ tag: "invite", attrs: { code: current } }];
  },
  subject: (iq, { account }, groups) => {
    groups.setSubject(account, to(iq), text(first(iq)) ?? "");
    return undefined;
  },
  description: (iq, { account }, groups) => {
    const description = first(iq);
    const body = description.attrs.delete === "true" ? undefined : text(getBinaryNodeChild(description, "body"));
    groups.setDescription(account, to(iq), {
      id: description.attrs.id ?? randomBytes(8).toString("hex").toUpperCase(),
      ...(body !== undefined ? { body } : {}),
      ...(description.attrs.prev ? { prev: description.attrs.prev } : {}),
    });
    return undefined;
  },
  leave: (iq, { account }, groups) => {
    const ids = getBinaryNodeChildren(first(iq), "group").map((group) => group.attrs.id ?? "");
    const left = groups.leave(account, ids);
    return [{ tag: "leave", attrs: {}, content: left.map((group) => ({ tag: "group", attrs: { id: group.jid } })) }];
  },
  announcement: setting("announcement"),
  not_announcement: setting("not_announcement"),
  locked: setting("locked"),
  unlocked: setting("unlocked"),
  ephemeral: (iq, { account }, groups) => {
    groups.setEphemeral(account, to(iq), Number(first(iq).attrs.expiration ?? 0));
    return undefined;
  },
  not_ephemeral: (iq, { account }, groups) => {
    groups.setEphemeral(account, to(iq), 0);
    return undefined;
  },
  member_add_mode: (iq, { account }, groups) => {
    groups.setMemberAddMode(account, to(iq), text(first(iq)) ?? "");
    return undefined;
  },
  // Nobody asks to join here (no approval mode), so an admin's list of requests is always empty.
  membership_approval_requests: (iq, { account }, groups) => {
    groups.adminOf(account, to(iq));
    return [{ tag: "membership_approval_requests", attrs: {} }];
  },
};

/**
 * The `w:g2` handlers for the query table, keyed `w:g2/<tag>`. Refusals become the table's own
 * error type through `refuse`, so this module does not import the table (which imports it).
 */
export function groupQueries(
  refuse: (code: number, text: string) => Error,
): Record<string, (iq: BinaryNode, ctx: QueryContext) => QueryAnswer> {
  return Object.fromEntries(
    Object.entries(QUERIES).map(([tag, query]) => [
      `w:g2/${tag}`,
      (iq: BinaryNode, ctx: QueryContext) => {
        try {
          return query(iq, ctx, ctx.groups);
        } catch (error) {
          if (error instanceof GroupRefusal) throw refuse(error.code, error.text);
          throw error;
        }
      },
    ]),
  );
}
