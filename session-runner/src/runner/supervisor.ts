import {
  authStateCollectionPath,
  type BotRef,
  botDocSchema,
  collections,
  type HeldLease,
  type Keyring,
  type LeaseStore,
  leaseFence,
  zodConverter,
} from "@whatsdex/core";
import type { Firestore } from "firebase-admin/firestore";
import type { Logger } from "pino";
import { loadFirestoreAuthState } from "../auth-state/firestore-auth-state.ts";
import type { BackoffOptions } from "../sessions/backoff.ts";
import { BotSession } from "../sessions/bot-session.ts";
import { StatusWriter } from "../sessions/status-writer.ts";
import type { Transport } from "../transport/transport.ts";

export interface SupervisorOptions {
  db: Firestore;
  leases: LeaseStore;
  instanceId: string;
  /** Bots this instance runs at most. */
  capacity: number;
  /** Per the bot's `transport` field; a bot whose transport is absent here is left alone. */
  transports: Partial<Record<"baileys" | "simulator", Transport>>;
  keyring: Keyring;
  logger: Logger;
  backoff: BackoffOptions;
  /** How often leases are renewed; well under the lease TTL (a third of it is the usual choice). */
  renewEveryMs: number;
  /**
   * A bot's socket is ended this long before its lease expires unless a renewal succeeded first,
   * so a slow or failing renewal never leaves a socket alive past the lease (another instance may
   * take the bot once it expires, plus the store's takeover grace).
   */
  expirySafetyMs: number;
  /** How often bots that want to run are looked for. */
  scanEveryMs: number;
  /** Run only these tenants' bots: instances dedicated to large tenants, or isolation in a shared emulator. */
  onlyTenants?: readonly string[];
  /** Every state change of every session this instance runs (metrics). */
  onSessionState?: (bot: BotRef, state: string) => void;
  random?: () => number;
}

interface Running {
  lease: HeldLease;
  session: BotSession;
  /** Fires just before the lease runs out; every successful renewal pushes it back. */
  watchdog: NodeJS.Timeout | undefined;
}

const botConverter = zodConverter(botDocSchema);
const key = (bot: BotRef) => `${bot.tenantId}/${bot.botId}`;

/**
 * Keeps this instance's share of the bots connected: claims bots whose desired state is `running`
 * by lease, up to `capacity`, with jitter so that instances starting together (a deploy) do not
 * take bots in lockstep; renews every lease well before it expires and ends a bot's socket the
 * moment its lease is lost; stops (without logging out) and releases bots that should no longer run.
 */
export class Supervisor {
  readonly #options: SupervisorOptions;
  readonly #running = new Map<string, Running>();
  readonly #starting = new Set<string>();
  #timers: NodeJS.Timeout[] = [];
  #stopping = false;
  #scanning = false;

  constructor(options: SupervisorOptions) {
    this.#options = options;
  }

  get running(): ReadonlyMap<string, Running> {
    return this.#running;
  }

  /** How many of this instance's bots are in each connection state. */
  countByState(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const { session } of this.#running.values()) counts.set(session.state, (counts.get(session.state) ?? 0) + 1);
    return counts;
  }

