import {
  type BotDoc,
  type BotRef,
  botDocSchema,
  botPath,
  collections,
  type LeaseStore,
  leaseFence,
  tenantStatusSchema,
  zodConverter,
} from "@whatsdex/core";
import { type Firestore, type Query, Timestamp, type Transaction } from "firebase-admin/firestore";
import type { Logger } from "pino";
import type { BotRuntime } from "../bot/bot-runtime.ts";
import type { BotHealth } from "../http/health.ts";
import type { Transport } from "../transport/transport.ts";
import type { CreateBotRuntime } from "./bot-factory.ts";
import { LeaseKeeper } from "./lease-keeper.ts";
import { settleStoppedBot } from "./orphan-settler.ts";

export interface SupervisorOptions {
  db: Firestore;
  leases: LeaseStore;
  instanceId: string;
  /** Bots this instance runs at most. */
  capacity: number;
  /** Per the bot's `transport` field; a bot whose transport is absent here is left alone. */
  transports: Partial<Record<"baileys" | "simulator", Transport>>;
  /** Puts a claimed bot's runtime together (the composition root's `botRuntimeFactory`). */
  createBotRuntime: CreateBotRuntime;
  logger: Logger;
  /** How often leases are renewed; well under the lease TTL (a third of it is the usual choice). */
  renewEveryMs: number;
  /**
   * A bot's socket is ended this long before its lease expires unless a renewal succeeded first,
   * so a slow or failing renewal never leaves a socket alive past the lease (another instance may
   * take the bot once it expires, plus the store's takeover grace).
   */
  expirySafetyMs: number;
  /** How often claims are retried (bots held elsewhere, capacity freed); changes are seen at once. */
  scanEveryMs: number;
  /** Run only these tenants' bots: instances dedicated to large tenants, or isolation in a shared emulator. */
  onlyTenants?: readonly string[];
  random?: () => number;
}

interface Running {
  runtime: BotRuntime;
  /** Its lease, renewed on the supervisor's schedule, with the watchdog that ends the bot before it expires. */
  keeper: LeaseKeeper;
  /** Set while the bot is being given up: it stays listed (its lease is still ours) until that is done. */
  releasing?: Promise<void>;
}

const botConverter = zodConverter(botDocSchema);
const key = (bot: BotRef) => `${bot.tenantId}/${bot.botId}`;
/** Changes to the wanted set are acted on after a short random delay, so instances do not claim in lockstep. */
const CHANGE_JITTER_MS = 250;

/**
 * Keeps this instance's share of the bots connected: follows (by snapshot listener) the bots whose
 * desired state is `running`, claims them by lease up to `capacity` in random order with jitter so
 * that instances starting together (a deploy) do not take bots in lockstep; renews every lease well
 * before it expires and ends a bot's socket the moment its lease is lost; stops and releases bots
 * that should no longer run, settling their outbox first; and settles the outbox of stopped bots
 * nobody holds (a logout queued while no runner had the bot). A suspended tenant's bots are neither
 * claimed nor kept: they are released (and their sockets ended) as soon as the suspension is seen.
 * Nor are those of a tenant whose account is being closed (ADR 23), but they are released as stopped,
 * not as still wanted: their queued logouts run first, so WhatsApp unlinks each connected device
 * before the closing deletes the credentials with everything else.
 */
export class Supervisor {
  readonly #options: SupervisorOptions;
  readonly #running = new Map<string, Running>();
  readonly #starting = new Set<string>();
  readonly #claims = new Set<Promise<void>>();
  /** The bots that want to run, as the listeners last saw them. */
  readonly #wanted = new Map<string, { bot: BotRef; doc: BotDoc }>();
  /** Tenants whose status is `suspended`, as their listener last saw them: none of their bots runs. */
  readonly #suspended = new Set<string>();
  /** Tenants whose account is being closed (`deleting`): none of their bots runs, and their logouts are carried out. */
  readonly #closing = new Set<string>();
  /** Nothing is claimed before the suspended and closing tenants are known, so none of their bots ever starts. */
  #tenantsKnown = false;
  /** Bots another instance holds, and until when its lease protects them: no lease read before then. */
  readonly #heldElsewhere = new Map<string, number>();
  #unsubscribers: Array<() => void> = [];
  #timers: NodeJS.Timeout[] = [];
  #changeTimer: NodeJS.Timeout | undefined;
  #stopping = false;
  #scanning = false;
  #rescan = false;
  /** The first pass waits a random part of the scan interval: a fleet of fresh instances spreads out. */
  #firstPass = true;

