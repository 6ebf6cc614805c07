import { Box, Text } from "ink";
import type { ReactNode } from "react";
import { clock, latency, outcomeColor } from "./format.ts";
import { h } from "./h.ts";
import type { LogEntry } from "./log-line.ts";
import { Cell, Pane } from "./pane.ts";

export interface CommandsPaneProps {
  /** Already filtered, oldest first. */
  entries: readonly LogEntry[];
  rows: number;
  filter: string;
  /** Whether a filter hides some lines (so that "none" says why). */
  filtering: boolean;
  /** `tenantId/botId` → bot name, for the entries whose bot is known. */
  names: ReadonlyMap<string, string>;
}

/** The last commands the runner handled (its `command handled` log lines): who, what, outcome, latency. */
export function CommandsPane(props: CommandsPaneProps): ReactNode {
  const commands = props.entries.filter((entry) => entry.command !== null);
  const shown = commands.slice(-props.rows);
  return h(
    Pane,
    { title: "Recent commands", note: props.filter, height: props.rows + 4 },
    h(
      Box,
      null,
      h(Cell, { width: 8, dim: true }, "TIME"),
      h(Cell, { width: 24, dim: true }, "BOT"),
      h(Cell, { width: 14, dim: true }, "COMMAND"),
      h(Cell, { width: 12, dim: true }, "OUTCOME"),
      h(Cell, { width: 10, dim: true }, "LATENCY"),
    ),
    shown.length === 0
      ? h(Text, { dimColor: true }, props.filtering ? "No command matches the filter." : "No command in the log yet.")
      : null,
    ...shown.map((entry) => {
      const key = `${entry.tenantId ?? "?"}/${entry.botId ?? "?"}`;
      const command = entry.command ?? { name: "?", outcome: "?", ms: null };
      return h(
        Box,
        { key: String(entry.seq) },
        h(Cell, { width: 8, dim: true }, clock(entry.time)),
        h(Cell, { width: 24 }, props.names.get(key) ?? entry.botId ?? "?"),
        h(Cell, { width: 14 }, command.name),
        h(Cell, { width: 12, color: outcomeColor(command.outcome) }, command.outcome),
        h(Cell, { width: 10 }, latency(command.ms)),
      );
    }),
  );
}
