import { Text } from "ink";
import type { ReactNode } from "react";
import { h } from "./h.ts";
import type { LogFilter } from "./log-filter.ts";

/** The one-line footer: every key the TUI answers to, and the filter being typed. */
export function KeyHelp(props: { filter: LogFilter; typing: boolean; chat: boolean }): ReactNode {
  if (props.typing) {
    return h(
      Text,
      { wrap: "truncate-end" },
      h(Text, { color: "cyan" }, `filter: ${props.filter.text}`),
      h(Text, { inverse: true }, " "),
      h(Text, { dimColor: true }, "   Enter keep · Esc clear · Backspace delete"),
    );
  }
  const keys = [
    ["↑↓/jk", "select bot"],
    ["f", `log scope: ${props.filter.scope}`],
    ["/", "filter text"],
    ["Esc", "clear filter"],
    ...(props.chat ? [["Tab", "chat"]] : []),
    ["q", "quit"],
  ];
  return h(
    Text,
    { wrap: "truncate-end" },
    ...keys.flatMap(([key, what], index) => [
      index > 0 ? h(Text, { key: `s${index}`, dimColor: true }, "  ·  ") : null,
      h(Text, { key: `k${index}`, bold: true }, key),
      h(Text, { key: `w${index}`, dimColor: true }, ` ${what}`),
    ]),
  );
}
