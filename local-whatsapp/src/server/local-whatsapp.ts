import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { type BinaryNode, Curve, getBinaryNodeChild, jidDecode, S_WHATSAPP_NET } from "baileys";
import { type Logger, pino } from "pino";
import { WebSocketServer } from "ws";
import { type Account, Directory } from "../accounts/directory.ts";
import type { Group } from "../groups/group.ts";
import { GroupNotifier } from "../groups/group-notifier.ts";
import { GroupOperations, type ParticipantAction, type ParticipantOutcome } from "../groups/group-operations.ts";
import { GroupRegistry } from "../groups/group-registry.ts";
import { LinkRegistry } from "../linking/link-registry.ts";
import { PrimaryCodeExchange } from "../linking/pairing-code.ts";
import { parseLinkingQr } from "../linking/qr-code.ts";
import { type MediaLimits, MediaServer } from "../media/media-server.ts";
import { MessageRouter } from "../messaging/message-router.ts";
import { createServerIdentity, type ServerIdentity } from "../noise/certificates.ts";
import type { KeyPair } from "../noise/noise-responder.ts";
import { type SavedPhone, SimulatedPhone } from "../phone/simulated-phone.ts";
import {
  type CappingSignal,
  cappingNotification,
  type ReachoutLockSignal,
  reachoutLockNotification,
  SendRefusals,
} from "../signals/whatsapp-signals.ts";
import { restoreAccounts, type ServerSnapshot, snapshotOf } from "../state/snapshot.ts";
import { ClientSession, CompanionEndpoint } from "./client-session.ts";
import type { ServerContext } from "./server-context.ts";
import { WireConnection } from "./wire-connection.ts";

export interface LocalWhatsAppOptions {
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  logger?: Logger;
  /** The root key clients trust; a new one per server unless given (or in `state`). */
  rootKey?: KeyPair;
  /** A snapshot to carry on from (`snapshot()`, kept by `--state`). */
  state?: ServerSnapshot;
  /** The media host's limits (it listens on `host` too, on a port of its own). */
  media?: MediaLimits;
}

const PAIRING_TIMEOUT_MS = 15_000;

/**
 * WhatsApp's server, locally, on the wire: a WebSocket endpoint speaking Noise XX and binary nodes
 * to real Baileys sockets, with accounts whose primary phones are simulated here. Tests and
 * `npm run dev` link companions to these phones, exchange Signal-encrypted messages with them and
 * make the server do what WhatsApp does (restart streams, log devices out, replace connections).
 */
export class LocalWhatsApp implements ServerContext {
  readonly directory = new Directory();
  readonly links = new LinkRegistry();
  readonly router: MessageRouter;
  /** Groups, as members change them (tests act for phones here: `groups.setSubject(phone.account, …)`). */
  readonly groups: GroupOperations;
  readonly #identity: ServerIdentity;
  readonly #phones = new Map<string, SimulatedPhone>();
  readonly #phoneListeners = new Set<(phone: SimulatedPhone) => void>();
  /** The next message sends of an account that the server refuses with 463 (a restricted number). */
  readonly refusals = new SendRefusals();
  readonly #sessions = new Set<ClientSession>();
  readonly #codeFinishes = new Map<string, (finish: BinaryNode) => void>();

  readonly url: string;
  /** The media host (`mmg.whatsapp.net` here): its `origin`, and the `caPem` a client must trust to reach it. */
  readonly media: MediaServer;
  readonly #http: Server;
  readonly #wss: WebSocketServer;
  readonly #logger: Logger;
  readonly #rootKey: KeyPair;

