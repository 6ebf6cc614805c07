import { type BinaryNode, getBinaryNodeChild, getBinaryNodeChildren, isJidGroup, jidEncode } from "baileys";
import type { Logger } from "pino";
import type { Account, Device, Directory } from "../accounts/directory.ts";
import { fanOutGroupMessage, routeGroupReceipt } from "../groups/group-messages.ts";
import { GroupRegistry } from "../groups/group-registry.ts";

/** Who sent a stanza: an account's device (a companion on the wire, or the simulated phone). */
export interface Sender {
  account: Account;
  device: number;
}

const now = () => String(Math.floor(Date.now() / 1_000));
/** Stanzas kept per offline companion (WhatsApp keeps them for weeks; a local server, this many). */
const OFFLINE_LIMIT = 1_000;

/**
 * The server's switchboard for messages and receipts: a sender addresses a user (or one device)
 * and lists, per device, the ciphertext for it; the server hands each device its own copy, from
 * the sender's device in the addressing the conversation uses, and queues it for a companion that
 * is offline. It never reads a message: it cannot, it has no keys.
 */
export class MessageRouter {
  readonly #directory: Directory;
  readonly #logger: Logger;
  readonly #groups: GroupRegistry;

  /** `groups`: who is in which group, for group messages (none without it: they are refused 404). */
  constructor(directory: Directory, logger: Logger, groups: GroupRegistry = new GroupRegistry()) {
    this.#directory = directory;
    this.#logger = logger;
    this.#groups = groups;
  }

  /** Stanzas a sender hands the server. Returns the acknowledgement for the sender, if any. */
  route(sender: Sender, stanza: BinaryNode): BinaryNode | undefined {
    switch (stanza.tag) {
      case "message":
        return this.#message(sender, stanza);
      case "receipt":
        this.#receipt(sender, stanza);
        return { tag: "ack", attrs: { class: "receipt", id: stanza.attrs.id ?? "", from: stanza.attrs.to ?? "" } };
      default:
        return undefined;
    }
  }

  deliver(device: Device, stanza: BinaryNode): void {
    if (device.endpoint) {
      device.endpoint.deliver(stanza);
      return;
    }
    device.offline.push({ ...stanza, attrs: { ...stanza.attrs, offline: "1" } });
    // A companion that never comes back must not grow the server without end: the oldest go first.
    if (device.offline.length > OFFLINE_LIMIT) {
      const dropped = device.offline.splice(0, device.offline.length - OFFLINE_LIMIT);
      this.#logger.warn({ device: device.id, dropped: dropped.length }, "offline queue full; oldest stanzas dropped");
    }
  }

  #message(sender: Sender, stanza: BinaryNode): BinaryNode {
    const id = stanza.attrs.id ?? "";
    const to = stanza.attrs.to ?? "";
    const ack = (error?: string): BinaryNode => ({
      tag: "ack",
      attrs: { class: "message", id, from: to, t: now(), ...(error ? { error } : {}) },
    });
    if (isJidGroup(to)) {
      const deliver = (device: Device, copy: BinaryNode) => this.deliver(device, copy);
      const refused = fanOutGroupMessage(stanza, sender, this.#groups.get(to), this.#directory, deliver);
      if (refused) this.#logger.debug({ to, refused }, "group message refused");
      return ack(refused);
    }
    const target = this.#directory.resolve(to);
    if (!target) return ack("404");
    const server = target.server;
    const fromJid = sender.account.deviceJid(sender.device, server);
    const identity = getBinaryNodeChild(stanza, "device-identity");
    const participants = getBinaryNodeChild(stanza, "participants");
    const copies: Array<{ jid: string; enc: BinaryNode }> = [];
    for (const node of getBinaryNodeChildren(participants, "to")) {
      const enc = getBinaryNodeChild(node, "enc");
      if (node.attrs.jid && enc) copies.push({ jid: node.attrs.jid, enc });
    }
    // A copy for one device (a retry, a peer message): the enc is the stanza's own child.
    const direct = getBinaryNodeChild(stanza, "enc");
    if (direct) copies.push({ jid: to, enc: direct });
    for (const copy of copies) {
      const recipient = this.#directory.resolve(copy.jid);
      const device = recipient?.account.devices.get(recipient.device);
      if (!recipient || !device) {
        this.#logger.debug({ jid: copy.jid }, "message copy for an unknown device dropped");
        continue;
      }
      const ownDevice = recipient.account === sender.account;
      const attrs: Record<string, string> = {
        id,
        from: fromJid,
        t: now(),
        type: stanza.attrs.type ?? "text",
        notify: sender.account.pushName,
      };
      // The other form of the sender's address, as WhatsApp adds it to LID- or number-addressed messages.
      if (server === "lid") attrs.sender_pn = jidEncode(sender.account.pn, "s.whatsapp.net");
      else attrs.sender_lid = jidEncode(sender.account.lid, "lid");
      // The sender's own other devices get the message as sent to the chat.
      if (ownDevice) attrs.recipient = to;
      if (stanza.attrs.edit) attrs.edit = stanza.attrs.edit;
      const content: BinaryNode[] = [copy.enc];
      if (identity) content.push(identity);
      this.deliver(device, { tag: "message", attrs, content });
    }
    return ack();
  }

  #receipt(sender: Sender, stanza: BinaryNode): void {
    const to = stanza.attrs.to ?? "";
    if (isJidGroup(to)) {
      const deliver = (device: Device, receipt: BinaryNode) => this.deliver(device, receipt);
      routeGroupReceipt(stanza, sender, this.#groups.get(to), this.#directory, deliver);
      return;
    }
    const target = this.#directory.resolve(to);
    if (!target) return;
    const attrs: Record<string, string> = {
      id: stanza.attrs.id ?? "",
      from: target.server === "lid" ? sender.account.lidJid : sender.account.pnJid,
      t: stanza.attrs.t ?? now(),
    };
    if (stanza.attrs.type) attrs.type = stanza.attrs.type;
    const content = Array.isArray(stanza.content) ? stanza.content : undefined;
    for (const device of target.account.devices.values()) {
      this.deliver(device, { tag: "receipt", attrs, ...(content ? { content } : {}) });
    }
  }
}
