import {
  type ActiveCampaign,
  type BotRef,
  type CampaignDelivery,
  type CampaignDoc,
  type CampaignRuns,
  type CampaignSend,
  UnsendableCampaignError,
  type WroteToBot,
} from "@whatsdex/core";
import type { Logger } from "pino";
import type { TransportSignal } from "../../transport/signals.ts";
import type { TransportSocket } from "../../transport/transport.ts";
import type { CampaignClock } from "./campaign-clock.ts";

/** The scheduled and running campaigns one bot serves, by id. */
export type BotCampaigns = ReadonlyMap<string, CampaignDoc>;

/** Where a bot's campaign driver learns of its campaigns (the instance's one CampaignWatch). */
export interface CampaignSource {
  /** Calls `listener` with the bot's campaigns now (once known) and after every change; returns the way to stop. */
  follow(bot: BotRef, listener: (campaigns: BotCampaigns) => void): () => void;
}

/** What the driver needs of the bot's session: whether it is open, its socket, and word when it opens. */
export interface DrivingSession {
  readonly state: string;
  readonly socket: TransportSocket | undefined;
  onState(listener: (state: string) => void): () => void;
}

export interface CampaignDriverOptions {
  bot: BotRef;
  /** The bot's scheduled and running campaigns, as the instance's CampaignWatch follows them. */
  campaigns: CampaignSource;
  delivery: CampaignDelivery;
  runs: CampaignRuns;
  /** The bot's send executor: claims the outbox item, sends it once, records the outcome. */
  sends: { run(itemId: string): Promise<unknown> };
  session: DrivingSession;
  /** Whether a person ever wrote to the bot (reach-outs to those who never did have their own budget). */
  wrote: WroteToBot;
  /** Copies a template's media for one send (`transitId` = the outbox item); false if the template's copy is gone. */
  copyMedia: (mediaId: string, transitId: string) => Promise<boolean>;
  /** WhatsApp's signals as they arrive (a 463 names the refused message), and when they are all recorded. */
  signals: { listen(listener: (signal: TransportSignal) => void): () => void; idle(): Promise<void> };
  clock: CampaignClock;
  logger: Logger;
}

/** With sends of another bot of the pool still out, the campaign's end is looked for again after this long. */
const OTHERS_SENDING_RECHECK_MS = 60_000;
/** A campaign whose step failed (Firestore unavailable, a lost lease) is tried again after this long. */
const ERROR_RETRY_MS = 30_000;

interface Followed {
  doc: CampaignDoc;
  active?: ActiveCampaign;
  /** Sends a crash or an earlier owner left `sending` were settled (done once per activation). */
  recovered?: boolean;
  /** Not before this time (an error, or another bot's sends to wait for). */
  notBefore?: number | undefined;
}

/**
 * Sends one bot's share of its running campaigns, where the governor allows, as the bot's owning
 * runner (ADR 25). Follows the bot's scheduled and running campaigns by snapshot listener; each
 * pass takes one step per campaign in turn: starts a campaign whose time came, or asks the
 * delivery for the next recipient — then shows "typing…" for the governor's time, sends the queued
 * item through the outbox's executor and records what became of it; waits as long as the governor
 * says; pauses the campaign when the governor stops (a 463, capping, the failure breaker) or the
 * plan refuses; completes it when nobody is left. Replies to people who write to the bot never wait
 * for any of this: commands send on their own path.
 */
export class CampaignDriver {
  readonly #options: CampaignDriverOptions;
  readonly #followed = new Map<string, Followed>();
  #unsubscribers: Array<() => void> = [];
  #wake = new AbortController();
  #loop: Promise<void> = Promise.resolve();
  #stopped = false;
  /** Rotates which campaign goes first, so two on one bot share its pace. */
  #turn = 0;

  constructor(options: CampaignDriverOptions) {
    this.#options = options;
  }

