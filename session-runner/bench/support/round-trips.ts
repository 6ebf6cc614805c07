import type { PhoneDriver } from "./phone-driver.ts";

/** A bot the benchmark holds, and the number it is linked to (its owner's, whose phone scanned its QR code). */
export interface HeldBot {
  tenantId: string;
  botId: string;
  number: string;
}

/** One `.ping` to send: to which bot, from which phone. */
export interface Ping {
  bot: HeldBot;
  from: string;
}

export interface RoundTrips {
  /** Pings not answered with a pong in time. */
  failures: number;
  /** Milliseconds from each answered ping's request to its pong's event. */
  latencies: number[];
}

/**
 * `count` pings over `bots`: ping i goes to bot i mod n from phone (i mod n + ⌊i / n⌋) mod phones,
 * so consecutive pings go to different bots and no (phone, bot) pair repeats while
 * count ≤ phones × n — a second `.ping` from the same person within a second meets the cooldown.
 */
export function planPings(
  bots: readonly HeldBot[],
  count: number,
  phones: number,
  phoneNumber: (n: number) => string,
): Ping[] {
  return Array.from({ length: count }, (_, i) => {
    const b = i % bots.length;
    const bot = bots[b];
    if (!bot) throw new Error(`no bot at ${b}`);
    return { bot, from: phoneNumber((b + Math.floor(i / bots.length)) % phones) };
  });
}

/**
 * The bots in turn by tenant (the first of each tenant, then the second of each, …), so that work
 * taken in this order spreads over the tenants.
 */
export function acrossTenants(bots: readonly HeldBot[]): HeldBot[] {
  const byTenant = new Map<string, HeldBot[]>();
  for (const bot of bots) byTenant.set(bot.tenantId, [...(byTenant.get(bot.tenantId) ?? []), bot]);
  const queues = [...byTenant.values()];
  const longest = Math.max(0, ...queues.map((q) => q.length));
  return Array.from({ length: longest }, (_, j) => queues.flatMap((q) => q.slice(j, j + 1))).flat();
}

/**
 * Sends `pings` and checks every answer is a pong. `lane` groups them (by tenant, or all in one);
 * each lane runs its pings in order, `perLane` at a time, and lanes run side by side. Prints the
 * first few failures: a count alone does not say what broke.
 */
export async function roundTrips(
  phase: string,
  driver: PhoneDriver,
  pings: readonly Ping[],
  options: { lane: (ping: Ping) => string; perLane: number; timeoutMs: number; explain: string },
): Promise<RoundTrips> {
  const result: RoundTrips = { failures: 0, latencies: [] };
  const examples: string[] = [];
  const lanes = new Map<string, Ping[]>();
  for (const ping of pings) lanes.set(options.lane(ping), [...(lanes.get(options.lane(ping)) ?? []), ping]);
  const worker = async (queue: Ping[]) => {
    for (let ping = queue.shift(); ping; ping = queue.shift()) {
      const { bot, from } = ping;
      const answer = await driver.roundTrip(
        { to: bot.number, from: { number: from }, text: ".ping" },
        options.timeoutMs,
      );
      if (answer && /pong/i.test(answer.event.text ?? "")) {
        result.latencies.push(answer.ms);
        continue;
      }
      result.failures += 1;
      if (examples.length < 5) {
        const got = answer
          ? `"${answer.event.text ?? answer.event.kind}" after ${Math.round(answer.ms)} ms`
          : "nothing";
        examples.push(`${from} → bot ${bot.botId} (${bot.number}): ${got}`);
      }
    }
  };
  await Promise.all(
    [...lanes.values()].flatMap((queue) =>
      Array.from({ length: Math.min(options.perLane, queue.length) }, () => worker(queue)),
    ),
  );
  if (result.failures > 0) {
    console.warn(`  ${phase}: ${result.failures} of ${pings.length} .pings not answered with a pong, e.g.`);
    for (const example of examples) console.warn(`    ${example}`);
    console.warn(`    (${options.explain})`);
  }
  return result;
}

export function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * q) - 1))] ?? Number.NaN;
}
