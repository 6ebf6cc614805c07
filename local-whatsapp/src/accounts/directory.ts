import { randomInt } from "node:crypto";
import { type BinaryNode, jidDecode, jidEncode } from "baileys";

/** What a device publishes so others can open a Signal session with it (WhatsApp's key bundle). */
export interface KeyBundle {
  registrationId: number;
  /** 32-byte Curve25519 public keys, as Baileys uploads them (no type byte). */
  identityKey: Uint8Array;
  signedPreKey: { keyId: number; publicKey: Uint8Array; signature: Uint8Array };
  /** One-time pre-keys; each is handed out once, then gone. */
  preKeys: Map<number, Uint8Array>;
}

/** Where a device's stanzas go: a client connection (a companion) or a simulated phone. */
export interface DeviceEndpoint {
  deliver(stanza: BinaryNode): void;
}

export interface Device {
  id: number;
  keys: KeyBundle;
  /** A linked companion's Noise static key, which it must present at every login. */
  noiseKey?: Uint8Array;
  /** ADV key index of a companion (0 for the phone). */
  keyIndex: number;
  endpoint?: DeviceEndpoint | undefined;
  /** Stanzas for a companion that was offline, delivered at its next login. */
  offline: BinaryNode[];
}

/** A WhatsApp account: a phone number, its LID, its primary phone (device 0) and linked companions. */
export class Account {
  readonly devices = new Map<number, Device>();
  #nextCompanionId = 1;

  /** Digits only. */
  readonly pn: string;
  /** Digits only: the account's privacy id (`<lid>@lid`). */
  readonly lid: string;
  pushName: string;

  constructor(pn: string, lid: string, pushName: string) {
    this.pn = pn;
    this.lid = lid;
    this.pushName = pushName;
  }

  get pnJid(): string {
    return `${this.pn}@s.whatsapp.net`;
  }

  get lidJid(): string {
    return `${this.lid}@lid`;
  }

  nextCompanionId(): number {
    return this.#nextCompanionId++;
  }

  /** The device id the next companion gets (ids are never reused, as WhatsApp's are not). */
  get companionIdsIssued(): number {
    return this.#nextCompanionId - 1;
  }

  /** Carries on from a snapshot: the next companion gets `issued + 1`. */
  restoreCompanionIds(issued: number): void {
    this.#nextCompanionId = issued + 1;
  }

  /** A device's jid in the addressing the conversation uses. */
  deviceJid(device: number, server: "lid" | "s.whatsapp.net"): string {
    return jidEncode(server === "lid" ? this.lid : this.pn, server, device);
  }
}

/** The server's phone book: accounts by number and by LID. */
export class Directory {
  readonly #byPn = new Map<string, Account>();
  readonly #byLid = new Map<string, Account>();

  create(pn: string, pushName: string, lid?: string): Account {
    if (!/^\d{6,15}$/.test(pn)) throw new Error(`phone number "${pn}" must be 6-15 digits`);
    if (this.#byPn.has(pn)) throw new Error(`an account for ${pn} already exists`);
    if (lid !== undefined && this.#byLid.has(lid)) throw new Error(`LID ${lid} is taken`);
    while (lid === undefined || this.#byLid.has(lid)) {
      lid = String(randomInt(10_000_000, 99_999_999)) + String(randomInt(1_000_000, 9_999_999));
    }
    const account = new Account(pn, lid, pushName);
    this.#byPn.set(pn, account);
    this.#byLid.set(lid, account);
    return account;
  }

  byPn(pn: string): Account | undefined {
    return this.#byPn.get(pn);
  }

  /** The account and device a jid names, in either addressing (`pn[:d]@s.whatsapp.net`, `lid[:d]@lid`). */
  resolve(jid: string): { account: Account; device: number; server: "lid" | "s.whatsapp.net" } | undefined {
    const decoded = jidDecode(jid);
    if (!decoded?.user) return undefined;
    if (decoded.server === "lid") {
      const account = this.#byLid.get(decoded.user);
      return account ? { account, device: decoded.device ?? 0, server: "lid" } : undefined;
    }
    if (decoded.server === "s.whatsapp.net") {
      const account = this.#byPn.get(decoded.user);
      return account ? { account, device: decoded.device ?? 0, server: "s.whatsapp.net" } : undefined;
    }
    return undefined;
  }

  accounts(): IterableIterator<Account> {
    return this.#byPn.values();
  }
}
