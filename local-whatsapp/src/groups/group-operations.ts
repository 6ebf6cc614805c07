import type { BinaryNode } from "baileys";
import type { Account, Directory } from "../accounts/directory.ts";
import type { Group } from "./group.ts";
import { groupNode, participantNode } from "./group-nodes.ts";
import type { GroupNotifier } from "./group-notifier.ts";
import { GroupRefusal, type ParticipantStatus } from "./group-refusals.ts";
import type { GroupRegistry } from "./group-registry.ts";

export type ParticipantAction = "add" | "remove" | "promote" | "demote";
export type GroupSetting = "announcement" | "not_announcement" | "locked" | "unlocked";

/** One participant's outcome; `node` is the `<participant>` the answer carries. */
export interface ParticipantOutcome {
  jid: string;
  status: ParticipantStatus;
  account?: Account;
  node: BinaryNode;
}

const MAX_PARTICIPANTS = 1024;
const MAX_SUBJECT = 100;
const MAX_DESCRIPTION = 2048;
const now = () => Math.floor(Date.now() / 1_000);

/**
 * What members do to groups, with WhatsApp's rules: only members see a group, only admins manage
 * it (adding too, unless anyone may add; the subject and description too, when it is locked), and
 * every change is told to every member's devices. Companions reach it through `w:g2` queries, tests
 * through the server on a phone's behalf; both get the same refusals.
 */
export class GroupOperations {
  readonly registry: GroupRegistry;
  readonly #directory: Directory;
  readonly #notifier: GroupNotifier;

  constructor(registry: GroupRegistry, directory: Directory, notifier: GroupNotifier) {
    this.registry = registry;
    this.#directory = directory;
    this.#notifier = notifier;
  }

  /** The group, if it exists (404) and `account` is in it (403). */
  memberOf(account: Account, jid: string): Group {
    const group = this.registry.get(jid);
    if (!group) throw new GroupRefusal("groupNotFound", jid);
    if (!group.isMember(account)) throw new GroupRefusal("notInGroup", jid);
    return group;
  }

  /** The group, if `account` is one of its admins (401 otherwise). */
  adminOf(account: Account, jid: string): Group {
    const group = this.memberOf(account, jid);
    if (!group.isAdmin(account)) throw new GroupRefusal("notAdmin", `${account.pn} is not an admin of ${jid}`);
    return group;
  }

