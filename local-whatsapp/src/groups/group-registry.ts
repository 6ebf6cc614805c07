import { randomInt } from "node:crypto";
import type { Account } from "../accounts/directory.ts";
import { Group } from "./group.ts";

const INVITE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const INVITE_LENGTH = 22;

/** Every group on the server, by jid and by invite code; revoked codes are remembered (410 gone, not 406). */
export class GroupRegistry {
  readonly #byJid = new Map<string, Group>();
  readonly #byInvite = new Map<string, Group>();
  readonly #revoked = new Set<string>();

  create(creator: Account, subject: string, now: number): Group {
    let jid: string;
    // Groups made today have ids like 120363xxxxxxxxxxxx@g.us (older ones were `<creator>-<time>`).
    do jid = `120363${String(randomInt(100_000, 999_999))}${String(randomInt(100_000, 999_999))}@g.us`;
    while (this.#byJid.has(jid));
    const group = new Group({ jid, creator, subject, inviteCode: this.#newCode(), creation: now });
    this.#byJid.set(jid, group);
    this.#byInvite.set(group.inviteCode, group);
    return group;
  }

  get(jid: string): Group | undefined {
    return this.#byJid.get(jid);
  }

  /** The groups an account takes part in. */
  of(account: Account): Group[] {
    return [...this.#byJid.values()].filter((group) => group.isMember(account));
  }

  byInviteCode(code: string): Group | undefined {
    return this.#byInvite.get(code);
  }

  wasRevoked(code: string): boolean {
    return this.#revoked.has(code);
  }

  /** Replaces a group's invite code; the old one stops working. */
  revokeInvite(group: Group): string {
    this.#byInvite.delete(group.inviteCode);
    this.#revoked.add(group.inviteCode);
    group.inviteCode = this.#newCode();
    this.#byInvite.set(group.inviteCode, group);
    return group.inviteCode;
  }

  #newCode(): string {
    let code: string;
    do code = Array.from({ length: INVITE_LENGTH }, () => INVITE_ALPHABET[randomInt(INVITE_ALPHABET.length)]).join("");
    while (this.#byInvite.has(code) || this.#revoked.has(code));
    return code;
  }
}
