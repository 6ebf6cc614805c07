import type { LogEntry } from "./log-line.ts";

/** Which lines the log and command panes show; `tenant` and `bot` follow the selected bot. */
export type FilterScope = "all" | "tenant" | "bot";
export const filterScopes: readonly FilterScope[] = ["all", "tenant", "bot"];

export interface LogFilter {
  scope: FilterScope;
  /** Case-insensitive text a line must contain (message, command, outcome, level, ids). */
  text: string;
}

export interface FilterContext {
  selected: { tenantId: string; botId: string } | undefined;
  /** The TUI's tenant scope: lines of other tenants are never shown. */
  tenants: readonly string[] | undefined;
}

export function nextScope(scope: FilterScope): FilterScope {
  return filterScopes[(filterScopes.indexOf(scope) + 1) % filterScopes.length] ?? "all";
}

export function matchesFilter(entry: LogEntry, filter: LogFilter, context: FilterContext): boolean {
  if (context.tenants && entry.tenantId !== null && !context.tenants.includes(entry.tenantId)) return false;
  const { selected } = context;
  if (filter.scope !== "all" && selected) {
    if (entry.tenantId !== selected.tenantId) return false;
    if (filter.scope === "bot" && entry.botId !== selected.botId) return false;
  }
  if (filter.text === "") return true;
  const needle = filter.text.toLowerCase();
  const haystack = [
    entry.message,
    entry.level,
    entry.tenantId,
    entry.botId,
    entry.command?.name,
    entry.command?.outcome,
  ];
  return haystack.some((field) => field?.toLowerCase().includes(needle));
}

export function describeFilter(filter: LogFilter, selectedName: string | undefined): string {
  const scope =
    filter.scope === "all" || !selectedName
      ? "all bots"
      : filter.scope === "tenant"
        ? `tenant of ${selectedName}`
        : `bot ${selectedName}`;
  return filter.text ? `${scope} · "${filter.text}"` : scope;
}
