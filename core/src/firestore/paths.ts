import { parseOrThrow } from "../errors/zod-issues.ts";
import { resourceIdSchema } from "./ids.ts";

/**
 * Every document path the product uses, built from validated ids. Trigger patterns use the same
 * segments, so a renamed collection cannot leave a trigger listening to the old one.
 */
export const collections = {
  tenants: "tenants",
  members: "members",
  apiKeys: "apiKeys",
  bots: "bots",
  auth: "auth",
  outbox: "outbox",
  contacts: "contacts",
  linking: "linking",
  lease: "lease",
  campaigns: "campaigns",
  deadLetters: "deadLetters",
  usage: "usage",
  groups: "groups",
  bans: "bans",
  aiMemory: "aiMemory",
  users: "users",
  events: "events",
  webhooks: "webhooks",
  deliveries: "deliveries",
  secret: "secret",
  chats: "chats",
  messages: "messages",
  stripeEvents: "stripeEvents",
  templates: "templates",
  recipients: "recipients",
  contactImports: "contactImports",
  governor: "governor",
  campaignReach: "campaignReach",
  tenantDeletions: "tenantDeletions",
} as const;

export const botDocumentPattern = `${collections.tenants}/{tenantId}/${collections.bots}/{botId}` as const;

const id = (value: string, what: string) => parseOrThrow(resourceIdSchema, value, what);

/** A person id as documents are keyed by it (`lid:<digits>`, `pn:<digits>`), checked like the other ids. */
function person(personId: string): string {
  if (!/^(lid|pn):\d{5,20}$/.test(personId)) throw new Error(`not a person id: ${personId}`);
  return personId;
}

export function tenantPath(tenantId: string): string {
  return `${collections.tenants}/${id(tenantId, "tenant id")}`;
}

/** Per signed-in user facts that span tenants (how many free tenants they created); server-only. */
export function userPath(uid: string): string {
  return `${collections.users}/${id(uid, "user id")}`;
}

export function memberPath(tenantId: string, uid: string): string {
  return `${tenantPath(tenantId)}/${collections.members}/${id(uid, "user id")}`;
}

export function apiKeyPath(tenantId: string, keyId: string): string {
  return `${tenantPath(tenantId)}/${collections.apiKeys}/${id(keyId, "API key id")}`;
}

export function botPath(tenantId: string, botId: string): string {
  return `${tenantPath(tenantId)}/${collections.bots}/${id(botId, "bot id")}`;
}

/** The one document that says which runner instance owns the bot's WhatsApp session. */
export function leasePath(tenantId: string, botId: string): string {
  return `${botPath(tenantId, botId)}/${collections.lease}/current`;
}

/** A WhatsApp user as one bot knows them; `personId` is `lid:<digits>` or, until a LID is known, `pn:<digits>`. */
export function contactPath(tenantId: string, botId: string, personId: string): string {
  const key = person(personId);
  return `${botPath(tenantId, botId)}/${collections.contacts}/${key}`;
}

/** One bot's settings for one WhatsApp group (welcome, antilink), by the group's JID. */
export function groupSettingsPath(tenantId: string, botId: string, groupJid: string): string {
  const match = /^([\d-]{5,64})@g\.us$/.exec(groupJid);
  if (!match?.[1]) throw new Error(`not a group JID: ${groupJid}`);
  return `${botPath(tenantId, botId)}/${collections.groups}/${match[1]}`;
}

/** A WhatsApp user one bot no longer answers; `personId` as in contactPath. */
export function banPath(tenantId: string, botId: string, personId: string): string {
  const key = person(personId);
  return `${botPath(tenantId, botId)}/${collections.bans}/${key}`;
}

export function bansCollectionPath(tenantId: string, botId: string): string {
  return `${botPath(tenantId, botId)}/${collections.bans}`;
}

/** What the AI remembers of one chat of one bot (`chatKey` is derived from the chat's JID). */
export function aiMemoryPath(tenantId: string, botId: string, chatKey: string): string {
  return `${botPath(tenantId, botId)}/${collections.aiMemory}/${id(chatKey, "chat key")}`;
}

export function contactsCollectionPath(tenantId: string, botId: string): string {
  return `${botPath(tenantId, botId)}/${collections.contacts}`;
}

export function authStateCollectionPath(tenantId: string, botId: string): string {
  return `${botPath(tenantId, botId)}/${collections.auth}`;
}

export function outboxCollectionPath(tenantId: string, botId: string): string {
  return `${botPath(tenantId, botId)}/${collections.outbox}`;
}

export function outboxItemPath(tenantId: string, botId: string, itemId: string): string {
  return `${botPath(tenantId, botId)}/${collections.outbox}/${id(itemId, "outbox item id")}`;
}

/** A job that exhausted its attempts (or could not run at all), for the tenant to see. */
export function deadLetterPath(tenantId: string, deadLetterId: string): string {
  return `${tenantPath(tenantId)}/${collections.deadLetters}/${id(deadLetterId, "dead letter id")}`;
}

