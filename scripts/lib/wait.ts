import { setTimeout as sleep } from "node:timers/promises";

/** Polls `check` until it returns true; fails naming what it waited for. */
export async function pollUntil(
  what: string,
  check: () => Promise<boolean>,
  { timeoutMs, intervalMs = 250, gaveUp }: { timeoutMs: number; intervalMs?: number; gaveUp?: Promise<unknown> },
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let stopped = false;
  void gaveUp?.then(() => {
    stopped = true;
  });
  while (Date.now() < deadline) {
    if (stopped) throw new Error(`${what}: the process exited before it was ready`);
    if (await check().catch(() => false)) return;
    await sleep(intervalMs);
  }
  throw new Error(`${what}: not ready after ${Math.round(timeoutMs / 1000)} s`);
}

export async function httpOk(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  await response.body?.cancel();
  return response.ok;
}
