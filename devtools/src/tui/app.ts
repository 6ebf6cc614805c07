import { queueNames } from "@whatsdex/core/jobs";
import { Box, Text, useApp, useInput, useWindowSize } from "ink";
import { type ReactNode, useEffect, useMemo, useState, useSyncExternalStore } from "react";
import { BotsPane } from "./bots-pane.ts";
import { CHAT_PANE_HEIGHT, type ChatPane } from "./chat-slot.ts";
import { CommandsPane } from "./commands-pane.ts";
import type { Dashboard } from "./dashboard.ts";
import { h } from "./h.ts";
import { KeyHelp } from "./key-help.ts";
import { LinkingPane } from "./linking-pane.ts";
import { describeFilter, type LogFilter, matchesFilter, nextScope } from "./log-filter.ts";
import { LogPane } from "./log-pane.ts";
import { MetricsPane } from "./metrics-pane.ts";
import { QueuesPane } from "./queues-pane.ts";
import { problems, StatusBar } from "./status-bar.ts";

export interface AppProps {
  dashboard: Dashboard;
  queuePrefix: string;
  tenants: readonly string[] | undefined;
  /** The chat pane slot (see chat-slot.ts); the right column's lower part is kept for it. */
  chat?: ChatPane | undefined;
}

/** Two borders, the title, the column names and one row per queue. */
const QUEUE_ROW_HEIGHT = 4 + Object.keys(queueNames).length;
const COMMAND_ROWS = 5;
const RIGHT_COLUMN = 61;

/**
 * The layout: the bots, queue and runner panes, recent commands and the log on the left; the
 * selected bot with its QR code on the right, above the chat slot. Keys: see KeyHelp.
 */
export function App(props: AppProps): ReactNode {
  const { dashboard } = props;
  const state = useSyncExternalStore(dashboard.subscribe, dashboard.getState);
  const { exit } = useApp();
  const { columns, rows } = useWindowSize();
  const [selectedKey, setSelectedKey] = useState<string>();
  const [filter, setFilter] = useState<LogFilter>({ scope: "all", text: "" });
  const [mode, setMode] = useState<"browse" | "typing" | "chat">("browse");
  const now = useNow(1_000);

  const bots = state.bots ?? [];
  const selected = bots.find((bot) => bot.key === selectedKey) ?? bots[0];
  const selectedIndex = selected ? bots.indexOf(selected) : -1;
  useEffect(() => {
    dashboard.select(selected?.key);
  }, [dashboard, selected?.key]);

  useInput((input, key) => {
    if (mode === "chat") {
      if (key.tab) setMode("browse");
      return;
    }
    if (mode === "typing") {
      if (key.return) setMode("browse");
      else if (key.escape) {
        setFilter((current) => ({ ...current, text: "" }));
        setMode("browse");
      } else if (key.backspace || key.delete) setFilter((current) => ({ ...current, text: current.text.slice(0, -1) }));
      else if (input && !key.ctrl && !key.meta) setFilter((current) => ({ ...current, text: current.text + input }));
      return;
    }
    const move = (by: number) => {
      const next = bots[Math.min(bots.length - 1, Math.max(0, selectedIndex + by))];
      if (next) setSelectedKey(next.key);
    };
    if (key.upArrow) move(-1);
    else if (key.downArrow) move(1);
    else if (key.pageUp) move(-10);
    else if (key.pageDown) move(10);
    else if (key.escape) setFilter({ scope: "all", text: "" });
    else if (key.tab && props.chat) setMode("chat");
    if (key.ctrl || key.meta) return;
    // Keys typed faster than a frame arrive together ("jj", "ff"): each one counts.
    let moves = 0;
    let scopes = 0;
    for (const char of input) {
      if (char === "q") return exit();
      if (char === "j") moves += 1;
      else if (char === "k") moves -= 1;
      else if (char === "f") scopes += 1;
      else if (char === "/") setMode("typing");
    }
    if (moves !== 0) move(moves);
    for (let i = 0; i < scopes; i++) setFilter((current) => ({ ...current, scope: nextScope(current.scope) }));
  });

  const names = useMemo(() => new Map(bots.map((bot) => [bot.key, bot.name])), [bots]);
  const visible = useMemo(
    () =>
      state.log.entries.filter((entry) =>
        matchesFilter(entry, filter, {
          selected: selected ? { tenantId: selected.tenantId, botId: selected.botId } : undefined,
          tenants: props.tenants,
        }),
      ),
    [state.log.entries, filter, selected, props.tenants],
  );
  const filterNote = describeFilter(filter, selected?.name);

  const issues = problems(state);
  const body = Math.max(20, rows - 2 - issues.length);
  const rightWidth = Math.min(RIGHT_COLUMN, Math.floor(columns * 0.4));
  const leftWidth = columns - rightWidth;
  const botRows = Math.max(1, Math.min(Math.max(bots.length, 1), Math.floor(body * 0.3)));
  const botsHeight = botRows + 4;
  const commandsHeight = COMMAND_ROWS + 4;
  const logRows = Math.max(3, body - botsHeight - QUEUE_ROW_HEIGHT - commandsHeight - 3);
  const chatHeight = props.chat ? CHAT_PANE_HEIGHT : 0;

  return h(
    Box,
    { flexDirection: "column", width: columns, height: rows },
    h(StatusBar, { state }),
    ...issues.map((line) => h(Text, { key: line, color: "red", wrap: "truncate-end" }, line)),
    h(
      Box,
      { height: body },
      h(
        Box,
        { flexDirection: "column", width: leftWidth },
        h(BotsPane, {
          bots: state.bots,
          selectedKey: selected?.key,
          width: leftWidth - 4,
          rows: botRows,
          now,
          tenants: state.sources.tenants,
        }),
        h(
          Box,
          { height: QUEUE_ROW_HEIGHT },
          h(QueuesPane, { depths: state.queues, redisUrl: state.sources.redis, prefix: props.queuePrefix, width: 59 }),
          h(MetricsPane, { metrics: state.runner, flexGrow: 1 }),
        ),
        h(CommandsPane, {
          entries: visible,
          rows: COMMAND_ROWS,
          filter: filterNote,
          filtering: filter.scope !== "all" || filter.text !== "",
          names,
        }),
        h(LogPane, { entries: visible, status: state.log.status, rows: logRows, filter: filterNote, names }),
      ),
      h(
        Box,
        { flexDirection: "column", width: rightWidth },
        h(LinkingPane, { bot: selected, linking: state.linking, width: rightWidth, height: body - chatHeight, now }),
        // ── chat pane slot ──────────────────────────────────────────────────────────────────
        props.chat
          ? h(props.chat, { bot: selected, width: rightWidth, height: chatHeight, focused: mode === "chat" })
          : null,
      ),
    ),
    h(KeyHelp, { filter, typing: mode === "typing", chat: props.chat !== undefined }),
  );
}

/** The time, updated every `everyMs`, so relative times (lease expiry, QR lifetime) count down. */
function useNow(everyMs: number): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}
