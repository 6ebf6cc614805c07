import { parseOrThrow } from "../errors/zod-issues.ts";
import { resourceIdSchema } from "./ids.ts";

/**
 * Every document path the product uses, built from validated ids. Trigger patterns use the same
 * segments, so a renamed collection cannot leave a trigger listening to the old one.
 */
export const collections = {
  tenants: "tenants",
  bots: "bots",
  auth: "auth",
  outbox: "outbox",
  contacts: "contacts",
} as const;

export const botDocumentPattern = `${collections.tenants}/{tenantId}/${collections.bots}/{botId}` as const;

export function tenantPath(tenantId: string): string {
  return `${collections.tenants}/${parseOrThrow(resourceIdSchema, tenantId, "tenant id")}`;
}

export function botPath(tenantId: string, botId: string): string {
  return `${tenantPath(tenantId)}/${collections.bots}/${parseOrThrow(resourceIdSchema, botId, "bot id")}`;
}
