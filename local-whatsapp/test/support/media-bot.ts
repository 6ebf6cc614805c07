import type { Agent } from "node:https";
import { type BaileysEventMap, makeWASocket, type WASocket } from "baileys";
import { pino } from "pino";
import type { SimulatedPhone } from "../../src/phone/simulated-phone.ts";
import type { LocalWhatsApp } from "../../src/server/local-whatsapp.ts";
import { Companion } from "./companion.ts";

type LoggedEvent = { [E in keyof BaileysEventMap]: { event: E; data: BaileysEventMap[E] } }[keyof BaileysEventMap];

/**
 * A bot as the runner would configure one for the local server: linked to `phone` by QR, then
 * logged in with a socket whose `fetchAgent` trusts the media host's CA, which Baileys' uploads
 * go through (its downloads take a dispatcher per call instead). Nothing else in the process
 * trusts that CA.
 */
export class MediaBot {
  readonly socket: WASocket;
  readonly events: LoggedEvent[] = [];
  readonly #waiters: Array<() => void> = [];
  readonly #agent: Agent;

  private constructor(socket: WASocket, agent: Agent) {
    this.socket = socket;
    this.#agent = agent;
    socket.ev.process((events) => {
      for (const [event, data] of Object.entries(events)) this.events.push({ event, data } as LoggedEvent);
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  static async link(server: LocalWhatsApp, phone: SimulatedPhone): Promise<MediaBot> {
    const linker = new Companion(server);
    linker.connect();
    const { qr } = await linker.next("connection.update", (u) => typeof u.qr === "string");
    await server.scanQr(phone, qr ?? "");
    await linker.next("connection.update", (u) => u.connection === "close");

    const agent = server.media.agent();
    const socket = makeWASocket({
      auth: linker.auth,
      waWebSocketUrl: server.url,
      logger: pino({ level: process.env.BAILEYS_LOG ?? "silent" }),
      markOnlineOnConnect: false,
      syncFullHistory: false,
      connectTimeoutMs: 10_000,
      fetchAgent: agent,
    });
    socket.ev.on("creds.update", (update) => Object.assign(linker.auth.creds, update));
    const bot = new MediaBot(socket, agent);
    await bot.next("connection.update", (u) => u.connection === "open");
    return bot;
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
    this.socket.end(undefined);
    this.#agent.destroy();
  }
}
