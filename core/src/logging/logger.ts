import { trace } from "@opentelemetry/api";
import { type DestinationStream, type Level, type Logger, type LoggerOptions, pino } from "pino";
import { censor, maskPhoneNumbers, redactedPaths } from "./redaction.ts";

export type { Logger } from "pino";

/** Cloud Logging's severity names for pino's levels. */
const severityByLevel: Record<string, string> = {
  trace: "DEBUG",
  debug: "DEBUG",
  info: "INFO",
  warn: "WARNING",
  error: "ERROR",
  fatal: "CRITICAL",
};

export interface CreateLoggerOptions {
  level: Level | "silent";
  /** `serviceContext.service` for Error Reporting: "api", "session-runner", … */
  service: string;
  version: string;
  /** Needed to turn a trace id into Cloud Logging's `projects/{p}/traces/{id}` link. */
  projectId?: string | undefined;
  /** Where lines go; stdout when absent. Tests pass a stream and read the JSON back. */
  destination?: DestinationStream;
}

/**
 * JSON lines that Cloud Logging parses as structured entries: `severity`, `message`, `time`, the
 * active OpenTelemetry span as `logging.googleapis.com/trace`, secrets and phone numbers redacted.
 * Bind tenant, bot and request with `logger.child({tenantId, botId, requestId})`.
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  const traceKey = "logging.googleapis.com/trace";
  const config: LoggerOptions = {
    level: options.level,
    messageKey: "message",
    errorKey: "err",
    timestamp: pino.stdTimeFunctions.isoTime,
    base: { serviceContext: { service: options.service, version: options.version } },
    formatters: {
      level: (label) => ({ severity: severityByLevel[label] ?? "DEFAULT", level: label }),
    },
    redact: { paths: [...redactedPaths], censor },
    mixin() {
      const span = trace.getActiveSpan();
      if (!span) return {};
      const { traceId, spanId, traceFlags } = span.spanContext();
      return {
        [traceKey]: options.projectId ? `projects/${options.projectId}/traces/${traceId}` : traceId,
        "logging.googleapis.com/spanId": spanId,
        "logging.googleapis.com/trace_sampled": (traceFlags & 1) === 1,
      };
    },
    hooks: {
      // Messages are free text and may quote a JID or an E.164 number; mask those too.
      logMethod(args, method) {
        for (let i = 0; i < args.length; i++) {
          const arg = args[i];
          if (typeof arg === "string") args[i] = maskPhoneNumbers(arg);
        }
        return method.apply(this, args);
      },
    },
  };
  return options.destination ? pino(config, options.destination) : pino(config);
}
