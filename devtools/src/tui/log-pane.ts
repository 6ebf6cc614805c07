import { Text } from "ink";
import type { ReactNode } from "react";
import { clock, levelColor } from "./format.ts";
import { h } from "./h.ts";
import type { LogEntry } from "./log-line.ts";
import type { LogFileStatus } from "./log-tail.ts";
import { Pane } from "./pane.ts";

export interface LogPaneProps {
  /** Already filtered, oldest first. */
  entries: readonly LogEntry[];
  status: LogFileStatus;
  rows: number;
  filter: string;
  names: ReadonlyMap<string, string>;
}

/** The end of the runner's log, one line per entry: time, level, tenant/bot, message. */
export function LogPane(props: LogPaneProps): ReactNode {
  const { status } = props;
  const problem =
    status.kind === "missing"
      ? `No log file at ${status.path} (yet): \`npm run dev\` writes it; set WHATSDEX_LOG_FILE for another.`
      : status.kind === "error"
        ? `Cannot read ${status.path}: ${status.message}`
        : undefined;
  const rows = problem ? props.rows - 1 : props.rows;
  const shown = props.entries.slice(-Math.max(0, rows));
  return h(
    Pane,
    { title: "Log", note: `${props.filter} · ${status.path}`, height: props.rows + 3 },
    problem ? h(Text, { color: "yellow", wrap: "truncate-end" }, problem) : null,
    ...shown.map((entry) => h(LogLine, { key: String(entry.seq), entry, names: props.names })),
  );
}

function LogLine(props: { entry: LogEntry; names: ReadonlyMap<string, string> }): ReactNode {
  const { entry } = props;
  if (!entry.structured) return h(Text, { dimColor: true, wrap: "truncate-end" }, entry.message);
  const who = entry.tenantId
    ? ` ${entry.tenantId.slice(0, 8)}/${props.names.get(`${entry.tenantId}/${entry.botId ?? ""}`) ?? entry.botId ?? "-"}`
    : "";
  return h(
    Text,
    { wrap: "truncate-end" },
    h(Text, { dimColor: true }, clock(entry.time)),
    " ",
    h(Text, { color: levelColor(entry.level) }, entry.level.toUpperCase().padEnd(5)),
    h(Text, { color: "magenta" }, who),
    " ",
    entry.message,
    entry.command ? h(Text, { dimColor: true }, ` ${entry.command.name} ${entry.command.outcome}`) : null,
  );
}
