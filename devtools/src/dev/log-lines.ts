import { z } from "zod";

const pinoLine = z.looseObject({
  time: z.string().optional(),
  level: z.string().optional(),
  message: z.string().optional(),
  tenantId: z.string().optional(),
  botId: z.string().optional(),
});

/** Fields every line carries (or that say nothing a reader needs in a terminal). */
const quiet = new Set([
  "time",
  "level",
  "severity",
  "message",
  "tenantId",
  "botId",
  "serviceContext",
  "pid",
  "hostname",
]);

/**
 * One of our services' JSON log lines (core/logging: `level` as a label, `message`), made readable
 * for a terminal: `12:03:04 INFO  tenant/bot  message key=value …`. Anything else passes through.
 */
export function readableLogLine(line: string): string {
  if (!line.startsWith("{")) return line;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return line;
  }
  const entry = pinoLine.safeParse(parsed);
  if (!entry.success) return line;
  const { time, level, message, tenantId, botId } = entry.data;
  const clock = time ? time.slice(11, 19) : "";
  const where = tenantId ? ` ${tenantId}${botId ? `/${botId}` : ""}` : "";
  const extras = Object.entries(entry.data)
    .filter(([key]) => !quiet.has(key))
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(" ");
  return `${clock} ${(level ?? "").toUpperCase().padEnd(5)}${where} ${message ?? ""}${extras ? `  ${extras}` : ""}`;
}

/** The Functions emulator relays a function's log line as `>  {json}`: made readable like ours. */
export function readableEmulatorLine(line: string): string {
  const relayed = /^(.*?>\s+)(\{.*\})$/.exec(line);
  return relayed ? `${relayed[1]}${readableLogLine(relayed[2] ?? "")}` : line;
}