  private constructor(
    http: Server,
    wss: WebSocketServer,
    url: string,
    logger: Logger,
    rootKey: KeyPair,
    media: MediaServer,
  ) {
    this.#rootKey = rootKey;
    this.#http = http;
    this.media = media;
    this.#wss = wss;
    this.url = url;
    this.#logger = logger;
    this.#identity = createServerIdentity(rootKey);
    const groups = new GroupRegistry();
    this.router = new MessageRouter(this.directory, logger, groups);
    const notifier = new GroupNotifier((device, stanza) => this.router.deliver(device, stanza));
    this.groups = new GroupOperations(groups, this.directory, notifier);
    wss.on("connection", (ws) => {
      let session: ClientSession | undefined;
      const connection = new WireConnection(ws, this.#identity, logger, {
        onHello: (hello) => session?.hello(hello),
        onNode: (node) => session?.node(node),
      });
      session = new ClientSession(connection, this, logger);
      this.#sessions.add(session);
      connection.onClose(() => {
        if (session) this.#sessions.delete(session);
      });
    });
  }

  static async start(options: LocalWhatsAppOptions = {}): Promise<LocalWhatsApp> {
    const logger = options.logger ?? pino({ level: "silent" });
    const http = createServer((_request, response) => {
      response.writeHead(426, { "content-type": "text/plain" }).end("WebSocket only\n");
    });
    const wss = new WebSocketServer({ server: http, path: "/ws/chat" });
    const media = await MediaServer.start({
      host: options.host ?? "127.0.0.1",
      logger: logger.child({ component: "media" }),
      ...options.media,
    });
    http.listen(options.port ?? 0, options.host ?? "127.0.0.1");
    await once(http, "listening");
    const bound = http.address();
    if (bound === null || typeof bound === "string") throw new Error("the local WhatsApp server has no TCP address");
    const { address, port } = bound;
    const host = address.includes(":") ? `[${address}]` : address;
    const rootKey = options.state?.rootKey ?? options.rootKey ?? Curve.generateKeyPair();
    const server = new LocalWhatsApp(http, wss, `ws://${host}:${port}/ws/chat`, logger, rootKey, media);
    if (options.state) server.#restore(options.state);
    return server;
  }

  /** Accounts, devices and phones from a snapshot, as they were. */
  #restore(state: ServerSnapshot): void {
    restoreAccounts(this.directory, state.accounts);
    for (const saved of state.phones) {
      const account = this.directory.byPn(saved.pn);
      if (!account) throw new Error(`the state has a phone for ${saved.pn} but no account`);
      const phone = this.#phoneFor(account, saved);
      phone.attach();
      this.#phones.set(saved.pn, phone);
    }
  }

  /** What `--state` keeps (see state/snapshot.ts). */
  snapshot(): ServerSnapshot {
    return snapshotOf({
      rootKey: this.#rootKey,
      accounts: this.directory.accounts(),
      phones: [...this.#phones.values()].map((phone) => ({ pn: phone.account.pn, saved: phone.snapshot() })),
    });
  }

  /** What a client must trust (Baileys' `WA_CERT_DETAILS.PUBLIC_KEY`) to accept this server. */
  get rootPublicKey(): Uint8Array {
    return this.#identity.rootPublicKey;
  }

  /** A new account with its primary phone. */
  async createPhone(pn: string, pushName = `Phone ${pn.slice(-4)}`): Promise<SimulatedPhone> {
    const account = this.directory.create(pn, pushName);
    const phone = this.#phoneFor(account);
    await phone.register();
    this.#phones.set(pn, phone);
    for (const listener of this.#phoneListeners) listener(phone);
    return phone;
  }

  #phoneFor(account: Account, saved?: SavedPhone): SimulatedPhone {
    const sink = (stanza: BinaryNode) => {
      this.router.route({ account, device: 0 }, stanza);
    };
    return new SimulatedPhone(account, sink, this.#logger.child({ phone: account.pn }), saved);
  }

  phone(pn: string): SimulatedPhone | undefined {
    return this.#phones.get(pn);
  }

  /** Every account's phone, in the order they were made. */
  phones(): IterableIterator<SimulatedPhone> {
    return this.#phones.values();
  }

  /** Calls `listener` for every phone made from now on. */
  onPhone(listener: (phone: SimulatedPhone) => void): () => void {
    this.#phoneListeners.add(listener);
    return () => this.#phoneListeners.delete(listener);
  }

  /** WhatsApp warns or locks a number: every connected companion of the account is told (ADR 24's signals). */
  signal(
    pn: string,
    signal: { kind: "capping"; capping: CappingSignal } | { kind: "reachoutLock"; lock: ReachoutLockSignal },
  ): number {
    const account = this.directory.byPn(pn);
    const node =
      signal.kind === "capping" ? cappingNotification(signal.capping) : reachoutLockNotification(signal.lock);
    let told = 0;
    for (const device of account?.devices.values() ?? []) {
      if (device.id === 0 || !(device.endpoint instanceof CompanionEndpoint)) continue;
      device.endpoint.session.send(node);
      told++;
    }
    return told;
  }

  /** A phone creates a group with other phones' accounts in it; it is the group's superadmin. */
  createGroup(phone: SimulatedPhone, subject: string, members: readonly SimulatedPhone[]): Group {
    return this.groups.create(
      phone.account,
      subject,
      members.map((member) => member.account.lidJid),
    );
  }

  /** A phone adds, removes, promotes or demotes members (refused unless it is an admin); the outcome per member. */
  updateGroupParticipants(
    phone: SimulatedPhone,
    group: Group,
    action: ParticipantAction,
    members: readonly SimulatedPhone[],
  ): ParticipantOutcome[] {
    return this.groups.changeParticipants(
      phone.account,
      group.jid,
      action,
      members.map((member) => member.account.lidJid),
    );
  }

  /** The phone scans a QR code a companion shows: links it and returns its device jid. */
  async scanQr(phone: SimulatedPhone, qr: string): Promise<string> {
    const code = parseLinkingQr(qr);
    const registration = this.links.byRef(code.ref);
    if (!registration) throw new Error("this QR code has expired or was never shown by a connected companion");
    if (
      !Buffer.from(registration.noiseKey).equals(code.noiseKey) ||
      !Buffer.from(registration.keys.identityKey).equals(code.identityKey)
    ) {
      throw new Error("this QR code's keys do not match the companion that showed it");
    }
    return registration.session.pairSuccess(phone.account, code.advSecret, phone.accountSignatureKey);
  }

  /** The phone enters the pairing code a companion asked for with this phone's number. */
  async enterPairingCode(phone: SimulatedPhone, code: string): Promise<string> {
    const request = this.links.codeRequestsFor(phone.account.pn).at(-1);
    if (!request) throw new Error(`no companion is waiting for a pairing code for ${phone.account.pn}`);
    const exchange = await PrimaryCodeExchange.open(
      code.replace(/-/g, "").toUpperCase(),
      request.wrappedCompanionEphemeral,
    );
    const finished = new Promise<BinaryNode>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#codeFinishes.delete(request.ref);
        reject(new Error("the companion did not finish linking by code"));
      }, PAIRING_TIMEOUT_MS);
      this.#codeFinishes.set(request.ref, (finish) => {
        clearTimeout(timer);
        resolve(finish);
      });
    });
    request.registration.session.send({
      tag: "notification",
      attrs: {
        from: S_WHATSAPP_NET,
        type: "link_code_companion_reg",
        id: `code.${request.ref}`,
        t: String(Math.floor(Date.now() / 1_000)),
      },
      content: [
        {
          tag: "link_code_companion_reg",
          attrs: { stage: "primary_hello" },
          content: [
            { tag: "link_code_pairing_ref", attrs: {}, content: Buffer.from(request.ref) },
            { tag: "primary_identity_pub", attrs: {}, content: phone.accountSignatureKey.public },
            {
              tag: "link_code_pairing_wrapped_primary_ephemeral_pub",
              attrs: {},
              content: await exchange.wrappedPrimaryEphemeral(code.replace(/-/g, "").toUpperCase()),
            },
          ],
        },
      ],
    });
    const finish = await finished;
    const bundle = getBinaryNodeChild(finish, "link_code_pairing_wrapped_key_bundle")?.content;
    if (!(bundle instanceof Uint8Array)) throw new Error("the companion's finish has no key bundle");
    let advSecret: Buffer;
    try {
      ({ advSecret } = exchange.finish({ wrappedKeyBundle: bundle, accountKey: phone.accountSignatureKey }));
    } catch {
      throw new Error("the pairing code does not match the one the companion shows");
    }
    return request.registration.session.pairSuccess(phone.account, advSecret, phone.accountSignatureKey);
  }

  linkingQueries(session: ClientSession, iq: BinaryNode): BinaryNode[] | undefined | "unhandled" {
    const reg = getBinaryNodeChild(iq, "link_code_companion_reg");
    if (iq.attrs.xmlns !== "md" || !reg) return "unhandled";
    const registration = session.registration;
    if (reg.attrs.stage === "companion_hello" && registration) {
      const wrapped = getBinaryNodeChild(reg, "link_code_pairing_wrapped_companion_ephemeral_pub")?.content;
      const pn = jidDecode(reg.attrs.jid ?? "")?.user;
      if (!(wrapped instanceof Uint8Array) || !pn) return undefined;
      const ref = Buffer.from(crypto.getRandomValues(new Uint8Array(12))).toString("base64url");
      this.links.requestCode({ registration, pn, wrappedCompanionEphemeral: wrapped, ref });
      return [
        {
          tag: "link_code_companion_reg",
          attrs: {},
          content: [{ tag: "link_code_pairing_ref", attrs: {}, content: Buffer.from(ref) }],
        },
      ];
    }
    if (reg.attrs.stage === "companion_finish") {
      const ref = getBinaryNodeChild(reg, "link_code_pairing_ref")?.content;
      const finish = ref instanceof Uint8Array ? this.#codeFinishes.get(Buffer.from(ref).toString()) : undefined;
      if (ref instanceof Uint8Array) this.#codeFinishes.delete(Buffer.from(ref).toString());
      finish?.(reg);
    }
    return undefined;
  }

  /** The companions linked to a phone's account, as device jids. */
  companions(phone: SimulatedPhone): string[] {
    return [...phone.account.devices.values()]
      .filter((device) => device.id !== 0)
      .map((device) => phone.account.deviceJid(device.id, "s.whatsapp.net"));
  }

  /** Unlinks a companion (from the phone's "Linked devices", or the companion's own logout). */
  removeCompanion(account: Account, deviceId: number, by?: ClientSession): void {
    const device = account.devices.get(deviceId);
    if (!device || deviceId === 0) return;
    account.devices.delete(deviceId);
    const endpoint = device.endpoint;
    if (endpoint instanceof CompanionEndpoint && endpoint.session !== by) endpoint.session.loggedOut();
  }

  /** Companions (device jids) whose live connection a second login replaced (440), in order. */
  readonly replacedLogins: string[] = [];

  loginReplaced(companionJid: string): void {
    this.replacedLogins.push(companionJid);
  }

  /** The session of a connected companion, by its device jid. */
  #sessionOf(jid: string): ClientSession | undefined {
    const found = this.directory.resolve(jid);
    const endpoint = found?.account.devices.get(found.device)?.endpoint;
    return endpoint instanceof CompanionEndpoint ? endpoint.session : undefined;
  }

  /** The phone logs a companion out: it is told 401 now, or at its next login. */
  logOut(companionJid: string): void {
    const found = this.directory.resolve(companionJid);
    if (!found) throw new Error(`no companion ${companionJid}`);
    this.removeCompanion(found.account, found.device);
  }

  /** WhatsApp restarts a companion's stream (515); false when it is not connected. */
  restartStream(companionJid: string): boolean {
    const session = this.#sessionOf(companionJid);
    session?.restart();
    return session !== undefined;
  }

  /** The network drops a companion's connection without a word; false when it is not connected. */
  dropConnection(companionJid: string): boolean {
    const session = this.#sessionOf(companionJid);
    session?.connection.drop();
    return session !== undefined;
  }

  isConnected(companionJid: string): boolean {
    return this.#sessionOf(companionJid) !== undefined;
  }

  async close(): Promise<void> {
    for (const session of this.#sessions) session.connection.drop();
    this.#wss.close();
    this.#http.closeAllConnections();
    await new Promise<void>((resolve) => this.#http.close(() => resolve()));
    await this.media.close();
  }
}
