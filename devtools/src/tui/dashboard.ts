import type { Firestore } from "firebase-admin/firestore";
import type { Redis } from "ioredis";
import { type Reachability, tcpProbe } from "./emulator-probe.ts";
import { type FleetBot, FleetWatch, type LinkingView } from "./fleet-watch.ts";
import type { LogEntry } from "./log-line.ts";
import { type LogFileStatus, tailLog } from "./log-tail.ts";
import { pollQueueDepths, type QueueDepths } from "./queue-depths.ts";
import { pollRunnerMetrics, type RunnerMetrics } from "./runner-metrics.ts";

/** Everything the TUI shows, as one immutable value (a new object on every change). */
export interface DashboardState {
  /** Where the data comes from, for the header. */
  sources: { project: string; firestore: string; redis: string; runner: string; logFile: string; tenants: string };
  /** Whether the Firestore emulator accepts connections; undefined until first checked. */
  firestore: Reachability | undefined;
  bots: readonly FleetBot[] | undefined;
  /** The last listener failure (rules, a dropped stream), cleared when the bots are read again. */
  firestoreError: string | null;
  linking: LinkingView;
  queues: QueueDepths;
  runner: RunnerMetrics;
  log: { status: LogFileStatus; entries: readonly LogEntry[] };
}

export interface DashboardDeps {
  db: Firestore;
  /** BullMQ's Redis; closed by whoever made it, after the dashboard. */
  redis: Redis;
  fetch: typeof globalThis.fetch;
  projectId: string;
  firestoreHost: string;
  redisUrl: string;
  queuePrefix: string;
  queues: readonly string[];
  runnerUrl: string;
  logFile: string;
  tenants?: readonly string[] | undefined;
}

/** How often each source is read, and how long an answer is waited for. */
const timing = {
  probeMs: 3_000,
  probeTimeoutMs: 2_000,
  queuesMs: 2_000,
  queuesTimeoutMs: 3_000,
  metricsMs: 3_000,
  metricsTimeoutMs: 2_000,
  logPollMs: 300,
};

export interface Dashboard {
  getState(): DashboardState;
  /** For React's useSyncExternalStore: `listener` runs after every change; returns the unsubscribe. */
  subscribe(listener: () => void): () => void;
  /** The bot whose linking codes are shown (`tenantId/botId`). */
  select(key: string | undefined): void;
  /** Ends every listener, timer and poll; the Redis connection and Firestore are the caller's to close. */
  close(): Promise<void>;
}

/** Starts every source of the TUI (Firestore listeners, Redis and /metrics polls, the log tail). */
export function startDashboard(deps: DashboardDeps): Dashboard {
  const listeners = new Set<() => void>();
  let state: DashboardState = {
    sources: {
      project: deps.projectId,
      firestore: deps.firestoreHost,
      redis: deps.redisUrl,
      runner: deps.runnerUrl,
      logFile: deps.logFile,
      tenants: deps.tenants ? deps.tenants.join(", ") : "all",
    },
    firestore: undefined,
    bots: undefined,
    firestoreError: null,
    linking: { kind: "none" },
    queues: { kind: "loading" },
    runner: { kind: "loading", url: deps.runnerUrl },
    log: { status: { kind: "opening", path: deps.logFile }, entries: [] },
  };
  let closed = false;
  const set = (patch: Partial<DashboardState>) => {
    if (closed) return;
    state = { ...state, ...patch };
    for (const listener of listeners) listener();
  };

  // Listeners run only while the emulator answers: the SDK retries a lost stream with a backoff
  // timer that unsubscribing does not clear, which would keep `q` from ending the process for up to
  // a minute. So they are closed when the probe finds it gone, and opened again when it is back.
  let fleet: FleetWatch | undefined;
  let selected: string | undefined;
  const openFleet = () => {
    fleet = new FleetWatch(deps.db, {
      tenants: deps.tenants,
      onBots: (bots) => set({ bots, firestoreError: null }),
      onLinking: (linking) => set({ linking }),
      onError: (message) => set({ firestoreError: message }),
    });
    fleet.start();
    fleet.select(selected);
  };

  const probe = tcpProbe(deps.firestoreHost, timing.probeTimeoutMs);
  let probeTimer: NodeJS.Timeout | undefined;
  const runProbe = () => {
    void probe().then((result) => {
      if (closed) return;
      if (result.reachable && !fleet) openFleet();
      if (!result.reachable && fleet) {
        fleet.close();
        fleet = undefined;
      }
      const previous = state.firestore;
      if (previous?.reachable !== result.reachable || previous.error !== result.error) set({ firestore: result });
      probeTimer = setTimeout(runProbe, timing.probeMs);
    });
  };
  runProbe();

  const queues = pollQueueDepths({
    connection: deps.redis,
    prefix: deps.queuePrefix,
    queues: deps.queues,
    intervalMs: timing.queuesMs,
    timeoutMs: timing.queuesTimeoutMs,
    onChange: (depths) => set({ queues: depths }),
  });
  const runner = pollRunnerMetrics({
    url: deps.runnerUrl,
    fetch: deps.fetch,
    intervalMs: timing.metricsMs,
    timeoutMs: timing.metricsTimeoutMs,
    onChange: (metrics) => set({ runner: metrics }),
  });
  const log = tailLog({
    path: deps.logFile,
    keep: 500,
    initialBytes: 256 * 1024,
    pollMs: timing.logPollMs,
    onChange: (entries, status) => set({ log: { entries, status } }),
  });

  return {
    getState: () => state,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    select(key) {
      selected = key;
      fleet?.select(key);
    },
    async close() {
      closed = true;
      listeners.clear();
      clearTimeout(probeTimer);
      fleet?.close();
      log.close();
      runner.close();
      await queues.close();
    },
  };
}
