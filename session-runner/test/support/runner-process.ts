import { type ChildProcess, spawn } from "node:child_process";
import { z } from "zod";
import { runnerEnv, runnerMain } from "./fleet.ts";

const logLine = z.object({ time: z.string(), botId: z.string().optional(), event: z.string().optional() }).loose();

export interface SocketEvent {
  at: number;
  botId: string;
  event: string;
}

/**
 * A real runner process (main.ts from source) for one tenant, and the socket events its log
 * reports (`socket_opened`, `socket_ended`, …) as they happen.
 */
export function runnerProcess(
  id: string,
  tenantId: string,
  settings: { capacity: number; ttlMs: number; graceMs: number; scanMs: number; env?: Record<string, string> },
  children: ChildProcess[],
) {
  const child = spawn(process.execPath, ["--conditions=@whatsdex/source", runnerMain], {
    env: runnerEnv({
      PORT: "0",
      HOST: "127.0.0.1",
      RUNNER_INSTANCE_ID: id,
      RUNNER_TENANTS: tenantId,
      RUNNER_CAPACITY: String(settings.capacity),
      LEASE_TTL_MS: String(settings.ttlMs),
      LEASE_TAKEOVER_GRACE_MS: String(settings.graceMs),
      RUNNER_SCAN_MS: String(settings.scanMs),
      ...settings.env,
    }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const events: SocketEvent[] = [];
  let pending = "";
  child.stdout?.setEncoding("utf8");
  child.stdout?.on("data", (chunk: string) => {
    pending += chunk;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      const parsed = logLine.safeParse(JSON.parse(line));
      if (parsed.success && parsed.data.botId && parsed.data.event?.startsWith("socket_")) {
        events.push({ at: Date.parse(parsed.data.time), botId: parsed.data.botId, event: parsed.data.event });
      }
    }
  });
  return { child, events };
}

/** Each bot's socket lifetimes in one process: [opened, ended or `until`]. */
export function lifetimes(events: SocketEvent[], until: number) {
  const byBot = new Map<string, Array<[number, number]>>();
  const open = new Map<string, number>();
  for (const { at, botId, event } of events) {
    if (event === "socket_opened") open.set(botId, at);
    if (event === "socket_ended") {
      byBot.set(botId, [...(byBot.get(botId) ?? []), [open.get(botId) ?? at, at]]);
      open.delete(botId);
    }
  }
  for (const [botId, at] of open) byBot.set(botId, [...(byBot.get(botId) ?? []), [at, until]]);
  return byBot;
}

/** Bots that had a socket in both processes at the same instant. */
export function overlaps(a: Map<string, Array<[number, number]>>, b: Map<string, Array<[number, number]>>): string[] {
  const found: string[] = [];
  for (const [botId, spansA] of a) {
    for (const [openA, endA] of spansA) {
      for (const [openB, endB] of b.get(botId) ?? []) if (openA < endB && openB < endA) found.push(botId);
    }
  }
  return found;
}
