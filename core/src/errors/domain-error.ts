/**
 * Every failure the product reports on purpose carries one of these codes. They are stable: the API
 * returns them as problem+json `code`, the bots map them to replies, and clients branch on them.
 * HTTP statuses and user-facing replies are mapped from the code in one place per adapter.
 */
export const errorCodes = [
  "validation_failed",
  "payload_too_large",
  "unauthenticated",
  "forbidden",
  "tenant_suspended",
  "tenant_closing",
  "not_found",
  "conflict",
  "plan_limit",
  "payment_required",
  "rate_limited",
  "unavailable",
  "config_invalid",
  "internal",
] as const;

export type ErrorCode = (typeof errorCodes)[number];

/** One bad field: `path` is dotted (`settings.prefixes[0]`); an empty path means the whole value. */
export interface FieldIssue {
  path: string;
  message: string;
}

export interface DomainErrorOptions {
  cause?: unknown;
  /** Extra machine-readable facts for the client (for example `{limit: 3}`); never secrets. */
  details?: Record<string, unknown>;
}

export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: DomainErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options.details;
  }
}

export class ValidationError extends DomainError {
  readonly issues: readonly FieldIssue[];

  constructor(message: string, issues: readonly FieldIssue[], options: DomainErrorOptions = {}) {
    super("validation_failed", message, options);
    this.issues = issues;
  }
}

export class PayloadTooLargeError extends DomainError {
  constructor(message: string, options?: DomainErrorOptions) {
    super("payload_too_large", message, options);
  }
}

export class UnauthenticatedError extends DomainError {
  constructor(message = "Authentication is required.", options?: DomainErrorOptions) {
    super("unauthenticated", message, options);
  }
}

export class ForbiddenError extends DomainError {
  constructor(message = "You are not allowed to do this.", options?: DomainErrorOptions) {
    super("forbidden", message, options);
  }
}

/** The tenant is suspended: nothing is done for it until it is reinstated, whoever asks. */
export class TenantSuspendedError extends DomainError {
  constructor(message = "This tenant is suspended.", options?: DomainErrorOptions) {
    super("tenant_suspended", message, options);
  }
}

/** The owner closed the account: its data is being deleted, and nothing more is done in it (ADR 23). */
export class TenantClosingError extends DomainError {
  constructor(message = "This tenant's account is being closed.", options?: DomainErrorOptions) {
    super("tenant_closing", message, options);
  }
}

export class NotFoundError extends DomainError {
  constructor(message = "Not found.", options?: DomainErrorOptions) {
    super("not_found", message, options);
  }
}

export class ConflictError extends DomainError {
  constructor(message: string, options?: DomainErrorOptions) {
    super("conflict", message, options);
  }
}

export class PlanLimitError extends DomainError {
  constructor(message: string, options?: DomainErrorOptions) {
    super("plan_limit", message, options);
  }
}

/** The subscription's payments failed past the grace period: outbound sending waits for a paid invoice. */
export class PaymentRequiredError extends DomainError {
  constructor(message: string, options?: DomainErrorOptions) {
    super("payment_required", message, options);
  }
}

export class RateLimitedError extends DomainError {
  /** Seconds the caller should wait before trying again. */
  readonly retryAfterSeconds: number;

  constructor(message: string, retryAfterSeconds: number, options?: DomainErrorOptions) {
    super("rate_limited", message, options);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export class UnavailableError extends DomainError {
  constructor(message: string, options?: DomainErrorOptions) {
    super("unavailable", message, options);
  }
}

export class ConfigError extends DomainError {
  readonly issues: readonly FieldIssue[];

  constructor(message: string, issues: readonly FieldIssue[]) {
    super("config_invalid", message);
    this.issues = issues;
  }
}

export function isDomainError(value: unknown): value is DomainError {
  return value instanceof DomainError;
}
