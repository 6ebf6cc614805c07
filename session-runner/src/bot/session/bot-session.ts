import { jidDecode } from "baileys";
import type { Logger } from "pino";
import { classifyDisconnect, type DisconnectClass } from "../../transport/disconnect.ts";
import { isLinked } from "../../transport/linked-credentials.ts";
import type { ConnectOptions, Transport, TransportSocket } from "../../transport/transport.ts";
import type { FirestoreAuthState } from "../auth-state/firestore-auth-state.ts";
import { Backoff, type BackoffOptions } from "./backoff.ts";
import type { BotState, StatusWriter } from "./status-writer.ts";

/** How long WhatsApp lets a QR code live: the first 60 s, later ones 20 s (BAILEYS.md). */
const FIRST_QR_MS = 60_000;
const LATER_QR_MS = 20_000;
const PAIRING_CODE_MS = 180_000;
/** A logout tells WhatsApp to unlink the device; if it cannot answer in time the credentials go anyway. */
const LOGOUT_TIMEOUT_MS = 5_000;

export type LinkMethod = { method: "qr" } | { method: "pairing_code"; phoneNumber: string };

export interface BotSessionOptions {
  transport: Transport;
  auth: FirestoreAuthState;
  status: StatusWriter;
  logger: Logger;
  link: LinkMethod;
  backoff: BackoffOptions;
  connect: Omit<ConnectOptions, "auth" | "logger">;
}

/**
 * One bot's connection, as an explicit state machine written to the bot document:
 * connecting → qr | pairing → open → reconnecting → … → logged_out | forbidden | replaced | stopped.
 * Every attempt is a new socket and the previous one is ended first (an old socket's events are
 * never trusted again). A close is handled by its class: restart at once, back off with jitter,
 * or stop for good — never fighting another holder (440). A failed fenced write (the lease moved)
 * stops the session without logging out.
 */
export class BotSession {
  readonly #options: BotSessionOptions;
  readonly #backoff: Backoff;
  #link: LinkMethod;
  #socket: TransportSocket | undefined;
  #state: BotState = "stopped";
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #qrCount = 0;
  #pairingRequested = false;
  #writes: Promise<void> = Promise.resolve();
  readonly #listeners = new Set<(state: BotState) => void>();
  readonly #socketListeners = new Set<(socket: TransportSocket) => void>();

  constructor(options: BotSessionOptions) {
    this.#options = options;
    this.#link = options.link;
    this.#backoff = new Backoff(options.backoff);
  }

  get state(): BotState {
    return this.#state;
  }

  get socket(): TransportSocket | undefined {
    return this.#socket;
  }

  onState(listener: (state: BotState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Each new socket, once the session's own listeners are on it: where identity, groups and messages hook in. */
  onSocket(listener: (socket: TransportSocket) => void): () => void {
    this.#socketListeners.add(listener);
    return () => this.#socketListeners.delete(listener);
  }

  start(): void {
    this.#stopped = false;
    this.#connect();
  }

  /**
   * A connect request from the dashboard. A connected bot stays as it is; one that is linking
   * starts again with the requested method (a pairing code for another number, say); one that
   * stopped (logged out, refused, replaced, disconnected) tries again.
   */
  connect(link: LinkMethod): void {
    const sameLink =
      link.method === this.#link.method &&
      (link.method === "qr" || (this.#link.method === "pairing_code" && this.#link.phoneNumber === link.phoneNumber));
    this.#link = link;
    if (this.#state === "open" || (sameLink && !this.#stopped && this.#state !== "reconnecting")) return;
    clearTimeout(this.#timer);
    this.#backoff.opened();
    this.start();
  }

  /**
   * The dashboard's logout: WhatsApp is told to unlink this device (when connected), then the
   * credentials are deleted whatever WhatsApp answered, so the number must be linked again.
   */
  async logout(): Promise<void> {
    // Still connecting with linked credentials (a bot started only to log out, ADR 23, or one
    // reconnecting): wait briefly for the socket to open, since only an open one can tell WhatsApp.
    if (this.#socket && !this.#stopped && this.#state !== "open" && isLinked(this.#options.auth.state.creds)) {
      await this.#opened(LOGOUT_TIMEOUT_MS);
    }
    const socket = this.#socket;
    const wasOpen = this.#state === "open";
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#socket = undefined;
    if (socket && wasOpen) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        socket.logout(),
        new Promise((resolve) => {
          timer = setTimeout(resolve, LOGOUT_TIMEOUT_MS);
        }),
      ])
        .catch((error: unknown) => this.#options.logger.warn({ err: error }, "WhatsApp did not confirm the logout"))
        .finally(() => clearTimeout(timer));
    }
    this.#end(socket);
    await this.#options.auth.clear();
    await this.#set("logged_out", { reason: "logged out from the dashboard" });
  }

  /** Resolves once the session is open or has given up (a terminal state), or after `ms`. */
  #opened(ms: number): Promise<void> {
    const settled = new Set<BotState>(["open", "logged_out", "forbidden", "replaced", "stopped"]);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        off();
        resolve();
      };
      const timer = setTimeout(done, ms);
      const off = this.onState((state) => {
        if (settled.has(state)) done();
      });
    });
  }