  /**
   * A new group with `creator` as its superadmin and every participant named who is on WhatsApp
   * (others are left out, as WhatsApp does). `key` is the creator's dedupe key, echoed in the
   * create notification.
   */
  create(creator: Account, subject: string, participantJids: readonly string[], key?: string): Group {
    const group = this.registry.create(creator, checkedSubject(subject), now());
    for (const jid of participantJids) {
      const account = this.#directory.resolve(jid)?.account;
      if (account && group.size < MAX_PARTICIPANTS) group.add(account);
    }
    this.#notifier.notify(group, creator, {
      tag: "create",
      attrs: key ? { key } : {},
      content: [groupNode(group)],
    });
    return group;
  }

  participating(account: Account): Group[] {
    return this.registry.of(account);
  }

  changeParticipants(
    actor: Account,
    jid: string,
    action: ParticipantAction,
    participantJids: readonly string[],
  ): ParticipantOutcome[] {
    const group = this.memberOf(actor, jid);
    const anyoneMayAdd = action === "add" && group.memberAddMode === "all_member_add";
    if (!group.isAdmin(actor) && !anyoneMayAdd) {
      throw new GroupRefusal("notAdmin", `${actor.pn} may not ${action} participants of ${jid}`);
    }
    const changed: Account[] = [];
    const outcomes = participantJids.map((requested): ParticipantOutcome => {
      const account = this.#directory.resolve(requested)?.account;
      if (!account) return { jid: requested, status: "404", node: refusedNode(requested, "404") };
      const before = group.role(account);
      const status = applyChange(group, action, account);
      // Promoting an admin (or demoting a member) succeeds without news to tell.
      if (status === "200" && group.role(account) !== before && !changed.includes(account)) changed.push(account);
      const node = participantNode(account, group.role(account), status === "200" ? {} : { error: status });
      return { jid: account.lidJid, status, account, node };
    });
    if (changed.length > 0) {
      this.#notifier.notify(
        group,
        actor,
        { tag: action, attrs: {}, content: changed.map((account) => participantNode(account)) },
        // Those removed hear of it too: they were members when it happened.
        action === "remove" ? [...group.members(), ...changed] : group.members(),
      );
    }
    return outcomes;
  }

  setSubject(actor: Account, jid: string, subject: string): void {
    const group = this.#editableBy(actor, jid);
    group.subject = checkedSubject(subject);
    group.subjectOwner = actor;
    group.subjectTime = now();
    this.#notifier.notify(group, actor, {
      tag: "subject",
      attrs: { subject: group.subject, s_t: String(group.subjectTime), s_o: actor.lidJid, s_o_pn: actor.pnJid },
    });
  }

  /**
   * Sets (or, with no body, deletes) the description. `prev` must name the description being
   * replaced, so an edit made on stale metadata is refused (409) instead of overwriting another's.
   */
  setDescription(actor: Account, jid: string, change: { body?: string; id: string; prev?: string }): void {
    const group = this.#editableBy(actor, jid);
    if (change.prev !== undefined && change.prev !== group.description?.id) {
      throw new GroupRefusal("conflict", `description ${change.prev} is no longer the current one`);
    }
    if (change.body !== undefined && change.body.length > MAX_DESCRIPTION) throw new GroupRefusal("notAcceptable");
    group.description = change.body ? { body: change.body, id: change.id, by: actor, at: now() } : undefined;
    this.#notifier.notify(group, actor, {
      tag: "description",
      attrs: { id: change.id },
      content: change.body
        ? [{ tag: "body", attrs: {}, content: Buffer.from(change.body) }]
        : [{ tag: "delete", attrs: {} }],
    });
  }

  setSetting(actor: Account, jid: string, setting: GroupSetting): void {
    const group = this.adminOf(actor, jid);
    if (setting === "announcement" || setting === "not_announcement") group.announce = setting === "announcement";
    else group.restrict = setting === "locked";
    this.#notifier.notify(group, actor, { tag: setting, attrs: {} });
  }

  /** Disappearing messages: seconds, or 0 to turn them off. */
  setEphemeral(actor: Account, jid: string, expiration: number): void {
    const group = this.#editableBy(actor, jid);
    group.ephemeral = expiration;
    this.#notifier.notify(
      group,
      actor,
      expiration > 0
        ? { tag: "ephemeral", attrs: { expiration: String(expiration) } }
        : { tag: "not_ephemeral", attrs: {} },
    );
  }

  setMemberAddMode(actor: Account, jid: string, mode: string): void {
    if (mode !== "admin_add" && mode !== "all_member_add") throw new GroupRefusal("badRequest", `add mode ${mode}`);
    const group = this.adminOf(actor, jid);
    group.memberAddMode = mode;
    this.#notifier.notify(group, actor, { tag: "member_add_mode", attrs: {}, content: Buffer.from(mode) });
  }

  inviteCode(actor: Account, jid: string): string {
    return this.adminOf(actor, jid).inviteCode;
  }

  revokeInvite(actor: Account, jid: string): string {
    const group = this.adminOf(actor, jid);
    const code = this.registry.revokeInvite(group);
    this.#notifier.notify(group, actor, { tag: "invite", attrs: { code } });
    return code;
  }

  /** The group an invite code opens (what someone sees before joining): 410 once revoked, 406 if never valid. */
  invitedTo(code: string): Group {
    const group = this.registry.byInviteCode(code);
    if (group) return group;
    throw new GroupRefusal(this.registry.wasRevoked(code) ? "inviteRevoked" : "notAcceptable", "invite code");
  }

  /** Joins by invite code; joining a group one is already in changes nothing. */
  join(account: Account, code: string): Group {
    const group = this.invitedTo(code);
    if (group.isMember(account)) return group;
    if (group.size >= MAX_PARTICIPANTS) throw new GroupRefusal("notAcceptable", "the group is full");
    group.add(account);
    this.#notifier.notify(group, account, {
      tag: "add",
      attrs: { reason: "invite" },
      content: [participantNode(account)],
    });
    return group;
  }

  /** Leaves each group named; the members left (and the leaver's other devices) are told. */
  leave(account: Account, jids: readonly string[]): Group[] {
    const groups = jids.map((jid) => this.memberOf(account, jid));
    for (const group of groups) {
      group.remove(account);
      this.#notifier.notify(group, account, { tag: "remove", attrs: {}, content: [participantNode(account)] }, [
        ...group.members(),
        account,
      ]);
    }
    return groups;
  }

  /** Subject, description and timer: any member may edit them, unless the group is locked. */
  #editableBy(actor: Account, jid: string): Group {
    const group = this.memberOf(actor, jid);
    if (group.restrict && !group.isAdmin(actor)) {
      throw new GroupRefusal("notAdmin", `${jid} is locked: only admins edit its info`);
    }
    return group;
  }
}

function applyChange(group: Group, action: ParticipantAction, account: Account): ParticipantStatus {
  const member = group.isMember(account);
  switch (action) {
    case "add":
      if (member) return "409";
      if (group.size >= MAX_PARTICIPANTS) return "500";
      group.add(account);
      return "200";
    case "remove":
      if (!member) return "404";
      group.remove(account);
      return "200";
    case "promote":
      if (!member) return "404";
      if (!group.isAdmin(account)) group.setRole(account, "admin");
      return "200";
    case "demote":
      if (!member) return "404";
      group.setRole(account, "member");
      return "200";
  }
}

function refusedNode(jid: string, status: ParticipantStatus): BinaryNode {
  return { tag: "participant", attrs: { jid, error: status } };
}

function checkedSubject(subject: string): string {
  const trimmed = subject.trim();
  if (!trimmed) throw new GroupRefusal("badRequest", "a group needs a subject");
  if (trimmed.length > MAX_SUBJECT) throw new GroupRefusal("notAcceptable", `subjects are at most ${MAX_SUBJECT}`);
  return trimmed;
}
