import { type BinaryNode, getBinaryNodeChild, getBinaryNodeChildren } from "baileys";
import type { Account, Device, Directory } from "../accounts/directory.ts";
import { GROUP_ADDRESSING, type Group } from "./group.ts";
import type { DeliverToDevice } from "./group-notifier.ts";

/** The device a stanza came from. */
export interface FromDevice {
  account: Account;
  device: number;
}

const now = () => String(Math.floor(Date.now() / 1_000));

/**
 * A group message: one `skmsg` (the text under the sender's sender key, the same for everyone) and,
 * for devices that do not hold that key yet, a `pkmsg`/`msg` each carrying the key's distribution
 * message. Every member device but the sender's gets `<message from=group participant=sender device>`
 * with its own copy first (so the key is in place before the skmsg is read), then the skmsg.
 * A retry resend names one device (`participant`) and carries its copy directly.
 * Returns the ack's error code, if refused: 404 no such group, 403 the sender is not in it.
 */
export function fanOutGroupMessage(
  stanza: BinaryNode,
  sender: FromDevice,
  group: Group | undefined,
  directory: Directory,
  deliver: DeliverToDevice,
): string | undefined {
  if (!group) return "404";
  if (!group.isMember(sender.account)) return "403";
  const encs = getBinaryNodeChildren(stanza, "enc");
  const skmsg = encs.find((enc) => enc.attrs.type === "skmsg");
  const direct = encs.find((enc) => enc.attrs.type !== "skmsg");
  const copies = new Map<Device, BinaryNode>();
  for (const node of getBinaryNodeChildren(getBinaryNodeChild(stanza, "participants"), "to")) {
    const enc = getBinaryNodeChild(node, "enc");
    const device = deviceOf(directory, node.attrs.jid);
    if (enc && device) copies.set(device, enc);
  }
  const retryTarget = stanza.attrs.participant ? deviceOf(directory, stanza.attrs.participant) : undefined;
  if (retryTarget && direct) copies.set(retryTarget, direct);
  const identity = getBinaryNodeChild(stanza, "device-identity");
  const attrs: Record<string, string> = {
    id: stanza.attrs.id ?? "",
    from: group.jid,
    participant: sender.account.deviceJid(sender.device, GROUP_ADDRESSING),
    // The sender's number alongside its LID (Baileys: key.participantAlt).
    participant_pn: sender.account.pnJid,
    addressing_mode: GROUP_ADDRESSING,
    t: now(),
    type: stanza.attrs.type ?? "text",
    notify: sender.account.pushName,
  };
  if (stanza.attrs.edit) attrs.edit = stanza.attrs.edit;
  for (const member of group.members()) {
    for (const device of member.devices.values()) {
      if (member === sender.account && device.id === sender.device) continue;
      if (retryTarget && device !== retryTarget) continue;
      const content: BinaryNode[] = [];
      const copy = copies.get(device);
      if (copy) content.push(copy);
      if (skmsg && !retryTarget) content.push(skmsg);
      if (content.length === 0) continue;
      if (identity) content.push(identity);
      deliver(device, { tag: "message", attrs, content });
    }
  }
  return undefined;
}

/**
 * A member's receipt for a group message (`to` the group, `participant` the author's device) reaches
 * the author's devices as `from` the group, `participant` the member's device — a retry receipt
 * must name the device that asks, so the author can re-encrypt for it.
 */
export function routeGroupReceipt(
  stanza: BinaryNode,
  sender: FromDevice,
  group: Group | undefined,
  directory: Directory,
  deliver: DeliverToDevice,
): void {
  const author = directory.resolve(stanza.attrs.participant ?? "")?.account;
  if (!group || !author) return;
  const attrs: Record<string, string> = {
    id: stanza.attrs.id ?? "",
    from: group.jid,
    participant: sender.account.deviceJid(sender.device, GROUP_ADDRESSING),
    t: stanza.attrs.t ?? now(),
  };
  if (stanza.attrs.type) attrs.type = stanza.attrs.type;
  const content = Array.isArray(stanza.content) ? stanza.content : undefined;
  for (const device of author.devices.values()) {
    if (author === sender.account && device.id === sender.device) continue;
    deliver(device, { tag: "receipt", attrs, ...(content ? { content } : {}) });
  }
}

function deviceOf(directory: Directory, jid: string | undefined): Device | undefined {
  const found = directory.resolve(jid ?? "");
  return found?.account.devices.get(found.device);
}