export function deadLettersCollectionPath(tenantId: string): string {
  return `${tenantPath(tenantId)}/${collections.deadLetters}`;
}

/** A tenant's usage on one UTC day (`YYYY-MM-DD`), against its plan's daily limits. */
export function usagePath(tenantId: string, day: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new Error(`not a day: ${day}`);
  return `${tenantPath(tenantId)}/${collections.usage}/${day}`;
}

/** An event kept for delivery and replay to the tenant's webhooks (TTL on `expiresAt`). */
export function eventPath(tenantId: string, eventId: string): string {
  return `${tenantPath(tenantId)}/${collections.events}/${id(eventId, "event id")}`;
}

export function eventsCollectionPath(tenantId: string): string {
  return `${tenantPath(tenantId)}/${collections.events}`;
}

export function webhooksCollectionPath(tenantId: string): string {
  return `${tenantPath(tenantId)}/${collections.webhooks}`;
}

export function webhookPath(tenantId: string, webhookId: string): string {
  return `${webhooksCollectionPath(tenantId)}/${id(webhookId, "webhook id")}`;
}

/** The endpoint's signing secrets: server-only, apart from the endpoint the dashboard reads. */
export function webhookSecretPath(tenantId: string, webhookId: string): string {
  return `${webhookPath(tenantId, webhookId)}/${collections.secret}/current`;
}

export function webhookDeliveryPath(tenantId: string, webhookId: string, eventId: string): string {
  return `${webhookPath(tenantId, webhookId)}/${collections.deliveries}/${id(eventId, "event id")}`;
}

export function webhookDeliveriesCollectionPath(tenantId: string, webhookId: string): string {
  return `${webhookPath(tenantId, webhookId)}/${collections.deliveries}`;
}

export function chatsCollectionPath(tenantId: string, botId: string): string {
  return `${botPath(tenantId, botId)}/${collections.chats}`;
}

/** One chat of a bot's message store; `chatKey` from `chatKeyOf` (`g-…`, `lid-…`, `pn-…`). */
export function chatPath(tenantId: string, botId: string, chatKey: string): string {
  if (!/^(g|lid|pn)-[\d-]{5,64}$/.test(chatKey)) throw new Error(`not a chat key: ${chatKey}`);
  return `${chatsCollectionPath(tenantId, botId)}/${chatKey}`;
}

export function chatMessagePath(tenantId: string, botId: string, chatKey: string, messageId: string): string {
  return `${chatPath(tenantId, botId, chatKey)}/${collections.messages}/${id(messageId, "message id")}`;
}

/** A Stripe event that was applied (billing's idempotency record; server-only, TTL on `expiresAt`). */
export function stripeEventPath(eventId: string): string {
  return `${collections.stripeEvents}/${id(eventId, "Stripe event id")}`;
}

/** A tenant's account closing, while it runs and after (server-only): what lets an interrupted one resume. */
export function tenantDeletionPath(tenantId: string): string {
  return `${collections.tenantDeletions}/${id(tenantId, "tenant id")}`;
}

/** A contact of the tenant, shared by its bots (`personId`: `lid:<digits>` or `pn:<digits>`). */
export function tenantContactPath(tenantId: string, personId: string): string {
  const key = person(personId);
  return `${tenantContactsCollectionPath(tenantId)}/${key}`;
}

export function tenantContactsCollectionPath(tenantId: string): string {
  return `${tenantPath(tenantId)}/${collections.contacts}`;
}

/** One CSV import of contacts: its report, and what undoing it needs. */
export function contactImportPath(tenantId: string, importId: string): string {
  return `${tenantPath(tenantId)}/${collections.contactImports}/${id(importId, "import id")}`;
}

export function templatePath(tenantId: string, templateId: string): string {
  return `${tenantPath(tenantId)}/${collections.templates}/${id(templateId, "template id")}`;
}

export function campaignPath(tenantId: string, campaignId: string): string {
  return `${tenantPath(tenantId)}/${collections.campaigns}/${id(campaignId, "campaign id")}`;
}

export function campaignRecipientPath(tenantId: string, campaignId: string, personId: string): string {
  const key = person(personId);
  return `${campaignPath(tenantId, campaignId)}/${collections.recipients}/${key}`;
}

/** The last campaign message to a person, across the tenant's campaigns (one per 24 h). */
export function campaignReachPath(tenantId: string, personId: string): string {
  const key = person(personId);
  return `${tenantPath(tenantId)}/${collections.campaignReach}/${key}`;
}

/** The pacing governor's state for one bot (its windows, warm-up, WhatsApp's signals): what a takeover continues. */
export function governorPath(tenantId: string, botId: string): string {
  return `${botPath(tenantId, botId)}/${collections.governor}/current`;
}
