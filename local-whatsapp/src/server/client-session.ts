import { randomBytes } from "node:crypto";
import { type BinaryNode, binaryNodeToString, getBinaryNodeChild, S_WHATSAPP_NET } from "baileys";
import type { Logger } from "pino";
import type { Account, Device, KeyBundle } from "../accounts/directory.ts";
import { answerQuery, IqError } from "../iq/queries.ts";
import { signCompanion, verifyCompanionReply } from "../linking/device-identity.ts";
import type { ServerContext } from "./server-context.ts";
import type { ClientHello, WireConnection } from "./wire-connection.ts";

const REFS_PER_REGISTRATION = 6;
const now = () => String(Math.floor(Date.now() / 1_000));

/** A companion that connected without credentials and waits to be linked by a phone. */
export interface Registration {
  session: ClientSession;
  refs: string[];
  noiseKey: Uint8Array;
  keys: KeyBundle;
}

/**
 * One connected client after the handshake: either a registration (a new companion showing QR
 * codes until a phone links it) or a logged-in companion of an account, whose queries, messages and
 * receipts it serves.
 */
export class ClientSession {
  #login: { account: Account; device: Device } | undefined;
  #registration: Registration | undefined;
  readonly #awaiting = new Map<string, (node: BinaryNode) => void>();
  #nextId = 1;

  readonly connection: WireConnection;
  readonly #server: ServerContext;
  readonly #logger: Logger;

