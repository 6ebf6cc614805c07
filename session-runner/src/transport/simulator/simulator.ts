import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { Boom } from "@hapi/boom";
import {
  ACCOUNT_RESTRICTED_TEXT,
  type AnyMessageContent,
  areJidsSameUser,
  DisconnectReason,
  type GroupMetadata,
  type GroupParticipant,
  generateWAMessage,
  type NewChatMessageCapInfo,
  type ParticipantAction,
  proto,
  type ReachoutTimelockState,
  SERVER_ERROR_CODES,
  type WAMessage,
  type WAMessageKey,
} from "baileys";
import { MediaDownloadError, type MediaLimits } from "../baileys/media-download.ts";
import { isLinked } from "../linked-credentials.ts";
import type {
  ConnectOptions,
  ParticipantResult,
  SendOptions,
  Transport,
  TransportEvent,
  TransportEvents,
  TransportSocket,
} from "../transport.ts";

/** What a simulated bot sent, as WhatsApp's servers would have received it. */
export interface SentMessage {
  jid: string;
  message: WAMessage;
}

const MAX_SENT = 1_000;
/** Media kept "on WhatsApp's servers": the oldest is forgotten first, as WhatsApp expires media. */
const MAX_MEDIA = 500;
const CROCKFORD = "123456789ABCDEFGHJKLMNPQRSTVWXYZ";

/**
 * An in-process stand-in for WhatsApp's servers, for development and tests. Each `connect` is a
 * socket that behaves like Baileys' at the events the runner sees: `connecting`, QR codes for an
 * unlinked session, the 515 restart after linking, `open`; real WAProto messages in and out (built
 * by Baileys' own `generateWAMessage`); and closes with WhatsApp's status codes on demand.
 */
export class SimulatedWhatsApp {
  readonly #sockets = new Set<SimulatedSocket>();
  readonly #groups = new Map<string, GroupMetadata>();
  /** Media "on WhatsApp's servers", by URL: what delivered media messages point at. */
  readonly #media = new Map<string, Buffer>();
  readonly #invites = new Map<string, string>();
  readonly #sentListeners = new Set<(socket: SimulatedSocket, sent: SentMessage) => void>();
  #nextQr = 0;
  #nextMedia = 0;
  /** Group metadata queries received: what WhatsApp rate-limits, and what caching must keep low. */
  groupMetadataQueries = 0;
  /** Numbers whose privacy settings refuse being added to groups (WhatsApp answers 403: invite them). */
  readonly inviteOnly = new Set<string>();
  /**
   * Whether the phones' devices acknowledge what bots send them, as real ones do within a second:
   * on by default; a test turns it off to send its own receipts with `SimulatedSocket.receipt`.
   */
  deliveryReceipts = true;

