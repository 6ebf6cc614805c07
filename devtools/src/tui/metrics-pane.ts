import { Text } from "ink";
import type { ReactNode } from "react";
import { h } from "./h.ts";
import { Pane } from "./pane.ts";
import type { RunnerMetrics } from "./runner-metrics.ts";

/** What the runner's own `/metrics` says: its bots by state, leases held, commands by outcome. */
export function MetricsPane(props: { metrics: RunnerMetrics; flexGrow: number }): ReactNode {
  const { metrics } = props;
  const note = `${metrics.url}/metrics`;
  if (metrics.kind === "loading") {
    return h(Pane, { title: "Runner", note, flexGrow: props.flexGrow }, h(Text, { dimColor: true }, "scraping…"));
  }
  if (metrics.kind === "down") {
    return h(
      Pane,
      { title: "Runner", note, flexGrow: props.flexGrow },
      h(Text, { color: "red", wrap: "wrap" }, `down: ${metrics.message}`),
      h(Text, { dimColor: true, wrap: "wrap" }, "Start it with `npm run dev`, or set RUNNER_URL."),
    );
  }
  const { summary } = metrics;
  const pairs = (entries: ReadonlyArray<readonly [string, number]>) =>
    entries.length === 0 ? "none" : entries.map(([key, count]) => `${key} ${count}`).join(" · ");
  const fleet = [
    summary.leasesHeld === null ? null : `leases held ${summary.leasesHeld}`,
    summary.botsByState.length === 0 ? null : `bots ${pairs(summary.botsByState)}`,
  ].filter((text) => text !== null);
  const counters = [
    summary.reconnects === null ? null : `reconnects ${summary.reconnects}`,
    summary.decryptFailures === null ? null : `decrypt failures ${summary.decryptFailures}`,
  ].filter((text) => text !== null);
  return h(
    Pane,
    { title: "Runner", note, flexGrow: props.flexGrow },
    h(
      Text,
      { wrap: "truncate-end" },
      h(Text, { color: "green" }, "up"),
      summary.instances.length > 0 ? ` · ${summary.instances.join(", ")}` : "",
    ),
    fleet.length > 0 ? h(Text, { wrap: "truncate-end" }, fleet.join(" · ")) : null,
    h(Text, { wrap: "truncate-end" }, h(Text, { dimColor: true }, "commands "), pairs(summary.commandsByOutcome)),
    counters.length > 0 ? h(Text, { dimColor: true, wrap: "truncate-end" }, counters.join(" · ")) : null,
  );
}