  start(): void {
    const { scanEveryMs, renewEveryMs } = this.#options;
    const random = this.#options.random ?? Math.random;
    // The first scan waits a random part of the interval: a fleet of fresh instances spreads out.
    const first = setTimeout(() => void this.scan(), Math.round(random() * scanEveryMs));
    this.#timers.push(
      first,
      setInterval(() => void this.scan(), scanEveryMs),
    );
    this.#timers.push(setInterval(() => void this.renew(), renewEveryMs));
  }

  /** One pass: stop what should not run, then claim what should, within capacity. */
  async scan(): Promise<void> {
    // A slow scan (claims are sequential) must not be overtaken by the next tick's.
    if (this.#stopping || this.#scanning) return;
    this.#scanning = true;
    const { db, capacity, logger } = this.#options;
    try {
      const queries = this.#options.onlyTenants
        ? this.#options.onlyTenants.map((t) => db.collection(`${collections.tenants}/${t}/${collections.bots}`))
        : [db.collectionGroup(collections.bots)];
      const snapshots = await Promise.all(
        queries.map((q) => q.where("desiredState", "==", "running").withConverter(botConverter).get()),
      );
      const wantedKeys = new Set<string>();
      for (const doc of snapshots.flatMap((snapshot) => snapshot.docs)) {
        const tenantId = doc.ref.parent.parent?.id;
        if (!tenantId) continue;
        const bot = { tenantId, botId: doc.id };
        wantedKeys.add(key(bot));
        if (this.#stopping) return;
        if (this.#running.has(key(bot)) || this.#starting.has(key(bot))) continue;
        if (this.#running.size + this.#starting.size >= capacity) continue;
        const data = doc.data();
        const transport = this.#options.transports[data.transport];
        if (!transport) continue;
        await this.#claim(
          transport,
          bot,
          data.connectMethod === "pairing_code" && data.phoneNumber
            ? { method: "pairing_code", phoneNumber: data.phoneNumber }
            : { method: "qr" },
        );
      }
      for (const [name, running] of this.#running) {
        if (!wantedKeys.has(name)) await this.#release(name, running, "desired state is stopped");
      }
    } catch (error) {
      logger.error({ err: error }, "scan failed");
    } finally {
      this.#scanning = false;
    }
  }

  async #claim(
    transport: Transport,
    bot: BotRef,
    link: { method: "qr" } | { method: "pairing_code"; phoneNumber: string },
  ): Promise<void> {
    const { db, leases, instanceId, keyring, logger, backoff } = this.#options;
    this.#starting.add(key(bot));
    try {
      const lease = await leases.acquire(bot, instanceId);
      if (!lease) return;
      const fence = leaseFence(leases, lease);
      const auth = await loadFirestoreAuthState({
        db,
        collectionPath: authStateCollectionPath(bot.tenantId, bot.botId),
        keyring,
        fence,
      });
      // Stopping began while the bot was being taken: give it straight back, start nothing.
      if (this.#stopping) {
        await leases.release(lease);
        return;
      }
      const session = new BotSession({
        transport,
        auth,
        status: new StatusWriter(db, bot, fence),
        logger: logger.child({ tenantId: bot.tenantId, botId: bot.botId }),
        link,
        backoff,
        connect: { getMessage: async () => undefined, cachedGroupMetadata: async () => undefined },
      });
      const onState = this.#options.onSessionState;
      if (onState) session.onState((state) => onState(bot, state));
      const running: Running = { lease, session, watchdog: undefined };
      this.#running.set(key(bot), running);
      this.#arm(key(bot), running);
      session.start();
      logger.info({ ...bot, generation: lease.generation }, "bot claimed");
    } finally {
      this.#starting.delete(key(bot));
    }
  }

  /** Renews every lease; a bot whose lease is lost has its socket ended at once. */
  async renew(): Promise<void> {
    if (this.#stopping) return;
    await Promise.all(
      [...this.#running].map(async ([name, running]) => {
        try {
          running.lease = await this.#options.leases.renew(running.lease);
          if (this.#running.get(name) === running) this.#arm(name, running);
        } catch (error) {
          this.#options.logger.warn({ err: error, bot: name }, "lease renewal failed; ending the bot's socket");
          await this.#drop(name, running, "lease lost");
        }
      }),
    );
  }

  #arm(name: string, running: Running): void {
    clearTimeout(running.watchdog);
    const delay = running.lease.expiresAt.getTime() - Date.now() - this.#options.expirySafetyMs;
    running.watchdog = setTimeout(
      () => {
        this.#options.logger.warn({ bot: name }, "lease about to expire unrenewed; ending the bot's socket");
        void this.#drop(name, running, "lease expiring");
      },
      Math.max(0, delay),
    );
  }

  /** Ends the bot's socket without touching the lease (it is, or is about to be, someone else's). */
  async #drop(name: string, running: Running, reason: string): Promise<void> {
    clearTimeout(running.watchdog);
    if (this.#running.get(name) === running) this.#running.delete(name);
    await running.session.stop(reason);
  }

  async #release(name: string, running: Running, reason: string): Promise<void> {
    clearTimeout(running.watchdog);
    this.#running.delete(name);
    await running.session.stop(reason);
    await this.#options.leases.release(running.lease);
  }

  /** SIGTERM: stop claiming, end every socket, give every lease back. */
  async stop(): Promise<void> {
    this.#stopping = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers = [];
    await Promise.allSettled(
      [...this.#running].map(([name, running]) => this.#release(name, running, "instance stopping")),
    );
  }

  /**
   * What a crash leaves behind, for an instance that must exit at once (and for takeover tests):
   * timers stopped and sockets gone, but leases kept until they expire, as after a SIGKILL.
   */
  abandon(): void {
    this.#stopping = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers = [];
    for (const running of this.#running.values()) {
      clearTimeout(running.watchdog);
      running.session.socket?.end();
    }
    this.#running.clear();
  }
}
