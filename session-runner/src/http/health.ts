/** Where the instance is in its life; `/healthz` answers 200 only while `serving`. */
export type Phase = "starting" | "serving" | "draining";

/** One held bot as `/status` shows it. */
export interface BotHealth {
  tenantId: string;
  botId: string;
  state: string;
  generation: number;
  /** Since WhatsApp's server last sent anything on the current socket; null before the first frame. */
  msSinceServerFrame: number | null;
}

export class Health {
  #phase: Phase = "starting";
  #bots: () => BotHealth[] = () => [];
  readonly startedAt = Date.now();

  get phase(): Phase {
    return this.#phase;
  }

  get bots(): BotHealth[] {
    return this.#bots();
  }

  /** Where the per-bot view comes from (the supervisor, once it exists). */
  reportBots(source: () => BotHealth[]): void {
    this.#bots = source;
  }

  serving(): void {
    this.#phase = "serving";
  }

  draining(): void {
    this.#phase = "draining";
  }
}
