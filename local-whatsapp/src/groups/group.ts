import type { Account } from "../accounts/directory.ts";

/** A participant's rank: the creator is the superadmin; admins manage members and settings. */
export type GroupRole = "member" | "admin" | "superadmin";

export interface GroupDescription {
  body: string;
  /** Changes name the id they replace (`prev`), so two admins editing at once cannot both win. */
  id: string;
  by: Account;
  /** Unix seconds. */
  at: number;
}

/** Who may add members: WhatsApp's default is admins only. */
export type MemberAddMode = "admin_add" | "all_member_add";

/** Addressing every group has today: participants are named by LID, their numbers alongside. */
export const GROUP_ADDRESSING = "lid";

/**
 * A WhatsApp group as the server keeps it: its participants (in the order they joined) with their
 * roles, subject, description, invite code and settings. It only holds state; who may change what is
 * decided in group-operations.ts.
 */
export class Group {
  readonly jid: string;
  readonly creator: Account;
  /** Unix seconds. */
  readonly creation: number;
  subject: string;
  subjectOwner: Account;
  subjectTime: number;
  description: GroupDescription | undefined;
  inviteCode: string;
  /** Only admins may send messages. */
  announce = false;
  /** Only admins may edit the subject and description (WhatsApp's `locked`). */
  restrict = false;
  /** Disappearing messages, in seconds (0: off). */
  ephemeral = 0;
  memberAddMode: MemberAddMode = "admin_add";
  readonly #participants = new Map<Account, GroupRole>();

  constructor(init: { jid: string; creator: Account; subject: string; inviteCode: string; creation: number }) {
    this.jid = init.jid;
    this.creator = init.creator;
    this.creation = init.creation;
    this.subject = init.subject;
    this.subjectOwner = init.creator;
    this.subjectTime = init.creation;
    this.inviteCode = init.inviteCode;
    this.#participants.set(init.creator, "superadmin");
  }

  /** The group's id without its server, as WhatsApp writes it in `<group id>`. */
  get id(): string {
    return this.jid.slice(0, this.jid.indexOf("@"));
  }

  get size(): number {
    return this.#participants.size;
  }

  role(account: Account): GroupRole | undefined {
    return this.#participants.get(account);
  }

  isMember(account: Account): boolean {
    return this.#participants.has(account);
  }

  isAdmin(account: Account): boolean {
    const role = this.#participants.get(account);
    return role === "admin" || role === "superadmin";
  }

  /** Participants in the order they joined, with their roles. */
  participants(): Array<{ account: Account; role: GroupRole }> {
    return [...this.#participants].map(([account, role]) => ({ account, role }));
  }

  members(): Account[] {
    return [...this.#participants.keys()];
  }

  add(account: Account): void {
    if (!this.#participants.has(account)) this.#participants.set(account, "member");
  }

  remove(account: Account): void {
    this.#participants.delete(account);
  }

  setRole(account: Account, role: GroupRole): void {
    if (this.#participants.has(account)) this.#participants.set(account, role);
  }
}
