import { type ErrorCode, type FieldIssue, isDomainError, RateLimitedError, ValidationError } from "@whatsdex/core";

/**
 * The one place where error codes become HTTP: RFC 9457 problem details with a stable `code`.
 * The record is exhaustive over ErrorCode, so a new code cannot ship without its status.
 */
const httpByCode: Record<ErrorCode, { status: number; title: string }> = {
  validation_failed: { status: 400, title: "The request is not valid" },
  payload_too_large: { status: 413, title: "The request body is too large" },
  unauthenticated: { status: 401, title: "Authentication required" },
  forbidden: { status: 403, title: "Not allowed" },
  tenant_suspended: { status: 403, title: "The tenant is suspended" },
  tenant_closing: { status: 403, title: "The tenant's account is being closed" },
  not_found: { status: 404, title: "Not found" },
  conflict: { status: 409, title: "Conflict" },
  plan_limit: { status: 403, title: "Plan limit reached" },
  payment_required: { status: 402, title: "Payment required" },
  rate_limited: { status: 429, title: "Too many requests" },
  unavailable: { status: 503, title: "Temporarily unavailable" },
  config_invalid: { status: 500, title: "The service is misconfigured" },
  internal: { status: 500, title: "Internal error" },
};

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance?: string;
  requestId?: string;
  errors?: readonly FieldIssue[];
  [extension: string]: unknown;
}

export interface ProblemResponse {
  problem: Problem;
  headers: Record<string, string>;
}

export function problem(code: ErrorCode, detail: string, extra: Partial<Problem> = {}): Problem {
  const { status, title } = httpByCode[code];
  return { type: `urn:whatsdex:problem:${code}`, title, status, detail, code, ...extra };
}

/** Body-parser failures carry `type`; everything else unknown is an internal error with no detail leaked. */
const bodyParserErrors: Record<string, { code: ErrorCode; detail: string }> = {
  "entity.parse.failed": { code: "validation_failed", detail: "The request body is not valid JSON." },
  "entity.too.large": { code: "payload_too_large", detail: "The request body is larger than this API accepts." },
  "encoding.unsupported": { code: "validation_failed", detail: "The request body's encoding is not supported." },
  "charset.unsupported": { code: "validation_failed", detail: "The request body's charset is not supported." },
};

/**
 * Errors from Express's own machinery (http-errors from body-parser, the router's parameter
 * decoding) carry a 4xx `status`; zlib errors (`Z_*`) come from a body that does not
 * match its Content-Encoding. All are the client's fault and say nothing secret.
 */
function clientErrorFromMachinery(error: object): { code: ErrorCode; detail: string } | undefined {
  const status = "status" in error && typeof error.status === "number" ? error.status : undefined;
  if (status !== undefined && status >= 400 && status < 500) {
    // The router's URIError carries status 400 but no `expose` flag.
    if (error instanceof Error && error.name === "URIError") {
      return { code: "validation_failed", detail: "The URL is not valid percent-encoding." };
    }
    if (!("expose" in error) || error.expose !== true) return undefined;
    if (status === 413)
      return { code: "payload_too_large", detail: "The request body is larger than this API accepts." };
    return { code: "validation_failed", detail: "The request is malformed." };
  }
  if ("code" in error && typeof error.code === "string" && error.code.startsWith("Z_")) {
    return { code: "validation_failed", detail: "The request body does not match its Content-Encoding." };
  }
  return undefined;
}

export function problemFromError(error: unknown): ProblemResponse {
  if (isDomainError(error)) {
    const extra: Partial<Problem> = {};
    if (error instanceof ValidationError) extra.errors = error.issues;
    if (error.details) Object.assign(extra, { details: error.details });
    const headers: Record<string, string> = {};
    if (error instanceof RateLimitedError) headers["Retry-After"] = String(error.retryAfterSeconds);
    return { problem: problem(error.code, error.message, extra), headers };
  }
  const type = typeof error === "object" && error !== null && "type" in error ? error.type : undefined;
  const known =
    (typeof type === "string" ? bodyParserErrors[type] : undefined) ??
    (typeof error === "object" && error !== null ? clientErrorFromMachinery(error) : undefined);
  if (known) return { problem: problem(known.code, known.detail), headers: {} };
  return { problem: problem("internal", "Something went wrong on our side. It has been logged."), headers: {} };
}
