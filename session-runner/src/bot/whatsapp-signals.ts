import type { BotGovernor } from "@whatsdex/core";
import type { Logger } from "pino";
import type { TransportSignal } from "../transport/signals.ts";

/**
 * Keeps WhatsApp's signals about the bot's number (capping, reach-out lock, 463, a new link) in its
 * governor state as they arrive, so the campaign driver, in this runner or the next owner's, reads
 * the latest. Written one after another in arrival order: a lock and its lifting never swap places.
 */
export class WhatsAppSignals {
  readonly #governor: BotGovernor;
  readonly #logger: Logger;
  readonly #listeners = new Set<(signal: TransportSignal) => void>();
  #chain: Promise<void> = Promise.resolve();

  constructor(governor: BotGovernor, logger: Logger) {
    this.#governor = governor;
    this.#logger = logger;
  }

  /**
   * Also hands each signal to `listener` as it arrives (the campaign driver: a 463 names the refused
   * message, whose outbox item the receipts leave as sent). Returns the way to stop listening.
   */
  listen(listener: (signal: TransportSignal) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  record(signal: TransportSignal): void {
    const calm = signal.kind === "linked" || (signal.kind === "capping" && signal.status === "NONE");
    if (calm) this.#logger.info({ signal }, "WhatsApp signal");
    else this.#logger.warn({ signal }, "WhatsApp signal: campaigns of this bot are held back");
    for (const listener of this.#listeners) listener(signal);
    this.#chain = this.#chain
      .then(() => this.#governor.signal(signal))
      .catch((error: unknown) => {
        // A deposed owner's write is refused by the fence; the number's next owner hears WhatsApp itself.
        this.#logger.warn({ err: error, signal: signal.kind }, "could not record a WhatsApp signal");
      });
  }

  /** Resolves once every signal received so far is written (or given up). */
  idle(): Promise<void> {
    return this.#chain;
  }
}