  /** Ends the socket and any pending reconnect; the session keeps its credentials. */
  async stop(reason = "stopped"): Promise<void> {
    // Already halted (logged out, refused, replaced, disconnected): keep the state that says why.
    if (this.#stopped) {
      await this.#writes;
      return;
    }
    this.#halt();
    await this.#set("stopped", { reason }).catch((error: unknown) => this.#lost(error));
  }

  /** Ends the socket and any reconnect without writing anything (a simulated crash). */
  abandon(): void {
    this.#halt();
  }

  #halt(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    const socket = this.#socket;
    this.#socket = undefined;
    this.#end(socket);
  }

  /** Socket lifetimes are logged so that "never two sockets for one bot" can be checked across processes. */
  #end(socket: TransportSocket | undefined): void {
    if (!socket) return;
    socket.end();
    this.#options.logger.info({ event: "socket_ended" }, "socket ended");
  }

  #connect(): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    // Detached before it is ended: the close it emits must not count as this session's close.
    const previous = this.#socket;
    this.#socket = undefined;
    this.#end(previous);
    this.#qrCount = 0;
    this.#pairingRequested = false;
    const { auth, transport, logger, connect } = this.#options;
    const socket = transport.connect({ ...connect, auth: auth.state, logger });
    this.#socket = socket;
    logger.info({ event: "socket_opened" }, "socket opened");
    const current = () => this.#socket === socket && !this.#stopped;

    socket.on("creds.update", (update) => {
      if (!current()) return;
      Object.assign(auth.state.creds, update);
      auth.saveCreds().catch((error: unknown) => this.#lost(error));
    });
    socket.on("connection.update", (update) => {
      if (!current()) return;
      if (update.connection === "connecting") void this.#set("connecting");
      if (update.qr) {
        this.#onQr(socket, update.qr).catch((error: unknown) =>
          this.#options.logger.warn({ err: error }, "could not publish the QR or pairing code"),
        );
      }
      if (update.connection === "open") {
        this.#backoff.opened();
        // The linked number, for the dashboard (and whoever wants to message the bot): `me.id` is
        // `<digits>:<device>@s.whatsapp.net` once WhatsApp has linked the session.
        const phoneNumber = jidDecode(auth.state.creds.me?.id)?.user;
        void this.#set("open", phoneNumber ? { phoneNumber } : {});
      }
      if (update.connection === "close") void this.#onClose(classifyDisconnect(update.lastDisconnect?.error));
    });
    for (const listener of this.#socketListeners) listener(socket);
  }

  async #onQr(socket: TransportSocket, qr: string): Promise<void> {
    const link = this.#link;
    if (link.method === "pairing_code") {
      if (this.#pairingRequested) return;
      this.#pairingRequested = true;
      const code = await socket.requestPairingCode(link.phoneNumber);
      const expiresAt = new Date(Date.now() + PAIRING_CODE_MS);
      await this.#set("pairing", { linking: { qr: null, pairingCode: { code, expiresAt } } });
      return;
    }
    this.#qrCount += 1;
    const expiresAt = new Date(Date.now() + (this.#qrCount === 1 ? FIRST_QR_MS : LATER_QR_MS));
    await this.#set("qr", { linking: { qr: { code: qr, expiresAt }, pairingCode: null } });
  }

  async #onClose(kind: DisconnectClass): Promise<void> {
    const { logger, auth } = this.#options;
    logger.info({ kind, state: this.#state }, "connection closed");
    switch (kind) {
      case "restart":
        this.#connect();
        return;
      case "logged_out":
        this.#halt();
        await auth.clear().catch((error: unknown) => this.#lost(error));
        await this.#set("logged_out", { reason: "logged out from the phone; link again", stop: true });
        return;
      case "forbidden":
        this.#halt();
        await this.#set("forbidden", { reason: "WhatsApp refused this number", stop: true });
        return;
      case "replaced":
        this.#halt();
        await this.#set("replaced", { reason: "another client took over this session" });
        return;
      case "outdated":
        this.#halt();
        await this.#set("stopped", { reason: "WhatsApp refuses this client version; update Baileys" });
        return;
      default: {
        const delay = this.#backoff.nextDelay();
        await this.#set("reconnecting", { reason: `${kind}; retrying in ${delay} ms` });
        this.#timer = setTimeout(() => this.#connect(), delay);
      }
    }
  }

  /**
   * Status writes go out one at a time, in the order the states happened: concurrent transactions
   * on one bot document would contend, and could land out of order, leaving a stale state last.
   */
  #set(state: BotState, options: Parameters<StatusWriter["write"]>[1] = {}): Promise<void> {
    this.#state = state;
    for (const listener of this.#listeners) listener(state);
    this.#writes = this.#writes
      .then(() => this.#options.status.write(state, options))
      .catch((error: unknown) => this.#lost(error));
    return this.#writes;
  }

  /**
   * A write failed. If the fence refused it, the lease is gone and this process must let go of the
   * socket at once (never logging out); anything else is logged and the session carries on.
   */
  #lost(error: unknown): void {
    if (this.#stopped) return;
    if (!(error instanceof Error && error.name === "LeaseLostError")) {
      this.#options.logger.error({ err: error }, "a session write failed");
      return;
    }
    this.#options.logger.warn({ err: error }, "lost the bot's lease; ending its socket");
    this.#halt();
    this.#state = "stopped";
    for (const listener of this.#listeners) listener("stopped");
  }
}
