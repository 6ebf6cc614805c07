import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { BotRuntimeFactoryOptions } from "../runner/bot-factory.ts";
import type { Supervisor } from "../runner/supervisor.ts";

/** What the bots report, counted in `registry`; pass `events` to the bot runtime factory. */
export function sessionMetrics(registry: Registry): { events: NonNullable<BotRuntimeFactoryOptions["events"]> } {
  const reconnects = new Counter({
    name: "session_runner_reconnects_total",
    help: "Times a bot's connection went into reconnecting.",
    registers: [registry],
  });
  const decryptFailures = new Counter({
    name: "session_runner_decrypt_failures_total",
    help: "Incoming messages this instance's bots could not decrypt (Bad MAC, no session, …).",
    registers: [registry],
  });
  const outboxLag = new Histogram({
    name: "session_runner_outbox_lag_seconds",
    help: "Time from an outbox item being queued to its runner picking it up, by kind.",
    labelNames: ["kind"] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  const commands = new Counter({
    name: "commands_total",
    help: "Commands WhatsApp users sent, by command and outcome (ok, error, refused: forbidden, cooldown, …).",
    labelNames: ["command", "outcome"] as const,
    registers: [registry],
  });
  const commandSeconds = new Histogram({
    name: "command_duration_seconds",
    help: "From a command's arrival to its reply (or refusal).",
    labelNames: ["command"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return {
    events: {
      command: (command, outcome, seconds) => {
        commands.inc({ command, outcome });
        commandSeconds.observe({ command }, seconds);
      },
      sessionState: (_bot, state) => {
        if (state === "reconnecting") reconnects.inc();
      },
      decryptFailure: () => decryptFailures.inc(),
      outboxPickup: (kind, lagSeconds) => outboxLag.observe({ kind }, Math.max(0, lagSeconds)),
    },
  };
}

/** Gauges read from the supervisor at scrape time. */
export function supervisorGauges(registry: Registry, supervisor: Supervisor): void {
  new Gauge({
    name: "session_runner_leases_held",
    help: "Bots this instance holds the lease of.",
    registers: [registry],
    collect() {
      this.set(supervisor.running.size);
    },
  });
  new Gauge({
    name: "session_runner_bots",
    help: "This instance's bots by connection state.",
    labelNames: ["state"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [state, count] of supervisor.countByState()) this.set({ state }, count);
    },
  });
  new Gauge({
    name: "session_runner_oldest_server_frame_seconds",
    help: "Among open bots, the longest time since WhatsApp's server last sent anything (keep-alives answer every 30 s).",
    registers: [registry],
    collect() {
      this.set((supervisor.oldestServerFrameMs() ?? 0) / 1000);
    },
  });
}
