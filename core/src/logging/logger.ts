import { trace } from "@opentelemetry/api";
import {
  type Bindings,
  type ChildLoggerOptions,
  type DestinationStream,
  type Level,
  type Logger,
  type LoggerOptions,
  pino,
} from "pino";
import { maskPhoneNumbers, redact, redactError } from "./redaction.ts";

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
      // Turns errors at any depth into redacted plain objects, before pino serialises anything.
      log: (object) => redact(object),
    },
    serializers: {
      // pino's own `err` serializer runs after `formatters.log` and would re-serialise the redacted
      // object (as type "Object"); errors reach here already redacted, except in child bindings.
      err: (value: unknown) => redactError(value),
      // The message, after printf-style formatting; with no message of its own, pino uses the
      // logged error's message, which no hook sees.
      message: (value: unknown) => (typeof value === "string" ? maskPhoneNumbers(value) : value),
    },
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
  };
  const logger = options.destination ? pino(config, options.destination) : pino(config);
  return redactChildBindings(logger);
}

/**
 * pino serialises a child's bindings once, when the child is made, and skips `formatters.log` for
 * them; so `child({phone})` is redacted here. Children inherit this `child` from the root through
 * their prototype, so grandchildren are covered too.
 */
type ChildFn = (this: Logger<never>, bindings: Bindings, options?: ChildLoggerOptions<never>) => Logger<never>;

function redactChildBindings(logger: Logger<never>): Logger<never> {
  const child: ChildFn = logger.child;
  Object.defineProperty(logger, "child", {
    value: function redactedChild(this: Logger<never>, bindings: Bindings, childOptions?: ChildLoggerOptions<never>) {
      return child.call(this, redact(bindings), childOptions);
    },
  });
  return logger;
}
