import {
  type AuthenticationState,
  type BaileysEventMap,
  initAuthCreds,
  makeWASocket,
  WA_CERT_DETAILS,
  type WASocket,
} from "baileys";
import { pino } from "pino";
import { MemoryKeyStore } from "../../src/phone/memory-key-store.ts";
import type { LocalWhatsApp } from "../../src/server/local-whatsapp.ts";

/**
 * A Baileys 7 companion (what a bot runs) with its credentials in memory, pointed at the local
 * server. Each `connect` is one socket; the state outlives it, as a bot's does across reconnects.
 */
export class Companion {
  readonly keys: MemoryKeyStore;
  readonly auth: AuthenticationState;
  socket: WASocket | undefined;
  readonly events: Array<
    { [E in keyof BaileysEventMap]: { event: E; data: BaileysEventMap[E] } }[keyof BaileysEventMap]
  > = [];
  readonly #waiters: Array<() => void> = [];

  readonly #server: LocalWhatsApp;

  /** `from`: carry on with another companion's credentials and keys (the same bot, a new process). */
  constructor(server: LocalWhatsApp, from?: Companion) {
    this.#server = server;
    this.keys = new MemoryKeyStore(from?.keys.entries());
    this.auth = { creds: from ? { ...from.auth.creds } : initAuthCreds(), keys: this.keys };
  }

  connect(): WASocket {
    WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from(this.#server.rootPublicKey);
    const socket = makeWASocket({
      auth: this.auth,
      waWebSocketUrl: this.#server.url,
      logger: pino({ level: process.env.BAILEYS_LOG ?? "silent" }),
      markOnlineOnConnect: false,
      syncFullHistory: false,
      connectTimeoutMs: 10_000,
    });
    socket.ev.on("creds.update", (update) => Object.assign(this.auth.creds, update));
    socket.ev.process((events) => {
      for (const [event, data] of Object.entries(events)) {
        this.events.push({ event, data } as (typeof this.events)[number]);
      }
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.socket = socket;
    return socket;
  }

  /** The first event (from `since`) that `match` accepts. */
  async next<E extends keyof BaileysEventMap>(
    event: E,
    match: (data: BaileysEventMap[E]) => boolean = () => true,
    { since = 0, timeoutMs = 15_000 }: { since?: number; timeoutMs?: number } = {},
  ): Promise<BaileysEventMap[E]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const entry of this.events.slice(since)) {
        if (entry.event === event && match(entry.data as BaileysEventMap[E])) return entry.data as BaileysEventMap[E];
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`no ${event} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  end(): void {
    this.socket?.end(undefined);
  }
}
