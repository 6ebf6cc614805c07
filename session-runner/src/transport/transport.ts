import type {
  AnyMessageContent,
  AuthenticationState,
  BaileysEventMap,
  CacheStore,
  GroupMetadata,
  ParticipantAction,
  proto,
  WAMessage,
  WAMessageKey,
} from "baileys";
import type { Logger } from "pino";
import type { MediaLimits } from "./baileys/media-download.ts";

/**
 * The one way the runner talks to WhatsApp. Two implementations: Baileys (production) and the
 * in-process simulator (development and tests). The event payloads are Baileys' own types, so the
 * runner's handlers cannot tell them apart.
 */
export type TransportEvents = Pick<
  BaileysEventMap,
  | "connection.update"
  | "creds.update"
  | "messages.upsert"
  /** A one-to-one message's status changed: the recipient's delivery (`DELIVERY_ACK`), read (`READ`) or played receipt. */
  | "messages.update"
  /** One group member's device received or read a message the bot sent to the group. */
  | "message-receipt.update"
  | "lid-mapping.update"
  | "contacts.upsert"
  | "groups.upsert"
  | "groups.update"
  | "group-participants.update"
  /** WhatsApp's new-chat quota and its warnings (see signals.ts). */
  | "message-capping.update"
>;

export type TransportEvent = keyof TransportEvents;

/** One participant's answer to a group change: `200` done, else WhatsApp's code (403 invite only, 409 already in, …). */
export interface ParticipantResult {
  jid: string;
  status: string;
}

export interface SendOptions {
  /** Reserved before the send (outbox), so a retry of the same item reuses it. */
  messageId?: string;
  quoted?: WAMessage;
}

/** One connection attempt. A closed socket never reopens: reconnecting means a new socket. */
export interface TransportSocket {
  on<E extends TransportEvent>(event: E, listener: (data: TransportEvents[E]) => void): void;
  /** Every frame the server sends (keep-alive answers included): the liveness signal behind health. */
  onFrame(listener: () => void): void;
  sendMessage(jid: string, content: AnyMessageContent, options?: SendOptions): Promise<WAMessage | undefined>;
  /** Digits only; valid only after the first QR event (earlier, WhatsApp answers 428). */
  requestPairingCode(phoneNumber: string): Promise<string>;
  groupMetadata(jid: string): Promise<GroupMetadata>;
  /** Needs the bot to be a group admin (else WhatsApp refuses the whole request). */
  groupParticipantsUpdate(jid: string, participants: string[], action: ParticipantAction): Promise<ParticipantResult[]>;
  groupInviteCode(jid: string): Promise<string | undefined>;
  /** A new invite code; the old link stops working. */
  groupRevokeInvite(jid: string): Promise<string | undefined>;
  groupUpdateSubject(jid: string, subject: string): Promise<void>;
  groupUpdateDescription(jid: string, description: string): Promise<void>;
  /** "composing" shows "typing…" in the chat until a message is sent or "paused". */
  sendPresenceUpdate(presence: "composing" | "paused", jid: string): Promise<void>;
  /**
   * The decrypted bytes of a media message (image, video, sticker, audio, document), at most
   * `limits.maxBytes`: MediaDownloadError when larger or not obtainable.
   */
  downloadMedia(message: WAMessage, limits: MediaLimits): Promise<Buffer>;
  logout(): Promise<void>;
  /** Closes the connection and drops every listener. */
  end(error?: Error): void;
}

export interface ConnectOptions {
  auth: AuthenticationState;
  logger: Logger;
  /** For message retries and poll decryption: a bounded store of what this bot recently sent. */
  getMessage(key: WAMessageKey): Promise<proto.IMessage | undefined>;
  /** Group metadata the runner has cached, so group sends do not hit rate limits. */
  cachedGroupMetadata(jid: string): Promise<GroupMetadata | undefined>;
  /** Retry counters that outlive one socket, so a retry storm across a reconnect still ends. */
  msgRetryCounterCache?: CacheStore;
}

export interface Transport {
  connect(options: ConnectOptions): TransportSocket;
}
