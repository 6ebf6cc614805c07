import { z } from "zod";

export const roles = ["owner", "admin", "viewer"] as const;
export const roleSchema = z.enum(roles);
export type Role = z.output<typeof roleSchema>;

/** API keys carry scopes instead of a role. */
export const apiKeyScopes = ["read", "bots", "messages", "admin"] as const;
export const apiKeyScopeSchema = z.enum(apiKeyScopes);
export type ApiKeyScope = z.output<typeof apiKeyScopeSchema>;

/**
 * What a request may do in a tenant. Each route asks for one permission; roles and scopes both map
 * onto them here, in one table, so "who may do what" is readable in one place.
 */
export const permissions = [
  "tenant:read",
  "tenant:write",
  "members:read",
  "members:write",
  "bots:read",
  "bots:write",
  "messages:send",
  /** What the bots' chats said (the optional message store): people's words, so not viewers. */
  "messages:read",
  "apiKeys:manage",
  /** Failed jobs, with their payloads (prompts, recipients): administrators only. */
  "jobs:read",
  /** Who changed what: owners and admins; no API key (a leaked key must not read who holds access). */
  "audit:read",
  /**
   * The tenant's webhook endpoints and their delivery log: owners, admins and `admin`-scoped keys
   * (so a tenant's server can register its own endpoint). Not viewers nor other scopes: endpoint
   * URLs often carry a capability token (Slack- or Zapier-style hooks) and the log keeps receivers'
   * responses.
   */
  "webhooks:read",
  "webhooks:write",
  /**
   * Showing an endpoint's signing secret again: signed-in owners and admins only. A key that could
   * read it could forge our requests to the tenant's receivers without anyone noticing; a key
   * rotating it at least breaks the receiver, which someone sees.
   */
  "webhooks:secret",
  /** The plan, subscription and usage against the limits: every member, `read` and `admin` keys. */
  "billing:read",
  /**
   * Checkout and the customer portal (which can cancel the subscription and change the card):
   * signed-in owners only. No API key, whatever its scope: a leaked key must not be able to cancel
   * the tenant's service or reach its payment details (ADR 22).
   */
  "billing:manage",
  /** Closing the account (every bot logged out, every byte deleted) and its export: signed-in owners only. */
  "tenant:delete",
  /** The tenant's contacts (people's names, numbers and tags): owners, admins and `admin`/`messages` keys, not viewers. */
  "contacts:read",
  "contacts:write",
  /** Templates and campaigns: what they say, to whom, their progress. Every member may read. */
  "campaigns:read",
  "campaigns:write",
] as const;
export type Permission = (typeof permissions)[number];

const byRole: Record<Role, ReadonlySet<Permission>> = {
  owner: new Set(permissions),
  admin: new Set(permissions.filter((p) => p !== "billing:manage" && p !== "tenant:delete")),
  viewer: new Set<Permission>(["tenant:read", "members:read", "bots:read", "billing:read", "campaigns:read"]),
};

/**
 * API keys are for servers calling the API, not for administering access: no scope lets a key
 * manage members or other keys, so a leaked key cannot mint more keys or add an owner.
 */
const byScope: Record<ApiKeyScope, ReadonlySet<Permission>> = {
  read: new Set<Permission>(["tenant:read", "members:read", "bots:read", "billing:read", "campaigns:read"]),
  bots: new Set<Permission>(["bots:read", "bots:write"]),
  messages: new Set<Permission>([
    "bots:read",
    "messages:send",
    "messages:read",
    "contacts:read",
    "contacts:write",
    "campaigns:read",
    "campaigns:write",
  ]),
  admin: new Set<Permission>([
    "tenant:read",
    "tenant:write",
    "members:read",
    "bots:read",
    "bots:write",
    "messages:send",
    "messages:read",
    "jobs:read",
    "webhooks:read",
    "webhooks:write",
    "billing:read",
    "contacts:read",
    "contacts:write",
    "campaigns:read",
    "campaigns:write",
  ]),
};

export function roleAllows(role: Role, permission: Permission): boolean {
  return byRole[role].has(permission);
}

export function scopesAllow(scopes: readonly ApiKeyScope[], permission: Permission): boolean {
  return scopes.some((scope) => byScope[scope].has(permission));
}
