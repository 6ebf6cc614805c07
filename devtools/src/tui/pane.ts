import { Box, Text } from "ink";
import type { ReactNode } from "react";
import { h } from "./h.ts";

export interface PaneProps {
  title: string;
  /** Shown dim after the title: a count, the active filter. */
  note?: string | undefined;
  height?: number | undefined;
  width?: number | undefined;
  flexGrow?: number | undefined;
  children?: ReactNode;
}

/** A bordered box with a title line: every pane of the TUI. */
export function Pane(props: PaneProps): ReactNode {
  return h(
    Box,
    {
      flexDirection: "column",
      borderStyle: "round",
      borderColor: "gray",
      paddingX: 1,
      overflow: "hidden",
      ...(props.height === undefined ? {} : { height: props.height }),
      // A pane given a width keeps it; the others share what is left.
      ...(props.width === undefined ? {} : { width: props.width, flexShrink: 0 }),
      ...(props.flexGrow === undefined ? {} : { flexGrow: props.flexGrow }),
    },
    h(
      Text,
      { wrap: "truncate-end" },
      h(Text, { bold: true }, props.title),
      props.note ? h(Text, { dimColor: true }, `  ${props.note}`) : null,
    ),
    props.children,
  );
}

/** A fixed-width table cell whose text is cut, not wrapped, when too long. */
export function Cell(props: {
  width: number;
  color?: string | undefined;
  dim?: boolean;
  children?: string;
}): ReactNode {
  return h(
    Box,
    { width: props.width, flexShrink: 0, marginRight: 1 },
    h(
      Text,
      {
        wrap: "truncate-end",
        ...(props.color ? { color: props.color } : {}),
        ...(props.dim ? { dimColor: true } : {}),
      },
      props.children,
    ),
  );
}
