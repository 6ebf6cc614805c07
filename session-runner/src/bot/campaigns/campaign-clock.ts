import { setTimeout as sleep } from "node:timers/promises";

/**
 * Time as the campaign driver sees it: what the governor's windows are measured against, and how it
 * waits for the next allowed send. Real in production; a test moves it forward instead of sleeping,
 * so days of paced sending take seconds (time only ever moves forward, so no limit is ever skipped).
 */
export interface CampaignClock {
  now(): number;
  /** Resolves after `ms`, or at once when `signal` aborts (something changed: look again). */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const realClock: CampaignClock = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    if (signal.aborted) return;
    await sleep(Math.max(0, ms), undefined, { signal }).catch(() => undefined);
  },
};
