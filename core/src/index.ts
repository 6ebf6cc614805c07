export { deleteBotData } from "./bots/delete-bot-data.ts";
export { baseEnvSchema, type Env, loadEnvOrExit, logLevels, parseEnv, projectIdFrom } from "./config/env.ts";
export {
  ConfigError,
  ConflictError,
  DomainError,
  type ErrorCode,
  errorCodes,
  type FieldIssue,
  ForbiddenError,
  isDomainError,
  NotFoundError,
  PlanLimitError,
  RateLimitedError,
  UnauthenticatedError,
  UnavailableError,
  ValidationError,
} from "./errors/domain-error.ts";
export { fieldIssues, formatPath, parseOrThrow } from "./errors/zod-issues.ts";
export { createFirebase, type Firebase } from "./firebase/app.ts";
export { type ResourceId, resourceIdSchema } from "./firestore/ids.ts";
export { botDocumentPattern, botPath, collections, tenantPath } from "./firestore/paths.ts";
export { type FirestoreProbe, firestoreProbe } from "./health/firestore-probe.ts";
export { type CreateLoggerOptions, createLogger, type Logger } from "./logging/logger.ts";
export { maskPhoneNumbers, REDACTED } from "./logging/redaction.ts";
export { inSpan } from "./telemetry/spans.ts";
export { defaultTraceExporter, startTracing, type TraceExporterKind, type Tracing } from "./telemetry/tracing.ts";
export { packageVersion } from "./version.ts";
