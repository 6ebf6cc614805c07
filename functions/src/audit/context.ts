import { type AuditContext, auditContextOf, type TenantAccess } from "@whatsdex/core";

/** Who is making this change, under which request: what every audited service call takes. */
export function auditContext(context: { access: TenantAccess; requestId: string }): AuditContext {
  return auditContextOf(context.access, context.requestId);
}