  constructor(options: SupervisorOptions) {
    this.#options = options;
  }

  get running(): ReadonlyMap<string, Running> {
    return this.#running;
  }

  /** How many of this instance's bots are in each connection state. */
  countByState(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const { runtime } of this.#running.values()) {
      const state = runtime.session.state;
      counts.set(state, (counts.get(state) ?? 0) + 1);
    }
    return counts;
  }

  /** Every held bot, for `/status`. */
  health(): BotHealth[] {
    return [...this.#running.values()].map(({ keeper, runtime }) => ({
      ...runtime.bot,
      state: runtime.session.state,
      generation: keeper.lease.generation,
      msSinceServerFrame: runtime.msSinceServerFrame ?? null,
    }));
  }

  /** The longest time since any open bot's server last sent a frame (health), in ms. */
  oldestServerFrameMs(): number | undefined {
    let oldest: number | undefined;
    for (const { runtime } of this.#running.values()) {
      const age = runtime.session.state === "open" ? runtime.msSinceServerFrame : undefined;
      if (age !== undefined && (oldest === undefined || age > oldest)) oldest = age;
    }
    return oldest;
  }

  #queries(): Query[] {
    const { db, onlyTenants } = this.#options;
    const sources = onlyTenants
      ? onlyTenants.map((t) => db.collection(`${collections.tenants}/${t}/${collections.bots}`))
      : [db.collectionGroup(collections.bots)];
    return sources.map((q) => q.where("desiredState", "==", "running"));
  }

  start(): void {
    const { scanEveryMs, renewEveryMs, logger } = this.#options;
    for (const query of this.#queries()) {
      const unsubscribe = query.withConverter(botConverter).onSnapshot(
        (snapshot) => {
          for (const change of snapshot.docChanges()) {
            const tenantId = change.doc.ref.parent.parent?.id;
            if (!tenantId) continue;
            const bot = { tenantId, botId: change.doc.id };
            // Any change may mean its holder let go (see #touch): look at its lease again.
            this.#heldElsewhere.delete(key(bot));
            const before = this.#wanted.get(key(bot))?.doc;
            if (change.type === "removed") {
              this.#wanted.delete(key(bot));
              continue;
            }
            let doc: BotDoc;
            try {
              doc = change.doc.data();
            } catch (error) {
              // One malformed document must not stop the runner from following every other bot.
              logger.error({ err: error, bot: key(bot) }, "bot document does not parse; ignoring it");
              this.#wanted.delete(key(bot));
              continue;
            }
            this.#wanted.set(key(bot), { bot, doc });
            this.#running.get(key(bot))?.runtime.updateSettings(doc.settings);
            // A new link method is a connect request: its command may need looking for.
            if (before && (before.connectMethod !== doc.connectMethod || before.phoneNumber !== doc.phoneNumber)) {
              this.#running.get(key(bot))?.runtime.botChanged();
            }
          }
          this.#changed();
        },
        (error) => logger.error({ err: error }, "listener on wanted bots failed"),
      );
      this.#unsubscribers.push(unsubscribe);
    }
    this.#unsubscribers.push(this.#followHaltedTenants());
    this.#timers.push(setInterval(() => void this.scan(), scanEveryMs));
    this.#timers.push(setInterval(() => void this.renew(), renewEveryMs));
  }

  /**
   * Suspensions and closings are rare: one listener on every tenant in either state, whatever
   * `onlyTenants` says.
   */
  #followHaltedTenants(): () => void {
    const { db, logger } = this.#options;
    const { suspended, deleting } = tenantStatusSchema.enum;
    return db
      .collection(collections.tenants)
      .where("status", "in", [suspended, deleting])
      .onSnapshot(
        (snapshot) => {
          this.#suspended.clear();
          this.#closing.clear();
          for (const doc of snapshot.docs) {
            (doc.get("status") === deleting ? this.#closing : this.#suspended).add(doc.id);
          }
          this.#tenantsKnown = true;
          this.#changed();
        },
        (error) => logger.error({ err: error }, "listener on suspended and closing tenants failed"),
      );
  }

  #changed(): void {
    if (this.#stopping || this.#changeTimer) return;
    const random = this.#options.random ?? Math.random;
    const spread = this.#firstPass ? this.#options.scanEveryMs : CHANGE_JITTER_MS;
    this.#firstPass = false;
    this.#changeTimer = setTimeout(
      () => {
        this.#changeTimer = undefined;
        void this.scan();
      },
      Math.round(random() * spread),
    );
  }

  /** One pass: stop what should not run, claim what should (within capacity), settle orphaned outboxes. */
  async scan(): Promise<void> {
    if (this.#stopping) return;
    // A slow scan (claims are sequential) must not be overtaken; a change meanwhile gets a pass after it.
    if (this.#scanning) {
      this.#rescan = true;
      return;
    }
    this.#scanning = true;
    try {
      do {
        this.#rescan = false;
        await this.#pass();
      } while (this.#rescan && !this.#stopping);
    } catch (error) {
      this.#options.logger.error({ err: error }, "scan failed");
    } finally {
      this.#scanning = false;
    }
  }

  async #pass(): Promise<void> {
    const { capacity, transports } = this.#options;
    const random = this.#options.random ?? Math.random;
    for (const [name, running] of this.#running) {
      if (!this.#wanted.has(name)) await this.#release(name, running, "desired state is stopped", { wanted: false });
      // Not wanted any more, whatever its document says (a connect that raced the closing): its logout runs.
      else if (this.#closing.has(running.runtime.bot.tenantId))
        await this.#release(name, running, "account is being closed", { wanted: false });
      // Still wanted: its queued messages wait for the tenant to be reinstated (or their deadline).
      else if (this.#suspended.has(running.runtime.bot.tenantId))
        await this.#release(name, running, "tenant is suspended", { wanted: true });
    }
    const now = Date.now();
    const candidates = [...this.#wanted.values()].filter(({ bot, doc }) => {
      const name = key(bot);
      if (this.#running.has(name) || this.#starting.has(name) || !transports[doc.transport]) return false;
      if (!this.#tenantsKnown || this.#suspended.has(bot.tenantId) || this.#closing.has(bot.tenantId)) return false;
      return (this.#heldElsewhere.get(name) ?? 0) <= now;
    });
    // Random order: instances scanning together go after different bots first.
    for (let i = candidates.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [candidates[i], candidates[j]] = [
        candidates[j] as (typeof candidates)[number],
        candidates[i] as (typeof candidates)[number],
      ];
    }
    for (const { bot, doc } of candidates) {
      if (this.#stopping || this.#running.size + this.#starting.size >= capacity) break;
      const transport = transports[doc.transport];
      if (transport) await this.#claim(transport, bot, doc);
    }
    await this.#settleOrphans();
  }

  /** Claims a bot; `stop()` waits for claims under way, so none can start a socket after it. */
  #claim(transport: Transport, bot: BotRef, doc: BotDoc): Promise<void> {
    const claim = this.#claimNow(transport, bot, doc);
    this.#claims.add(claim);
    return claim.finally(() => this.#claims.delete(claim));
  }

  async #claimNow(transport: Transport, bot: BotRef, doc: BotDoc): Promise<void> {
    const { leases, instanceId, logger } = this.#options;
    const name = key(bot);
    this.#starting.add(name);
    try {
      const attempt = await leases.tryAcquire(bot, instanceId);
      if (attempt.kind === "held") {
        this.#heldElsewhere.set(name, attempt.until.getTime());
        return;
      }
      this.#heldElsewhere.delete(name);
      const lease = attempt.lease;
      const fence = leaseFence(leases, lease);
      const runtime = await this.#options.createBotRuntime({ bot, doc, lease, fence, transport });
      // Stopping began while the bot was being taken: give it straight back, start nothing.
      if (this.#stopping) {
        await leases.release(lease);
        return;
      }
      const running: Running = {
        runtime,
        keeper: new LeaseKeeper({
          leases,
          lease,
          expirySafetyMs: this.#options.expirySafetyMs,
          onExpiring: () => {
            logger.warn({ bot: name }, "lease about to expire unrenewed; ending the bot's socket");
            void this.#drop(name, running, "lease expiring");
          },
        }),
      };
      this.#running.set(name, running);
      running.keeper.arm();
      logger.info({ ...bot, generation: lease.generation }, "bot claimed");
      await runtime.start();
    } catch (error) {
      logger.error({ err: error, bot: name }, "could not start the bot");
      const running = this.#running.get(name);
      if (running) await this.#drop(name, running, "start failed");
    } finally {
      this.#starting.delete(name);
    }
  }

  /**
   * A stopped bot nobody holds may still have commands queued (a logout while its runner was down)
   * or messages that will now never go: take its lease briefly and settle them.
   */
  async #settleOrphans(): Promise<void> {
    const { db, leases, instanceId, logger } = this.#options;
    const snapshot = await db
      .collectionGroup(collections.outbox)
      .where("kind", "in", ["disconnect", "logout"])
      .where("status", "in", ["pending", "processing"])
      .limit(50)
      .get();
    const bots = new Map<string, BotRef>();
    for (const doc of snapshot.docs) {
      const botRef = doc.ref.parent.parent;
      const tenantId = botRef?.parent.parent?.id;
      if (!botRef || !tenantId) continue;
      if (this.#options.onlyTenants && !this.#options.onlyTenants.includes(tenantId)) continue;
      const bot = { tenantId, botId: botRef.id };
      const name = key(bot);
      // A closing tenant's bot is never run, even one still marked wanted: its logout is settled here.
      const wanted = this.#wanted.has(name) && !this.#closing.has(tenantId);
      if (wanted || this.#running.has(name) || this.#starting.has(name)) continue;
      if ((this.#heldElsewhere.get(name) ?? 0) > Date.now()) continue;
      bots.set(name, bot);
    }
    for (const [name, bot] of bots) {
      if (this.#stopping) return;
      // A closing tenant's bot that is still linked is connected once, only to be logged out, so
      // that WhatsApp unlinks its device (the next pass lets go of it, since it is not wanted).
      if (this.#closing.has(bot.tenantId)) {
        const linked = await this.#linkedBot(bot);
        const transport = linked && this.#options.transports[linked.transport];
        if (linked && transport && this.#running.size + this.#starting.size < this.#options.capacity) {
          // QR, never a pairing code: should the session turn out unlinked, nothing reaches the phone.
          await this.#claim(transport, bot, { ...linked, connectMethod: "qr" });
          continue;
        }
      }
      const attempt = await leases.tryAcquire(bot, instanceId);
      if (attempt.kind === "held") {
        this.#heldElsewhere.set(name, attempt.until.getTime());
        continue;
      }
      const lease = attempt.lease;
      const fence = leaseFence(leases, lease);
      try {
        const botLogger = logger.child({ tenantId: bot.tenantId, botId: bot.botId });
        await settleStoppedBot({ db, bot, lease, fence, logger: botLogger });
        botLogger.info("settled the outbox of a stopped bot");
      } catch (error) {
        logger.warn({ err: error, bot: name }, "could not settle a stopped bot's outbox");
      } finally {
        await leases.release(lease);
      }
    }
  }

  /** The bot's document when its session is (as far as it says) still linked to a phone. */
  async #linkedBot(bot: BotRef): Promise<BotDoc | undefined> {
    try {
      const doc = (
        await this.#options.db.doc(botPath(bot.tenantId, bot.botId)).withConverter(botConverter).get()
      ).data();
      const unlinked = new Set(["logged_out", "forbidden", "replaced", "qr", "pairing"]);
      return doc && doc.phoneNumber !== null && !unlinked.has(doc.status.state) ? doc : undefined;
    } catch (error) {
      this.#options.logger.warn({ err: error, bot: key(bot) }, "bot document does not parse; settling it unconnected");
      return undefined;
    }
  }

  /** Renews every lease; a bot whose lease is lost has its socket ended at once. */
  async renew(): Promise<void> {
    if (this.#stopping) return;
    await Promise.all(
      [...this.#running].map(async ([name, running]) => {
        if (running.releasing) return;
        try {
          await running.keeper.renew();
        } catch (error) {
          this.#options.logger.warn({ err: error, bot: name }, "lease renewal failed; ending the bot's socket");
          await this.#drop(name, running, "lease lost");
        }
      }),
    );
  }

  /** Ends the bot's socket without touching the lease (it is, or is about to be, someone else's). */
  async #drop(name: string, running: Running, reason: string): Promise<void> {
    // Being released already: that ends the socket too, and gives the lease back properly.
    if (running.releasing) return;
    running.keeper.disarm();
    if (this.#running.get(name) === running) this.#running.delete(name);
    await running.runtime.stop(reason, { wanted: true });
  }

  /**
   * Ends the bot's work here and gives its lease back, once however often it is asked. The bot is
   * listed in `running` until the lease is released: whoever sees it gone can rely on the lease
   * being free, its socket ended and its outbox settled.
   */
  #release(name: string, running: Running, reason: string, options: { wanted: boolean }): Promise<void> {
    running.releasing ??= (async () => {
      running.keeper.disarm();
      try {
        await running.runtime.stop(reason, options);
        const { lease } = running.keeper;
        await this.#options.leases.release(lease, (tx) => this.#touch(tx, lease));
      } finally {
        if (this.#running.get(name) === running) this.#running.delete(name);
      }
    })();
    return running.releasing;
  }

  /**
   * With the release, a touch of the bot document: other instances follow bot documents (not
   * leases), so this is how they learn at once that a bot they saw held is free (a deploy's
   * SIGTERM). The session's own last status write comes before the release and could be seen too early.
   */
  async #touch(tx: Transaction, bot: BotRef): Promise<void> {
    const ref = this.#options.db.doc(botPath(bot.tenantId, bot.botId));
    if ((await tx.get(ref)).exists) tx.update(ref, { "status.updatedAt": Timestamp.now() });
  }

  /** SIGTERM: stop claiming, end every socket, give every lease back. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#quiet();
    // A claim under way either gives its lease back (it sees #stopping) or finishes starting the
    // bot, which is then released below with the rest: never a socket left running after stop().
    await Promise.allSettled([...this.#claims]);
    await Promise.allSettled(
      [...this.#running].map(([name, running]) => this.#release(name, running, "instance stopping", { wanted: true })),
    );
  }

  #quiet(): void {
    for (const unsubscribe of this.#unsubscribers) unsubscribe();
    this.#unsubscribers = [];
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers = [];
    clearTimeout(this.#changeTimer);
  }

  /**
   * What a crash leaves behind, for an instance that must exit at once (and for takeover tests):
   * timers stopped and sockets gone, but leases kept until they expire, as after a SIGKILL.
   */
  abandon(): void {
    this.#stopping = true;
    this.#quiet();
    for (const running of this.#running.values()) {
      running.keeper.disarm();
      running.runtime.abandon();
    }
    this.#running.clear();
  }
}
