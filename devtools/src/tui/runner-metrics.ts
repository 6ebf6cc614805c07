import { parsePrometheusText, type Sample } from "./prometheus-text.ts";

/** What the TUI shows of a runner's `/metrics`. */
export interface RunnerSummary {
  instances: readonly string[];
  botsByState: ReadonlyArray<readonly [state: string, count: number]>;
  leasesHeld: number | null;
  commandsByOutcome: ReadonlyArray<readonly [outcome: string, count: number]>;
  reconnects: number | null;
  decryptFailures: number | null;
}

export type RunnerMetrics =
  | { kind: "loading"; url: string }
  | { kind: "up"; url: string; summary: RunnerSummary }
  | { kind: "down"; url: string; message: string };

export interface RunnerMetricsOptions {
  /** The runner's base URL; `/metrics` is read from it. */
  url: string;
  fetch: typeof globalThis.fetch;
  intervalMs: number;
  timeoutMs: number;
  onChange(metrics: RunnerMetrics): void;
}

/** Scrapes the runner's Prometheus endpoint every `intervalMs`, as Prometheus itself would. */
export function pollRunnerMetrics(options: RunnerMetricsOptions): { close(): void } {
  const url = `${options.url.replace(/\/+$/, "")}/metrics`;
  const stop = new AbortController();
  let timer: NodeJS.Timeout | undefined;

  async function scrape(): Promise<RunnerMetrics> {
    try {
      const response = await options.fetch(url, {
        signal: AbortSignal.any([stop.signal, AbortSignal.timeout(options.timeoutMs)]),
      });
      const text = await response.text();
      if (!response.ok) return { kind: "down", url: options.url, message: `GET /metrics answered ${response.status}` };
      return { kind: "up", url: options.url, summary: summarise(parsePrometheusText(text)) };
    } catch (error) {
      return { kind: "down", url: options.url, message: fetchFailure(error, options.timeoutMs) };
    }
  }

  const loop = () => {
    void scrape().then((metrics) => {
      if (stop.signal.aborted) return;
      options.onChange(metrics);
      timer = setTimeout(loop, options.intervalMs);
    });
  };
  loop();

  return {
    close() {
      stop.abort();
      clearTimeout(timer);
    },
  };
}

export function summarise(samples: readonly Sample[]): RunnerSummary {
  const named = (name: string) => samples.filter((sample) => sample.name === name);
  const total = (name: string) => {
    const found = named(name);
    return found.length === 0 ? null : found.reduce((sum, sample) => sum + sample.value, 0);
  };
  const byLabel = (name: string, label: string) => {
    const sums = new Map<string, number>();
    for (const sample of named(name)) {
      const key = sample.labels[label] ?? "?";
      sums.set(key, (sums.get(key) ?? 0) + sample.value);
    }
    return [...sums].sort(([a], [b]) => a.localeCompare(b));
  };
  const instances = new Set(samples.map((sample) => sample.labels.instance).filter((id) => id !== undefined));
  return {
    instances: [...instances].sort(),
    botsByState: byLabel("session_runner_bots", "state").filter(([, count]) => count > 0),
    leasesHeld: total("session_runner_leases_held"),
    commandsByOutcome: byLabel("commands_total", "outcome"),
    reconnects: total("session_runner_reconnects_total"),
    decryptFailures: total("session_runner_decrypt_failures_total"),
  };
}

/** `fetch failed` says nothing: the cause's code (ECONNREFUSED, …) says whether the runner is there at all. */
function fetchFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && error.name === "TimeoutError") return `no answer within ${timeoutMs} ms`;
  if (error instanceof Error && error.cause instanceof Error) {
    const code = "code" in error.cause && typeof error.cause.code === "string" ? error.cause.code : undefined;
    return code ?? error.cause.message;
  }
  return error instanceof Error ? error.message : String(error);
}
