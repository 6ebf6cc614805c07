/**
 * Thrown by a processor: the job fails now, with no further attempts, and goes to the dead
 * letters (BullMQ's UnrecoverableError, which the BullMQ driver maps onto).
 */
export class UnrecoverableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "UnrecoverableError";
  }
}

/**
 * Thrown by a processor: run this job again after `delayMs`, without counting an attempt (BullMQ's
 * `job.moveToDelayed` + `DelayedError`, in one step). For "not yet" — a rate limit, a dependency
 * still starting — not for failures.
 */
export class DelayedError extends Error {
  readonly delayMs: number;

  constructor(delayMs: number, message = `Job delayed by ${delayMs} ms`) {
    super(message);
    this.name = "DelayedError";
    this.delayMs = delayMs;
  }
}
