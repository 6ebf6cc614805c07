/**
 * An error as Stripe's API returns it (`{error: {type, code, message, param}}`) with the HTTP
 * status the SDK maps to its typed errors: 400/404 → StripeInvalidRequestError (or
 * StripeIdempotencyError for `idempotency_error`), 401 → StripeAuthenticationError.
 */
export class StripeApiError extends Error {
  readonly status: number;
  readonly type: "invalid_request_error" | "idempotency_error" | "api_error";
  readonly code: string | undefined;
  readonly param: string | undefined;

  constructor(
    status: number,
    type: StripeApiError["type"],
    message: string,
    details: { code?: string; param?: string } = {},
  ) {
    super(message);
    this.status = status;
    this.type = type;
    this.code = details.code;
    this.param = details.param;
  }

  body(): { error: Record<string, string> } {
    return {
      error: {
        type: this.type,
        message: this.message,
        ...(this.code ? { code: this.code } : {}),
        ...(this.param !== undefined ? { param: this.param } : {}),
      },
    };
  }
}

export function resourceMissing(kind: string, id: string, param = "id"): StripeApiError {
  return new StripeApiError(404, "invalid_request_error", `No such ${kind}: '${id}'`, {
    code: "resource_missing",
    param,
  });
}

export function invalidRequest(message: string, param?: string, code?: string): StripeApiError {
  return new StripeApiError(400, "invalid_request_error", message, {
    ...(param !== undefined ? { param } : {}),
    ...(code ? { code } : {}),
  });
}

/** A control action that does not apply to the subscription as it is (the CLI prints the message). */
export class ControlError extends Error {
  readonly status: number;
  constructor(message: string, status = 409) {
    super(message);
    this.status = status;
  }
}
