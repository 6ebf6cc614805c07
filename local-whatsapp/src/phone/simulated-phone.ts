import { randomBytes } from "node:crypto";
import {
  type AuthenticationCreds,
  addTransactionCapability,
  type BinaryNode,
  Curve,
  encodeWAMessage,
  getBinaryNodeChild,
  getBinaryNodeChildren,
  initAuthCreds,
  isJidGroup,
  jidDecode,
  proto,
  type SignalRepositoryWithLIDStore,
  unpadRandomMax16,
} from "baileys";
import { makeLibSignalRepository } from "baileys/lib/Signal/libsignal.js";
import type { Logger } from "pino";
import type { Account, KeyBundle } from "../accounts/directory.ts";
import { MemoryKeyStore } from "./memory-key-store.ts";

/** A message a phone decrypted, or a receipt it was sent. */
export interface PhoneInboxEntry {
  id: string;
  /** The sending device's jid as the server delivered it. */
  from: string;
  /** The chat: the other account's user jid, or the group. */
  chat: string;
  message: proto.IMessage;
  /** Set on messages one of the phone's own companions sent (synced to the phone). */
  recipient?: string;
  at: number;
}

export interface PhoneReceipt {
  id: string;
  from: string;
  type: "delivery" | "read" | "played" | string;
}

/** A notification the server sent the phone (a group change: `w:gp2`), as recorded for tests. */
export interface PhoneNotification {
  id: string;
  /** What it is about: the group's jid for group changes. */
  from: string;
  type: string;
  /** Who made the change, by LID. */
  author?: string;
  /** What changed: the child's tag (create, add, remove, promote, demote, subject, description, invite...). */
  action: string;
  /** The participants an add/remove/promote/demote names (their LIDs). */
  participants: string[];
  node: BinaryNode;
}

/** What a phone needs of a group to send to it: its jid and who is in it now. */
export interface GroupRoster {
  jid: string;
  members(): Iterable<Account>;
}

/** A phone as a snapshot keeps it. */
export interface SavedPhone {
  creds: AuthenticationCreds;
  keys: Array<[string, unknown]>;
}

/** How a phone hands a stanza to the server, as a client would send it over the wire. */
export type StanzaSink = (stanza: BinaryNode) => void;

const PRE_KEYS = 50;

/**
 * The primary phone (device 0) of an account: a real Signal identity and store (Baileys' own
 * libsignal repository over memory), so what it sends is encrypted and what it receives must
 * decrypt — the bot on the other end cannot tell it from a phone.
 */
export class SimulatedPhone {
  readonly creds: AuthenticationCreds;
  readonly #store: MemoryKeyStore;
  readonly #signal: SignalRepositoryWithLIDStore;
  readonly inbox: PhoneInboxEntry[] = [];
  readonly receipts: PhoneReceipt[] = [];
  readonly notifications: PhoneNotification[] = [];
  /** Decryption failures, kept so a test sees them rather than a silent drop. */
  readonly failures: Array<{ id: string; from: string; error: string }> = [];
  readonly #waiters: Array<() => void> = [];
  readonly #listeners = new Set<() => void>();
  readonly #keys: ReturnType<typeof addTransactionCapability>;
  /** Per group, the devices that hold this phone's sender key (Baileys' sender-key-memory). */
  readonly #senderKeyHolders = new Map<string, Set<string>>();
  /** Stanzas are read one at a time, in order: a sender key must be in place before the skmsg it opens. */
  #receiving: Promise<void> = Promise.resolve();

  readonly account: Account;
  readonly #sink: StanzaSink;
  readonly #logger: Logger;

