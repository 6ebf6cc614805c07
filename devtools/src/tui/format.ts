/** Small text helpers shared by the panes. */

/** `in 12s`, `3m ago`: lease expiries and code lifetimes read at a glance. */
export function relative(to: Date, now: number): string {
  const seconds = Math.round((to.getTime() - now) / 1000);
  const span = Math.abs(seconds);
  const amount = span < 90 ? `${span}s` : span < 5_400 ? `${Math.round(span / 60)}m` : `${Math.round(span / 3_600)}h`;
  return seconds >= 0 ? `in ${amount}` : `${amount} ago`;
}

export function clock(time: Date | null): string {
  if (!time) return "--:--:--";
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(time.getHours())}:${pad(time.getMinutes())}:${pad(time.getSeconds())}`;
}

export function latency(ms: number | null): string {
  if (ms === null) return "?";
  return ms < 1_000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** The colour a connection state is shown in. */
export function stateColor(state: string): string {
  switch (state) {
    case "open":
      return "green";
    case "qr":
    case "pairing":
    case "connecting":
    case "reconnecting":
      return "yellow";
    case "stopped":
      return "gray";
    default:
      return "red";
  }
}

export function levelColor(level: string): string {
  switch (level) {
    case "trace":
    case "debug":
      return "gray";
    case "info":
      return "cyan";
    case "warn":
      return "yellow";
    default:
      return level === "-" ? "gray" : "red";
  }
}

export function outcomeColor(outcome: string): string {
  if (outcome === "ok") return "green";
  return outcome === "error" ? "red" : "yellow";
}
