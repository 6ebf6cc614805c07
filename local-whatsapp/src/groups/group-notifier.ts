import { randomInt } from "node:crypto";
import type { BinaryNode } from "baileys";
import type { Account, Device } from "../accounts/directory.ts";
import { GROUP_ADDRESSING, type Group } from "./group.ts";

/** How the server hands a device a stanza (the router's: straight down, or queued while offline). */
export type DeliverToDevice = (device: Device, stanza: BinaryNode) => void;

/**
 * `<notification type="w:gp2">`: what changed in a group, who changed it, to every device of every
 * member — companions see it as groups.upsert, group-participants.update or groups.update; phones
 * record it.
 */
export class GroupNotifier {
  readonly #deliver: DeliverToDevice;

  constructor(deliver: DeliverToDevice) {
    this.#deliver = deliver;
  }

  /**
   * `audience` defaults to the group's members now; a removal also tells those just removed (they
   * were members when it happened), so callers pass them along.
   */
  notify(group: Group, actor: Account, change: BinaryNode, audience: Iterable<Account> = group.members()): void {
    const stanza: BinaryNode = {
      tag: "notification",
      attrs: {
        from: group.jid,
        type: "w:gp2",
        id: String(randomInt(1_000_000_000, 2_147_483_647)),
        // The actor in the group's addressing, the other form alongside (Baileys: author / authorPn).
        participant: actor.lidJid,
        participant_pn: actor.pnJid,
        notify: actor.pushName,
        addressing_mode: GROUP_ADDRESSING,
        t: String(Math.floor(Date.now() / 1_000)),
      },
      content: [change],
    };
    for (const account of new Set(audience)) {
      for (const device of account.devices.values()) this.#deliver(device, stanza);
    }
  }
}