  constructor(connection: WireConnection, server: ServerContext, logger: Logger) {
    this.connection = connection;
    this.#server = server;
    this.#logger = logger;
    connection.onClose(() => this.#closed());
  }

  get login(): { account: Account; device: Device } | undefined {
    return this.#login;
  }

  get registration(): Registration | undefined {
    return this.#registration;
  }

  hello({ clientStatic, payload }: ClientHello): void {
    const pairing = payload.devicePairingData;
    if (pairing) {
      this.#register(clientStatic, pairing);
      return;
    }
    const pn = payload.username === undefined || payload.username === null ? "" : String(payload.username);
    const account = this.#server.directory.byPn(pn);
    const device = account?.devices.get(payload.device ?? 0);
    if (!account || !device?.noiseKey || !Buffer.from(device.noiseKey).equals(Buffer.from(clientStatic))) {
      // Not (or no longer) a linked device: WhatsApp answers 401 and the client must link again.
      this.connection.endWith({ tag: "failure", attrs: { reason: "401", location: "local" } });
      return;
    }
    const previous = device.endpoint;
    if (previous instanceof CompanionEndpoint) {
      previous.session.replaced();
      this.#server.loginReplaced(account.deviceJid(device.id, "s.whatsapp.net"));
    }
    this.#login = { account, device };
    device.endpoint = new CompanionEndpoint(this);
    this.connection.send({
      tag: "success",
      attrs: { t: now(), lid: account.deviceJid(device.id, "lid"), props: "1", abprops: "1", location: "local" },
    });
    const offline = device.offline.splice(0);
    for (const stanza of offline) this.connection.send(stanza);
    this.connection.send({
      tag: "ib",
      attrs: {},
      content: [{ tag: "offline", attrs: { count: String(offline.length) } }],
    });
  }

  async node(node: BinaryNode): Promise<void> {
    if (node.tag === "iq" && (node.attrs.type === "result" || node.attrs.type === "error")) {
      const waiter = this.#awaiting.get(node.attrs.id ?? "");
      if (waiter) {
        this.#awaiting.delete(node.attrs.id ?? "");
        waiter(node);
      }
      return;
    }
    if (node.tag === "iq") return this.#query(node);
    const login = this.#login;
    if (!login) return;
    if (node.tag === "message" && this.#server.refusals.take(login.account.pn)) {
      // A restricted number: the server takes the message and refuses it in the ack (463), delivering nothing.
      this.connection.send({
        tag: "ack",
        attrs: { class: "message", id: node.attrs.id ?? "", from: node.attrs.to ?? "", t: now(), error: "463" },
      });
      return;
    }
    const ack = this.#server.router.route({ account: login.account, device: login.device.id }, node);
    if (ack) this.connection.send(ack);
  }

  /** A phone scanned this registration's QR code (or entered its pairing code): link the companion. */
  async pairSuccess(
    account: Account,
    advSecret: Uint8Array,
    accountKey: { public: Uint8Array; private: Uint8Array },
  ): Promise<string> {
    const registration = this.#registration;
    if (!registration) throw new Error("this connection is not waiting to be linked");
    const deviceId = account.nextCompanionId();
    const { deviceIdentity, deviceDetails } = signCompanion({
      accountKey,
      companionIdentityKey: registration.keys.identityKey,
      keyIndex: deviceId,
      advSecret,
    });
    const jid = account.deviceJid(deviceId, "s.whatsapp.net");
    const reply = await this.#ask({
      tag: "iq",
      attrs: { from: S_WHATSAPP_NET, type: "set", xmlns: "md", t: now() },
      content: [
        {
          tag: "pair-success",
          attrs: {},
          content: [
            { tag: "device-identity", attrs: {}, content: deviceIdentity },
            { tag: "platform", attrs: { name: "smbi" } },
            { tag: "device", attrs: { jid, lid: account.deviceJid(deviceId, "lid") } },
          ],
        },
      ],
    });
    const signed = getBinaryNodeChild(getBinaryNodeChild(reply, "pair-device-sign"), "device-identity");
    if (
      reply.attrs.type !== "result" ||
      !(signed?.content instanceof Uint8Array) ||
      !verifyCompanionReply({
        signedIdentity: signed.content,
        deviceDetails,
        companionIdentityKey: registration.keys.identityKey,
        accountPublicKey: accountKey.public,
      })
    ) {
      this.connection.close();
      throw new Error("the companion did not countersign its device identity");
    }
    account.devices.set(deviceId, {
      id: deviceId,
      keys: registration.keys,
      noiseKey: registration.noiseKey,
      keyIndex: deviceId,
      offline: [],
    });
    this.#server.links.remove(registration);
    this.#registration = undefined;
    // Linked: the companion must log in again with its new identity.
    this.restart();
    return jid;
  }

  /** WhatsApp asks the client to reconnect (515). */
  restart(): void {
    this.connection.endWith({ tag: "stream:error", attrs: { code: "515" } });
  }

  /** Another connection logged in as this companion (440): this one is ended, never to fight back. */
  replaced(): void {
    this.#login = undefined;
    this.connection.endWith({
      tag: "stream:error",
      attrs: {},
      content: [{ tag: "conflict", attrs: { type: "replaced" } }],
    });
  }

  /** The phone removed this companion (401): its credentials are dead. */
  loggedOut(): void {
    this.#login = undefined;
    this.connection.endWith({
      tag: "stream:error",
      attrs: { code: "401" },
      content: [{ tag: "conflict", attrs: { type: "device_removed" } }],
    });
  }

  deliver(stanza: BinaryNode): void {
    this.connection.send(stanza);
  }

  send(node: BinaryNode): void {
    this.connection.send(node);
  }

  #register(clientStatic: Uint8Array, pairing: NonNullable<ClientHello["payload"]["devicePairingData"]>): void {
    const { eRegid, eIdent, eSkeyId, eSkeyVal, eSkeySig } = pairing;
    if (!eRegid || !eIdent || !eSkeyId || !eSkeyVal || !eSkeySig) {
      this.connection.endWith({ tag: "failure", attrs: { reason: "400", location: "local" } });
      return;
    }
    const refs = Array.from({ length: REFS_PER_REGISTRATION }, () => randomBytes(16).toString("base64url"));
    this.#registration = {
      session: this,
      refs,
      noiseKey: clientStatic,
      keys: {
        registrationId: Buffer.from(eRegid).readUInt32BE(0),
        identityKey: eIdent,
        signedPreKey: {
          keyId: Buffer.from(eSkeyId).readUIntBE(0, eSkeyId.length),
          publicKey: eSkeyVal,
          signature: eSkeySig,
        },
        preKeys: new Map(),
      },
    };
    this.#server.links.add(this.#registration);
    this.connection.send({
      tag: "iq",
      attrs: { from: S_WHATSAPP_NET, type: "set", id: this.#id(), xmlns: "md" },
      content: [
        {
          tag: "pair-device",
          attrs: {},
          content: refs.map((ref) => ({ tag: "ref", attrs: {}, content: Buffer.from(ref) })),
        },
      ],
    });
  }

  #query(iq: BinaryNode): void {
    const id = iq.attrs.id ?? "";
    const answer = (type: "result" | "error", content?: BinaryNode[]) =>
      this.connection.send({
        tag: "iq",
        attrs: { from: iq.attrs.to ?? S_WHATSAPP_NET, type, id },
        ...(content ? { content } : {}),
      });
    const handledBeforeLogin = this.#server.linkingQueries(this, iq);
    if (handledBeforeLogin !== "unhandled") {
      answer("result", handledBeforeLogin);
      return;
    }
    const login = this.#login;
    // Baileys pings from the handshake on, while it shows QR codes too: WhatsApp answers those.
    if (!login && iq.attrs.xmlns === "w:p") {
      answer("result");
      return;
    }
    if (!login) {
      answer("error", [{ tag: "error", attrs: { code: "401", text: "not-authorized" } }]);
      return;
    }
    try {
      answer(
        "result",
        answerQuery(iq, {
          directory: this.#server.directory,
          groups: this.#server.groups,
          media: this.#server.media,
          account: login.account,
          device: login.device,
          removeCompanion: () => this.#server.removeCompanion(login.account, login.device.id, this),
        }),
      );
    } catch (error) {
      const code = error instanceof IqError ? error.code : 500;
      const text = error instanceof IqError ? error.text : "internal-server-error";
      if (code === 501)
        this.#logger.warn({ iq: binaryNodeToString(iq) }, "local WhatsApp does not answer this query yet");
      else this.#logger.warn({ err: error, iq: binaryNodeToString(iq) }, "query refused");
      answer("error", [{ tag: "error", attrs: { code: String(code), text } }]);
    }
  }

  #ask(node: BinaryNode, timeoutMs = 10_000): Promise<BinaryNode> {
    const id = this.#id();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#awaiting.delete(id);
        reject(new Error(`the client did not answer ${node.tag} ${id} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#awaiting.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      this.connection.send({ ...node, attrs: { ...node.attrs, id } });
    });
  }

  #id(): string {
    return `local.${this.#nextId++}`;
  }

  #closed(): void {
    if (this.#registration) this.#server.links.remove(this.#registration);
    const login = this.#login;
    if (login && login.device.endpoint instanceof CompanionEndpoint && login.device.endpoint.session === this) {
      login.device.endpoint = undefined;
    }
    this.#login = undefined;
  }
}

/** A logged-in companion as the router sees it: stanzas go straight down its connection. */
export class CompanionEndpoint {
  readonly session: ClientSession;

  constructor(session: ClientSession) {
    this.session = session;
  }

  deliver(stanza: BinaryNode): void {
    this.session.deliver(stanza);
  }
}
