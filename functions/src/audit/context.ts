import { type AuditContext, auditContextOf, type Logger, type TenantAccess } from "@whatsdex/core";

/**
 * The request id of the call, as request-context bound it to the request's logger (the route
 * context carries the logger, not the id itself).
 */
export function requestIdOf(logger: Logger): string | null {
  const id: unknown = logger.bindings().requestId;
  return typeof id === "string" ? id : null;
}

/** Who is making this change, under which request: what every audited service call takes. */
export function auditContext(context: { access: TenantAccess; logger: Logger }): AuditContext {
  return auditContextOf(context.access, requestIdOf(context.logger));
}