  transport(): Transport {
    return { connect: (options) => this.#connect(options) };
  }

  /** Sockets not yet closed, oldest first. */
  get liveSockets(): SimulatedSocket[] {
    return [...this.#sockets];
  }

  addGroup(metadata: GroupMetadata): void {
    this.#groups.set(metadata.id, metadata);
  }

  group(jid: string): GroupMetadata | undefined {
    return this.#groups.get(jid);
  }

  /** The group's current invite code (made on first request, replaced by a revoke). */
  inviteCode(jid: string, { revoke = false } = {}): string {
    const current = this.#invites.get(jid);
    if (current && !revoke) return current;
    const code = randomBytes(16).toString("base64url").slice(0, 22);
    this.#invites.set(jid, code);
    return code;
  }

  /** A closed socket is forgotten: a long `npm run dev` must not keep every connection it ever made. */
  closed(socket: SimulatedSocket): void {
    this.#sockets.delete(socket);
  }

  storeMedia(data: Buffer): string {
    this.#nextMedia += 1;
    const url = `https://mmg.whatsapp.net/simulated/${this.#nextMedia}`;
    this.#media.set(url, data);
    for (const old of this.#media.keys()) {
      if (this.#media.size <= MAX_MEDIA) break;
      this.#media.delete(old);
    }
    return url;
  }

  /** Every message any simulated bot sends, as it leaves: what a phone on the other side receives. */
  onSent(listener: (socket: SimulatedSocket, sent: SentMessage) => void): () => void {
    this.#sentListeners.add(listener);
    return () => this.#sentListeners.delete(listener);
  }

  sentBy(socket: SimulatedSocket, sent: SentMessage): void {
    for (const listener of this.#sentListeners) listener(socket, sent);
  }

  media(url: string | null | undefined): Buffer | undefined {
    return url ? this.#media.get(url) : undefined;
  }

  nextQr(): string {
    this.#nextQr += 1;
    return `2@simulated-qr-${this.#nextQr},${Buffer.from(`ref-${this.#nextQr}`).toString("base64")}`;
  }

  #connect(options: ConnectOptions): TransportSocket {
    const socket = new SimulatedSocket(this, options);
    this.#sockets.add(socket);
    queueMicrotask(() => socket.start());
    return socket;
  }
}

/** The media a send carries as bytes (what tests and the outbox pass), before Baileys encrypts it. */
function mediaBytes(content: AnyMessageContent): Buffer | undefined {
  const media =
    "image" in content
      ? content.image
      : "sticker" in content
        ? content.sticker
        : "video" in content
          ? content.video
          : "audio" in content
            ? content.audio
            : "document" in content
              ? content.document
              : undefined;
  return Buffer.isBuffer(media) ? media : undefined;
}

export class SimulatedSocket implements TransportSocket {
  /** The most recent sends (bounded, as the simulator also runs for days under `npm run dev`). */
  readonly sent: SentMessage[] = [];
  readonly #server: SimulatedWhatsApp;
  readonly #options: ConnectOptions;
  readonly #events = new EventEmitter();
  readonly #frameListeners: Array<() => void> = [];
  #state: "new" | "connecting" | "qr" | "open" | "closed" = "new";
  #pairing: { code: string; phoneNumber: string } | undefined;
  #qr: string | undefined;
  /** Sends WhatsApp still answers with error 463 (the account may not start new chats). */
  #refuse463 = 0;

  constructor(server: SimulatedWhatsApp, options: ConnectOptions) {
    this.#server = server;
    this.#options = options;
  }

  get closed(): boolean {
    return this.#state === "closed";
  }

  get state(): string {
    return this.#state;
  }

  /** The QR code this socket shows now (what a phone would scan), while it waits to be linked. */
  get qr(): string | undefined {
    return this.#state === "qr" ? this.#qr : undefined;
  }

  get pairingCode(): string | undefined {
    return this.#state === "qr" ? this.#pairing?.code : undefined;
  }

  get creds() {
    return this.#options.auth.creds;
  }

  on<E extends TransportEvent>(event: E, listener: (data: TransportEvents[E]) => void): void {
    this.#events.on(event, listener);
  }

  onFrame(listener: () => void): void {
    this.#frameListeners.push(listener);
  }

  /** The server answers a keep-alive (or sends anything): the socket's liveness signal. */
  frame(): void {
    if (this.closed) return;
    for (const listener of this.#frameListeners) listener();
  }

  #emit<E extends TransportEvent>(event: E, data: TransportEvents[E]): void {
    if (this.closed && event !== "connection.update") return;
    this.frame();
    this.#events.emit(event, data);
  }

  start(): void {
    if (this.closed) return;
    this.#state = "connecting";
    this.#emit("connection.update", { connection: "connecting" });
    if (isLinked(this.creds)) {
      this.#open();
    } else {
      this.#state = "qr";
      this.#showQr();
    }
  }

  #open(): void {
    this.#state = "open";
    this.#emit("connection.update", { connection: "open" });
    this.#emit("connection.update", { receivedPendingNotifications: true });
  }

  /** The phone scanned the QR code (or entered the pairing code): WhatsApp links, then restarts the stream. */
  link(phoneNumber: string, lid = `${phoneNumber.slice(-6)}${phoneNumber.slice(0, 9)}`): void {
    if (this.#state !== "qr") throw new Error(`cannot link a socket in state ${this.#state}`);
    // As Baileys: the account's signed identity marks the link; `registered` only a pairing code.
    this.#emit("creds.update", {
      me: { id: `${phoneNumber}:1@s.whatsapp.net`, lid: `${lid}:1@lid`, name: "Simulated" },
      account: { details: randomBytes(32), accountSignatureKey: randomBytes(32), accountSignature: randomBytes(64) },
      ...(this.#pairing ? { registered: true } : {}),
      platform: "simulator",
    });
    this.#emit("connection.update", { isNewLogin: true });
    this.#close(DisconnectReason.restartRequired, "restart required");
  }

  /** WhatsApp hands out the next QR code of this connection (each lives 20 s after the first's 60 s). */
  rotateQr(): void {
    if (this.#state !== "qr") throw new Error(`cannot rotate the QR code of a socket in state ${this.#state}`);
    this.#showQr();
  }

  #showQr(): void {
    this.#qr = this.#server.nextQr();
    this.#emit("connection.update", { qr: this.#qr });
  }

  /** Nobody scanned any of the QR codes: WhatsApp closes the connection with 408, as Baileys reports it. */
  expireQr(): void {
    if (this.#state !== "qr") throw new Error(`cannot expire the QR codes of a socket in state ${this.#state}`);
    this.#close(DisconnectReason.timedOut, "QR refs attempts ended");
  }

  /** The phone entered this socket's pairing code. */
  enterPairingCode(code: string): void {
    if (!this.#pairing || code !== this.#pairing.code) throw new Error("wrong pairing code");
    this.link(this.#pairing.phoneNumber);
  }

  async requestPairingCode(phoneNumber: string): Promise<string> {
    if (this.#state !== "qr") throw new Boom("Connection Closed", { statusCode: DisconnectReason.connectionClosed });
    if (!/^\d{7,15}$/.test(phoneNumber)) throw new Error("phone number must be digits only");
    const code = Array.from({ length: 8 }, () => CROCKFORD[Math.floor(Math.random() * CROCKFORD.length)]).join("");
    this.#pairing = { code, phoneNumber };
    this.#emit("creds.update", { pairingCode: code });
    return code;
  }

  /** A WhatsApp user's message arrives, as a real WebMessageInfo. */
  deliver(
    message: Omit<proto.IWebMessageInfo, "key"> & { key: WAMessageKey },
    type: "notify" | "append" = "notify",
  ): WAMessage {
    if (this.#state !== "open") throw new Error(`cannot deliver to a socket in state ${this.#state}`);
    const info = proto.WebMessageInfo.fromObject(message);
    // Baileys puts the `*Alt` addressing fields on the key beside the protobuf's own; so does this.
    const delivered: WAMessage = Object.assign(info, { key: message.key });
    this.#emit("messages.upsert", { messages: [delivered], type });
    return delivered;
  }

  /** A WhatsApp user sends an image (optionally with a caption), its bytes kept on the simulated media server. */
  deliverImage(key: WAMessageKey, data: Buffer, options: { caption?: string; mimetype?: string } = {}): WAMessage {
    return this.deliver({
      key,
      messageTimestamp: Math.floor(Date.now() / 1000),
      message: {
        imageMessage: {
          url: this.#server.storeMedia(data),
          mimetype: options.mimetype ?? "image/jpeg",
          fileLength: data.length,
          ...(options.caption === undefined ? {} : { caption: options.caption }),
        },
      },
    });
  }

  /** A WhatsApp user sends a sticker (WebP bytes), kept on the simulated media server. Stickers have no caption. */
  deliverSticker(key: WAMessageKey, data: Buffer, options: { animated?: boolean } = {}): WAMessage {
    return this.deliver({
      key,
      messageTimestamp: Math.floor(Date.now() / 1000),
      message: {
        stickerMessage: {
          url: this.#server.storeMedia(data),
          mimetype: "image/webp",
          fileLength: data.length,
          isAnimated: options.animated ?? false,
        },
      },
    });
  }

  async downloadMedia(message: WAMessage, limits: MediaLimits): Promise<Buffer> {
    const content = message.message;
    const url =
      content?.imageMessage?.url ??
      content?.videoMessage?.url ??
      content?.stickerMessage?.url ??
      content?.audioMessage?.url ??
      content?.documentMessage?.url;
    const data = this.#server.media(url);
    if (!data) throw new MediaDownloadError("unavailable", "media not found (expired or never uploaded)");
    if (data.length > limits.maxBytes) {
      throw new MediaDownloadError("too_large", `the media is ${data.length} bytes; at most ${limits.maxBytes}`);
    }
    return data;
  }

  /** A message this device could not decrypt, as Baileys hands it on: a CIPHERTEXT stub. */
  deliverUndecryptable(key: WAMessageKey, error = "Bad MAC"): WAMessage {
    return this.deliver({
      key,
      messageTimestamp: Math.floor(Date.now() / 1000),
      messageStubType: proto.WebMessageInfo.StubType.CIPHERTEXT,
      messageStubParameters: [error],
    });
  }

  /** Someone changes a group's participants: the server's copy changes and the event arrives. */
  changeParticipants(groupJid: string, participants: GroupParticipant[], action: ParticipantAction, author = ""): void {
    const group = this.#server.group(groupJid);
    if (!group) throw new Error(`no group ${groupJid}`);
    const ids = new Set(participants.map((p) => p.id));
    const rest = group.participants.filter((p) => !ids.has(p.id));
    const next =
      action === "remove"
        ? rest
        : action === "add"
          ? [...rest, ...participants.map((p) => ({ ...p, admin: null }))]
          : group.participants.map((p) =>
              ids.has(p.id) ? { ...p, admin: action === "promote" ? ("admin" as const) : null } : p,
            );
    this.#server.addGroup({ ...group, participants: next, size: next.length });
    this.#emit("group-participants.update", { id: groupJid, author, participants, action });
  }

  /** Presence updates the bot sent ("typing…"), oldest first, bounded like `sent`. */
  readonly presences: Array<{ jid: string; presence: string }> = [];

  async sendPresenceUpdate(presence: "composing" | "paused", jid: string): Promise<void> {
    this.#assertOpen();
    this.presences.push({ jid, presence });
    if (this.presences.length > MAX_SENT) this.presences.splice(0, this.presences.length - MAX_SENT);
  }

  /** As WhatsApp does: only a group admin may change participants, and each one gets its own status. */
  async groupParticipantsUpdate(
    groupJid: string,
    participants: string[],
    action: ParticipantAction,
  ): Promise<ParticipantResult[]> {
    const group = this.#adminOf(groupJid);
    const member = (jid: string) =>
      group.participants.find((p) => [p.id, p.lid, p.phoneNumber].some((id) => id && areJidsSameUser(id, jid)));
    const results: ParticipantResult[] = [];
    const changed: GroupParticipant[] = [];
    for (const jid of participants) {
      const existing = member(jid);
      let status = "200";
      if (action === "add") {
        if (existing) status = "409";
        else if (this.#server.inviteOnly.has(jid.split("@")[0] ?? "")) status = "403";
      } else if (!existing) {
        status = "404";
      } else if (existing.admin === "superadmin" && action !== "promote") {
        // Nobody removes or demotes the group's creator.
        status = "406";
      }
      results.push({ jid, status });
      if (status === "200") changed.push(existing ?? { id: jid, phoneNumber: jid, admin: null });
    }
    if (changed.length > 0) this.changeParticipants(groupJid, changed, action, this.creds.me?.lid ?? "");
    this.frame();
    return results;
  }

  async groupInviteCode(jid: string): Promise<string | undefined> {
    this.#adminOf(jid);
    return this.#server.inviteCode(jid);
  }

  async groupRevokeInvite(jid: string): Promise<string | undefined> {
    this.#adminOf(jid);
    return this.#server.inviteCode(jid, { revoke: true });
  }

  async groupUpdateSubject(jid: string, subject: string): Promise<void> {
    const group = this.#adminOf(jid);
    this.#server.addGroup({ ...group, subject });
    this.#emit("groups.update", [{ id: jid, subject, author: this.creds.me?.lid ?? "" }]);
  }

  async groupUpdateDescription(jid: string, description: string): Promise<void> {
    const group = this.#adminOf(jid);
    this.#server.addGroup({ ...group, desc: description });
    this.#emit("groups.update", [{ id: jid, desc: description, author: this.creds.me?.lid ?? "" }]);
  }

  /** The group, if this bot is one of its admins; otherwise WhatsApp refuses the request. */
  #adminOf(jid: string): GroupMetadata {
    this.#assertOpen();
    const group = this.#server.group(jid);
    if (!group) throw new Boom("item-not-found", { statusCode: 404 });
    const me = [this.creds.me?.id, this.creds.me?.lid].filter((id): id is string => Boolean(id));
    const self = group.participants.find((p) =>
      [p.id, p.lid, p.phoneNumber].some((id) => id && me.some((mine) => areJidsSameUser(id, mine))),
    );
    if (!self?.admin) throw new Boom("not-authorized", { statusCode: 401 });
    return group;
  }

  #assertOpen(): void {
    if (this.#state !== "open") throw new Boom("Connection Closed", { statusCode: DisconnectReason.connectionClosed });
  }

  async sendMessage(
    jid: string,
    content: AnyMessageContent,
    options: SendOptions = {},
  ): Promise<WAMessage | undefined> {
    if (this.#state !== "open") throw new Boom("Connection Closed", { statusCode: DisconnectReason.connectionClosed });
    // As Baileys does: a group send needs the participant list, from the cache or else a query.
    if (jid.endsWith("@g.us") && !(await this.#options.cachedGroupMetadata(jid))) await this.groupMetadata(jid);
    const userJid = this.creds.me?.id ?? "0@s.whatsapp.net";
    const plainMedia = mediaBytes(content);
    const message = await generateWAMessage(jid, content, {
      userJid,
      ...(options.messageId ? { messageId: options.messageId } : {}),
      ...(options.quoted ? { quoted: options.quoted } : {}),
      logger: this.#options.logger,
      // Media stays in memory, on the simulated media server under the message's URL: what the bot
      // sent can be downloaded again (a user replying to the bot's sticker, a test reading the image).
      upload: async () => ({
        mediaUrl: plainMedia ? this.#server.storeMedia(plainMedia) : "https://mmg.whatsapp.net/simulated",
        directPath: "/simulated",
      }),
    });
    if (this.#refuse463 > 0) {
      this.#refuse463 -= 1;
      this.#refused(message);
      return message;
    }
    const sent = { jid, message };
    this.sent.push(sent);
    if (this.sent.length > MAX_SENT) this.sent.splice(0, this.sent.length - MAX_SENT);
    this.frame();
    this.#server.sentBy(this, sent);
    if (this.#server.deliveryReceipts) {
      // The recipient's device acknowledges after the server did (the send's own return comes first).
      const key = message.key;
      setImmediate(() => {
        if (this.closed) return;
        const member = jid.endsWith("@g.us") ? this.#otherMember(jid) : undefined;
        if (!jid.endsWith("@g.us") || member) this.receipt(key, "delivered", member);
      });
    }
    return message;
  }

  /**
   * The recipient's device received, read or played a message this bot sent, as WhatsApp relays it:
   * `messages.update` with the message's new status for a person, and `message-receipt.update`
   * naming the member (`participant`) for a group.
   */
  receipt(key: WAMessageKey, status: "delivered" | "read" | "played", participant?: string): void {
    if (this.#state !== "open") throw new Error(`cannot relay a receipt to a socket in state ${this.#state}`);
    const at = Math.floor(Date.now() / 1000);
    if (key.remoteJid?.endsWith("@g.us")) {
      if (!participant) throw new Error("a group receipt names the member whose device sent it");
      const field =
        status === "delivered" ? "receiptTimestamp" : status === "read" ? "readTimestamp" : "playedTimestamp";
      this.#emit("message-receipt.update", [{ key, receipt: { userJid: participant, [field]: at } }]);
      return;
    }
    const { DELIVERY_ACK, READ, PLAYED } = proto.WebMessageInfo.Status;
    const code = status === "delivered" ? DELIVERY_ACK : status === "read" ? READ : PLAYED;
    this.#emit("messages.update", [{ key, update: { status: code } }]);
  }

  /** WhatsApp's message capping changes for this number, as the server notifies it. */
  capping(info: NewChatMessageCapInfo): void {
    this.#assertOpen();
    this.#emit("message-capping.update", info);
  }

  /** WhatsApp sets (or lifts) a reach-out time lock on this number: new chats are refused until it ends. */
  reachoutLock(lock: ReachoutTimelockState): void {
    this.#assertOpen();
    this.#emit("connection.update", { reachoutTimeLock: lock });
  }

  /** The account may not start new chats: WhatsApp answers the next `sends` sends with error 463. */
  refuseNextSends(sends = 1): void {
    this.#assertOpen();
    this.#refuse463 += sends;
  }

  /**
   * As Baileys reports a 463: the send had resolved; the server's error ack then arrives as a
   * `messages.update` marking it ERROR with the code. The message reaches nobody.
   */
  #refused(message: WAMessage): void {
    const key = { remoteJid: message.key.remoteJid ?? null, fromMe: true, id: message.key.id ?? null };
    setImmediate(() => {
      if (this.closed) return;
      this.#emit("messages.update", [
        {
          key,
          update: {
            status: proto.WebMessageInfo.Status.ERROR,
            messageStubParameters: [SERVER_ERROR_CODES.MessageAccountRestriction, ACCOUNT_RESTRICTED_TEXT],
          },
        },
      ]);
    });
  }

  /** A member of the group other than this bot: whose device acknowledges a group send. */
  #otherMember(groupJid: string): string | undefined {
    const me = [this.creds.me?.id, this.creds.me?.lid].filter((id): id is string => Boolean(id));
    return this.#server.group(groupJid)?.participants.find((p) => !me.some((mine) => areJidsSameUser(p.id, mine)))?.id;
  }

  /** Always a query, as in Baileys (whose cache is consulted only on the send path). */
  async groupMetadata(jid: string): Promise<GroupMetadata> {
    if (this.#state !== "open") throw new Boom("Connection Closed", { statusCode: DisconnectReason.connectionClosed });
    this.#server.groupMetadataQueries += 1;
    const metadata = this.#server.group(jid);
    if (!metadata) throw new Boom("item-not-found", { statusCode: 404 });
    return structuredClone(metadata);
  }

  async logout(): Promise<void> {
    this.#close(DisconnectReason.loggedOut, "Intentional Logout");
  }

  /** WhatsApp closes the connection with `statusCode` (401 logged out, 440 replaced, 503, …). */
  drop(statusCode: number, message = "Stream Errored"): void {
    this.#close(statusCode, message);
  }

  end(error?: Error): void {
    if (this.closed) return;
    this.#state = "closed";
    this.#server.closed(this);
    this.#events.emit("connection.update", {
      connection: "close",
      lastDisconnect: {
        error: error ?? new Boom("Connection Closed", { statusCode: DisconnectReason.connectionClosed }),
        date: new Date(),
      },
    });
    this.#events.removeAllListeners();
  }

  #close(statusCode: number, message: string): void {
    this.end(new Boom(message, { statusCode }));
  }
}