  /** `saved`: a phone from a snapshot (its identity and Signal store); a new identity without. */
  constructor(account: Account, sink: StanzaSink, logger: Logger, saved?: SavedPhone) {
    this.account = account;
    this.#sink = sink;
    this.#logger = logger;
    this.creds = saved?.creds ?? initAuthCreds();
    this.#store = new MemoryKeyStore(saved?.keys);
    this.#keys = addTransactionCapability(this.#store, logger, {
      maxCommitRetries: 1,
      delayBetweenTriesMs: 1,
    });
    this.#signal = makeLibSignalRepository({ creds: this.creds, keys: this.#keys }, logger);
  }

  /** Registers device 0 with the account and publishes its key bundle. */
  async register(): Promise<void> {
    const preKeys = new Map<number, Uint8Array>();
    const stored: Record<string, { public: Uint8Array; private: Uint8Array }> = {};
    for (let id = 1; id <= PRE_KEYS; id++) {
      const pair = Curve.generateKeyPair();
      stored[String(id)] = { public: pair.public, private: pair.private };
      preKeys.set(id, pair.public);
    }
    await this.#keys.set({ "pre-key": stored });
    const bundle: KeyBundle = {
      registrationId: this.creds.registrationId,
      identityKey: this.creds.signedIdentityKey.public,
      signedPreKey: {
        keyId: this.creds.signedPreKey.keyId,
        publicKey: this.creds.signedPreKey.keyPair.public,
        signature: this.creds.signedPreKey.signature,
      },
      preKeys,
    };
    this.account.devices.set(0, { id: 0, keys: bundle, keyIndex: 0, offline: [] });
    this.attach();
  }

  /** Takes device 0's stanzas (a registered or restored phone). */
  attach(): void {
    const device = this.account.devices.get(0);
    if (!device) throw new Error(`phone ${this.account.pn} has no device 0 to attach to`);
    device.endpoint = {
      deliver: (stanza) => {
        this.#receiving = this.#receiving.then(() => this.#receive(stanza));
      },
    };
  }

  /** What a restart needs to bring this phone back: its identity and Signal store. */
  snapshot(): SavedPhone {
    return { creds: this.creds, keys: this.#store.entries() };
  }

  /** The account's ADV key: companions' device identities are signed with it. */
  get accountSignatureKey(): { public: Uint8Array; private: Uint8Array } {
    return this.creds.signedIdentityKey;
  }

  /**
   * Sends a message to another account's devices (every one, as WhatsApp fans out), addressed by
   * LID unless `addressing` says phone number. Returns the message id.
   */
  async send(
    to: Account,
    message: proto.IMessage,
    options: { addressing?: "lid" | "pn"; id?: string } = {},
  ): Promise<string> {
    const server = options.addressing === "pn" ? "s.whatsapp.net" : "lid";
    const id = options.id ?? `3EB0${randomBytes(9).toString("hex").toUpperCase()}`;
    const plaintext = encodeWAMessage(message);
    const participants: BinaryNode[] = [];
    for (const device of to.devices.values()) {
      await this.#encryptFor(to.deviceJid(device.id, server), device.keys, plaintext, participants);
    }
    // A primary phone sends no device identity: only companions prove theirs (ADV).
    this.#sink({
      tag: "message",
      attrs: { id, to: server === "lid" ? to.lidJid : to.pnJid, type: message.reactionMessage ? "reaction" : "text" },
      content: [{ tag: "participants", attrs: {}, content: participants }],
    });
    return id;
  }

  sendText(to: Account, text: string, options: { addressing?: "lid" | "pn" } = {}): Promise<string> {
    return this.send(to, { conversation: text }, options);
  }

  /**
   * Sends to a group as Baileys does: the message once under this phone's sender key (skmsg), and
   * the key itself, 1:1-encrypted, to every member device that does not hold it yet.
   */
  async sendToGroup(group: GroupRoster, message: proto.IMessage, options: { id?: string } = {}): Promise<string> {
    const id = options.id ?? `3EB0${randomBytes(9).toString("hex").toUpperCase()}`;
    const { ciphertext, senderKeyDistributionMessage } = await this.#signal.encryptGroupMessage({
      group: group.jid,
      meId: this.account.deviceJid(0, "lid"),
      data: encodeWAMessage(message),
    });
    const distribution = encodeWAMessage({
      senderKeyDistributionMessage: {
        groupId: group.jid,
        axolotlSenderKeyDistributionMessage: senderKeyDistributionMessage,
      },
    });
    const holders = this.#senderKeyHolders.get(group.jid) ?? new Set<string>();
    this.#senderKeyHolders.set(group.jid, holders);
    const participants: BinaryNode[] = [];
    for (const member of group.members()) {
      for (const device of member.devices.values()) {
        const jid = member.deviceJid(device.id, "lid");
        if ((member === this.account && device.id === 0) || holders.has(jid)) continue;
        await this.#encryptFor(jid, device.keys, distribution, participants);
        holders.add(jid);
      }
    }
    const content: BinaryNode[] = [{ tag: "enc", attrs: { v: "2", type: "skmsg" }, content: ciphertext }];
    if (participants.length > 0) content.push({ tag: "participants", attrs: {}, content: participants });
    this.#sink({
      tag: "message",
      attrs: { id, to: group.jid, type: message.reactionMessage ? "reaction" : "text", addressing_mode: "lid" },
      content,
    });
    return id;
  }

  sendGroupText(group: GroupRoster, text: string): Promise<string> {
    return this.sendToGroup(group, { conversation: text });
  }

  /** Resolves once `predicate` holds for something the phone received (messages or receipts). */
  async waitFor<T>(find: () => T | undefined, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = find();
      if (found !== undefined) return found;
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`phone ${this.account.pn}: nothing matched within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async #encryptFor(
    deviceJid: string,
    bundle: KeyBundle,
    plaintext: Uint8Array,
    participants: BinaryNode[],
  ): Promise<void> {
    const { exists } = await this.#signal.validateSession(deviceJid);
    if (!exists) {
      // What the server's key fetch would return: one one-time pre-key, handed out once.
      const [preKeyId, preKey] = bundle.preKeys.entries().next().value ?? [];
      if (preKeyId !== undefined) bundle.preKeys.delete(preKeyId);
      await this.#signal.injectE2ESession({
        jid: deviceJid,
        session: {
          registrationId: bundle.registrationId,
          identityKey: withTypeByte(bundle.identityKey),
          signedPreKey: {
            keyId: bundle.signedPreKey.keyId,
            publicKey: withTypeByte(bundle.signedPreKey.publicKey),
            signature: bundle.signedPreKey.signature,
          },
          ...(preKeyId !== undefined && preKey ? { preKey: { keyId: preKeyId, publicKey: withTypeByte(preKey) } } : {}),
        },
      });
    }
    const { type, ciphertext } = await this.#signal.encryptMessage({ jid: deviceJid, data: plaintext });
    participants.push({
      tag: "to",
      attrs: { jid: deviceJid },
      content: [{ tag: "enc", attrs: { v: "2", type }, content: ciphertext }],
    });
  }

  async #receive(stanza: BinaryNode): Promise<void> {
    try {
      if (stanza.tag === "message" && isJidGroup(stanza.attrs.from)) await this.#receiveGroupMessage(stanza);
      else if (stanza.tag === "message") await this.#receiveMessage(stanza);
      else if (stanza.tag === "notification") this.notifications.push(readNotification(stanza));
      else if (stanza.tag === "receipt") {
        this.receipts.push({
          id: stanza.attrs.id ?? "",
          from: stanza.attrs.from ?? "",
          type: stanza.attrs.type ?? "delivery",
        });
        const list = getBinaryNodeChild(stanza, "list");
        for (const item of Array.isArray(list?.content) ? list.content : []) {
          this.receipts.push({
            id: item.attrs.id ?? "",
            from: stanza.attrs.from ?? "",
            type: stanza.attrs.type ?? "delivery",
          });
        }
      }
    } finally {
      for (const wake of this.#waiters.splice(0)) wake();
      for (const listener of this.#listeners) listener();
    }
  }

  /** Calls `listener` after every stanza the phone has taken in (its inbox, receipts or notifications may have grown). */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * A group message: this device's own copy (a pkmsg/msg carrying the author's sender key, the
   * first time) is read first, then the skmsg every member got, under that key.
   */
  async #receiveGroupMessage(stanza: BinaryNode): Promise<void> {
    const group = stanza.attrs.from ?? "";
    const author = stanza.attrs.participant ?? "";
    const id = stanza.attrs.id ?? "";
    let message: proto.Message | undefined;
    try {
      for (const enc of getBinaryNodeChildren(stanza, "enc")) {
        const { type } = enc.attrs;
        if (!(enc.content instanceof Uint8Array)) continue;
        let plaintext: Uint8Array;
        if (type === "skmsg") {
          plaintext = await this.#signal.decryptGroupMessage({ group, authorJid: author, msg: enc.content });
        } else if (type === "pkmsg" || type === "msg") {
          plaintext = await this.#signal.decryptMessage({ jid: author, type, ciphertext: enc.content });
        } else throw new Error(`unknown enc type ${type ?? "none"}`);
        const decoded = proto.Message.decode(unpadRandomMax16(plaintext));
        const distribution = decoded.senderKeyDistributionMessage;
        if (distribution) {
          await this.#signal.processSenderKeyDistributionMessage({ authorJid: author, item: distribution });
        }
        message = message ? Object.assign(message, decoded) : decoded;
      }
      if (!message) throw new Error("no enc to read");
      this.inbox.push({ id, from: author, chat: group, message, at: Date.now() });
      this.#sink({ tag: "receipt", attrs: { id, to: group, participant: author } });
    } catch (error) {
      this.#logger.warn({ err: error, id, group, author }, "phone could not decrypt a group message");
      this.failures.push({ id, from: author, error: error instanceof Error ? error.message : String(error) });
    }
  }

  async #receiveMessage(stanza: BinaryNode): Promise<void> {
    const from = stanza.attrs.from ?? "";
    const id = stanza.attrs.id ?? "";
    const enc = getBinaryNodeChild(stanza, "enc");
    const type = enc?.attrs.type;
    if (!enc || !(enc.content instanceof Uint8Array) || (type !== "pkmsg" && type !== "msg")) {
      this.failures.push({ id, from, error: `no pkmsg/msg enc (got ${type ?? "none"})` });
      return;
    }
    try {
      const plaintext = await this.#signal.decryptMessage({ jid: from, type, ciphertext: enc.content });
      let message = proto.Message.decode(unpadRandomMax16(plaintext));
      // A companion's copy of its own message reaches the phone wrapped, naming the chat.
      const sent = message.deviceSentMessage;
      const entry: PhoneInboxEntry = { id, from, chat: userJid(from), message, at: Date.now() };
      if (sent?.message) {
        message = proto.Message.fromObject(sent.message);
        entry.message = message;
        entry.chat = sent.destinationJid ?? entry.chat;
        const recipient = stanza.attrs.recipient ?? sent.destinationJid;
        if (recipient) entry.recipient = recipient;
      }
      this.inbox.push(entry);
      // Delivered: the sender's devices hear of it.
      this.#sink({ tag: "receipt", attrs: { id, to: userJid(from) } });
    } catch (error) {
      this.#logger.warn({ err: error, id, from }, "phone could not decrypt a message");
      this.failures.push({ id, from, error: error instanceof Error ? error.message : String(error) });
    }
  }
}

/** A notification as a test looks for it: what changed, by whom, about whom. */
function readNotification(stanza: BinaryNode): PhoneNotification {
  const change = Array.isArray(stanza.content) ? stanza.content[0] : undefined;
  return {
    id: stanza.attrs.id ?? "",
    from: stanza.attrs.from ?? "",
    type: stanza.attrs.type ?? "",
    ...(stanza.attrs.participant ? { author: stanza.attrs.participant } : {}),
    action: change?.tag ?? "",
    participants: getBinaryNodeChildren(change, "participant").map((p) => p.attrs.jid ?? ""),
    node: stanza,
  };
}

function withTypeByte(key: Uint8Array): Uint8Array {
  return key.length === 33 ? key : Buffer.concat([Buffer.from([5]), key]);
}

/** `user:device@server` → `user@server`. */
export function userJid(jid: string): string {
  const decoded = jidDecode(jid);
  return decoded ? `${decoded.user}@${decoded.server}` : jid;
}