  start(): void {
    const { campaigns, bot, session, signals } = this.#options;
    this.#unsubscribers.push(
      campaigns.follow(bot, (followed) => {
        for (const [id, doc] of followed) {
          // A status change (scheduled → running, or back after a pause) starts afresh.
          if (this.#followed.get(id)?.doc.status !== doc.status) this.#followed.set(id, { doc });
        }
        for (const id of this.#followed.keys()) if (!followed.has(id)) this.#followed.delete(id);
        this.wake();
      }),
      session.onState((state) => {
        if (state === "open") this.wake();
      }),
      signals.listen((signal) => {
        if (signal.kind === "sendRefused463" && signal.messageId) this.#refused(signal.messageId);
        else if (signal.kind !== "linked") this.wake();
      }),
    );
    this.#loop = this.#run();
  }

  /** Something changed: look again now. */
  wake(): void {
    this.#wake.abort();
  }

  /** Stops after the send in hand (if any) is recorded. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const unsubscribe of this.#unsubscribers) unsubscribe();
    this.#unsubscribers = [];
    this.wake();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const { clock, logger } = this.#options;
    while (!this.#stopped) {
      const wake = new AbortController();
      this.#wake = wake;
      let next: number | undefined;
      try {
        next = await this.#pass();
      } catch (error) {
        logger.error({ err: error }, "campaign pass failed");
        next = clock.now() + ERROR_RETRY_MS;
      }
      if (this.#stopped) return;
      if (next === undefined) {
        // Nothing to do until something changes (a campaign, the connection, a signal).
        if (!wake.signal.aborted) await new Promise((resolve) => wake.signal.addEventListener("abort", resolve));
      } else {
        const ms = next - clock.now();
        if (ms > 0) await clock.sleep(ms, wake.signal);
      }
    }
  }

  /** One step for each followed campaign; the time to look again (now: at once), or undefined to wait for a change. */
  async #pass(): Promise<number | undefined> {
    const { session, clock } = this.#options;
    if (session.state !== "open") return undefined;
    const ids = [...this.#followed.keys()].sort();
    if (ids.length === 0) return undefined;
    this.#turn = (this.#turn + 1) % ids.length;
    const order = [...ids.slice(this.#turn), ...ids.slice(0, this.#turn)];
    let next: number | undefined;
    for (const id of order) {
      if (this.#stopped || session.state !== "open") return undefined;
      const followed = this.#followed.get(id);
      if (!followed) continue;
      let at: number | undefined;
      if (followed.notBefore !== undefined && followed.notBefore > clock.now()) {
        at = followed.notBefore;
      } else {
        followed.notBefore = undefined;
        try {
          at = await this.#step(id, followed);
        } catch (error) {
          this.#options.logger.error({ err: error, campaignId: id }, "campaign step failed");
          followed.notBefore = clock.now() + ERROR_RETRY_MS;
          at = followed.notBefore;
        }
      }
      if (at !== undefined && (next === undefined || at < next)) next = at;
    }
    return next;
  }

  async #step(id: string, followed: Followed): Promise<number | undefined> {
    const { bot, delivery, runs, clock, logger } = this.#options;
    const now = clock.now();
    if (followed.doc.status === "scheduled") {
      const startAt = followed.doc.startAt?.toMillis() ?? now;
      if (startAt > now) return startAt;
      await runs.start(bot.tenantId, id);
      return undefined; // the listener brings it back as running
    }
    if (!followed.active) {
      try {
        followed.active = await delivery.activate(id, followed.doc);
      } catch (error) {
        if (!(error instanceof UnsendableCampaignError)) throw error;
        logger.warn({ campaignId: id, reason: error.message }, "campaign paused");
        await runs.pause(bot.tenantId, id, error.message);
        return undefined;
      }
    }
    const active = followed.active;
    if (!followed.recovered) {
      await this.#recover(active);
      followed.recovered = true;
    }
    const step = await delivery.next(active, this.#options.wrote);
    switch (step.kind) {
      case "send":
        await this.#send(active, step.send);
        return clock.now();
      case "skipped":
      case "contended":
        return clock.now();
      case "wait":
        logger.debug({ campaignId: id, until: new Date(step.until).toISOString(), reason: step.reason }, "pacing");
        return step.until;
      case "stop":
        logger.warn({ campaignId: id, reason: step.reason }, "campaign paused");
        await runs.pause(bot.tenantId, id, `Bot ${bot.botId}: ${step.reason}`);
        return undefined;
      case "drained":
        return this.#finish(id, followed);
      case "inactive":
        return undefined;
    }
  }

  /** Nobody pending: the campaign completes once no send of any bot is out (looked at in that order). */
  async #finish(id: string, followed: Followed): Promise<number | undefined> {
    const { bot, delivery, runs, clock } = this.#options;
    if (await delivery.anySending(id)) {
      followed.notBefore = clock.now() + OTHERS_SENDING_RECHECK_MS;
      return followed.notBefore;
    }
    if (await delivery.anyPending(id)) return clock.now();
    await runs.complete(bot.tenantId, id);
    return undefined;
  }

  /** What a crash or the previous owner left `sending`: settled from its outbox item, or sent now if it never went. */
  async #recover(active: ActiveCampaign): Promise<void> {
    const { delivery, logger } = this.#options;
    for (const { personId, itemId } of await delivery.inFlight(active.id)) {
      const settled = await delivery.settle(active, personId);
      if (settled !== "in_flight") continue;
      logger.info({ campaignId: active.id, itemId }, "sending a campaign message left in hand");
      await this.#deliver(active, { itemId, personId, media: active.media });
    }
  }

  async #send(active: ActiveCampaign, send: CampaignSend): Promise<void> {
    const { session, clock } = this.#options;
    const socket = session.socket;
    // "typing…" for as long as a person would take to write it (the governor's time for its length).
    await socket?.sendPresenceUpdate("composing", send.to).catch(() => undefined);
    await clock.sleep(send.typingMs, new AbortController().signal);
    await socket?.sendPresenceUpdate("paused", send.to).catch(() => undefined);
    await this.#deliver(active, send);
  }

  /** Sends the queued item (its media copied first) and records the outcome on the recipient. */
  async #deliver(active: ActiveCampaign, send: Pick<CampaignSend, "itemId" | "personId" | "media">): Promise<void> {
    const { sends, delivery, copyMedia, logger } = this.#options;
    // Without its copy the executor fails the item as media_missing (reported, nothing sent).
    if (send.media && !(await copyMedia(send.media.id, send.itemId))) {
      logger.warn({ campaignId: active.id, mediaId: send.media.id }, "the campaign's media is gone");
    }
    await sends.run(send.itemId);
    await delivery.settle(active, send.personId);
  }

  /** A 463 on one of the bot's messages: its recipient (if a campaign's) is failed; the governor stops on the signal. */
  #refused(messageId: string): void {
    const { delivery, signals, logger } = this.#options;
    void (async () => {
      try {
        await delivery.refused(messageId);
      } catch (error) {
        logger.warn({ err: error, messageId }, "could not mark a refused campaign message");
      }
      // The governor's stop is written before the next pass looks, so nothing more goes out.
      await signals.idle();
      this.wake();
    })();
  }
}
