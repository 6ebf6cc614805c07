/** Where the instance is in its life; `/healthz` answers 200 only while `serving`. */
export type Phase = "starting" | "serving" | "draining";

export class Health {
  #phase: Phase = "starting";
  readonly startedAt = Date.now();

  get phase(): Phase {
    return this.#phase;
  }

  serving(): void {
    this.#phase = "serving";
  }

  draining(): void {
    this.#phase = "draining";
  }
}
