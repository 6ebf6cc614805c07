import { Box, Text } from "ink";
import type { ReactNode } from "react";
import type { FleetBot } from "./fleet-watch.ts";
import { relative, stateColor } from "./format.ts";
import { h } from "./h.ts";
import { Cell, Pane } from "./pane.ts";

export interface BotsPaneProps {
  bots: readonly FleetBot[] | undefined;
  selectedKey: string | undefined;
  /** Inner width (inside the border and padding), to size the columns. */
  width: number;
  /** Rows available for bots; the list scrolls to keep the selected one visible. */
  rows: number;
  now: number;
  tenants: string;
}

/** Every bot in scope: tenant, name, transport, desired and actual state, lease and outbox depth. */
export function BotsPane(props: BotsPaneProps): ReactNode {
  const columns = botColumns(props.width);
  const bots = props.bots ?? [];
  const selected = Math.max(
    0,
    bots.findIndex((bot) => bot.key === props.selectedKey),
  );
  const first = Math.min(Math.max(0, selected - props.rows + 1), Math.max(0, bots.length - props.rows));
  const shown = bots.slice(first, first + props.rows);
  const note = props.bots
    ? `${bots.length} bot${bots.length === 1 ? "" : "s"} · tenants: ${props.tenants}${bots.length > shown.length ? ` · ${first + 1}-${first + shown.length} shown` : ""}`
    : "reading Firestore…";
  return h(
    Pane,
    { title: "Bots", note, height: props.rows + 4 },
    h(
      Box,
      null,
      h(Cell, { width: 1 }, " "),
      h(Cell, { width: columns.tenant, dim: true }, "TENANT"),
      h(Cell, { width: columns.name, dim: true }, "NAME"),
      h(Cell, { width: columns.transport, dim: true }, "TRANSPORT"),
      h(Cell, { width: columns.desired, dim: true }, "DESIRED"),
      h(Cell, { width: columns.state, dim: true }, "STATE (REASON)"),
      h(Cell, { width: columns.lease, dim: true }, "LEASE EXPIRY · OWNER"),
      h(Cell, { width: columns.outbox, dim: true }, "OUTBOX"),
    ),
    props.bots && bots.length === 0 ? h(Text, { dimColor: true }, "No bots in Firestore for this scope.") : null,
    ...shown.map((bot) =>
      h(BotRow, { key: bot.key, bot, columns, selected: bot.key === props.selectedKey, now: props.now }),
    ),
  );
}

function BotRow(props: { bot: FleetBot; columns: BotColumns; selected: boolean; now: number }): ReactNode {
  const { bot, columns } = props;
  const state = bot.problem ?? (bot.reason ? `${bot.state} (${bot.reason})` : bot.state);
  return h(
    Box,
    null,
    h(Cell, { width: 1, color: "cyan" }, props.selected ? "›" : " "),
    h(Cell, { width: columns.tenant }, bot.tenantId),
    h(Cell, { width: columns.name, ...(props.selected ? { color: "cyan" } : {}) }, bot.name),
    h(Cell, { width: columns.transport }, bot.transport),
    h(Cell, { width: columns.desired }, bot.desiredState),
    h(Cell, { width: columns.state, color: stateColor(bot.state) }, state),
    h(Cell, { width: columns.lease, ...leaseStyle(bot, props.now) }, leaseText(bot, props.now)),
    h(Cell, { width: columns.outbox }, bot.outboxDepth === undefined ? "…" : String(bot.outboxDepth)),
  );
}

export function leaseText(bot: FleetBot, now: number): string {
  if (bot.lease === undefined) return "…";
  if (bot.lease === null || bot.lease.owner === null) return "free";
  const expired = bot.lease.expiresAt.getTime() <= now;
  // Expiry first: a long instance id is what gets cut.
  return `${expired ? "expired " : ""}${relative(bot.lease.expiresAt, now)} · ${bot.lease.owner}`;
}

function leaseStyle(bot: FleetBot, now: number): { dim?: boolean; color?: string } {
  if (!bot.lease?.owner) return { dim: true };
  return bot.lease.expiresAt.getTime() <= now ? { color: "red" } : {};
}

interface BotColumns {
  tenant: number;
  name: number;
  transport: number;
  desired: number;
  state: number;
  lease: number;
  outbox: number;
}

function botColumns(width: number): BotColumns {
  const fixed = { transport: 9, desired: 7, outbox: 6 };
  // 8 cells, each followed by one space; the selection marker is 1 wide.
  const rest = Math.max(40, width - 1 - fixed.transport - fixed.desired - fixed.outbox - 8);
  const tenant = Math.floor(rest * 0.17);
  const name = Math.floor(rest * 0.2);
  const state = Math.floor(rest * 0.25);
  return { ...fixed, tenant, name, state, lease: rest - tenant - name - state };
}
