import { COMMAND_HANDLED, commandHandledFieldsSchema } from "@whatsdex/core";
import { z } from "zod";

/** One line of a service's log as the TUI shows it. Lines that are not pino JSON are kept as `raw`. */
export interface LogEntry {
  /** Position in the tail, so list keys stay stable as old lines fall off. */
  seq: number;
  time: Date | null;
  level: string;
  tenantId: string | null;
  botId: string | null;
  message: string;
  /** Set on the engine's `command handled` lines. */
  command: HandledCommand | null;
  /** False for lines that are not JSON (a crash trace, a warning from Node): shown as they are. */
  structured: boolean;
}

export interface HandledCommand {
  name: string;
  outcome: string;
  ms: number | null;
}

const levelNames: Readonly<Record<number, string>> = {
  10: "trace",
  20: "debug",
  30: "info",
  40: "warn",
  50: "error",
  60: "fatal",
};

/**
 * The fields read from a line. Both pino's defaults (`level: 30`, `msg`, epoch `time`) and core's
 * Cloud Logging shape (`level: "info"`, `message`, ISO `time`) are accepted; other fields are ignored.
 */
const lineSchema = z.object({
  time: z.union([z.number(), z.string()]).optional(),
  level: z.union([z.number(), z.string()]).optional(),
  msg: z.string().optional(),
  message: z.string().optional(),
  tenantId: z.string().optional(),
  botId: z.string().optional(),
  ...commandHandledFieldsSchema.partial().shape,
  err: z.object({ message: z.string().optional() }).optional(),
});

export function parseLogLine(line: string, seq: number): LogEntry {
  const parsed = lineSchema.safeParse(parseJson(line));
  if (!parsed.success) {
    return {
      seq,
      time: null,
      level: "-",
      tenantId: null,
      botId: null,
      message: line,
      command: null,
      structured: false,
    };
  }
  const fields = parsed.data;
  const text = fields.message ?? fields.msg ?? "";
  const message = fields.err?.message ? `${text}: ${fields.err.message}` : text;
  return {
    seq,
    time: parseTime(fields.time),
    level:
      typeof fields.level === "number" ? (levelNames[fields.level] ?? String(fields.level)) : (fields.level ?? "-"),
    tenantId: fields.tenantId ?? null,
    botId: fields.botId ?? null,
    message,
    command:
      text === COMMAND_HANDLED && fields.command
        ? { name: fields.command, outcome: fields.outcome ?? "?", ms: fields.ms ?? null }
        : null,
    structured: true,
  };
}

function parseJson(line: string): unknown {
  if (!line.startsWith("{")) return undefined;
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

function parseTime(value: number | string | undefined): Date | null {
  if (value === undefined) return null;
  const time = new Date(value);
  return Number.isNaN(time.getTime()) ? null : time;
}
