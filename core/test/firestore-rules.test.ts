import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import {
  assertFails,
  assertSucceeds,
  initializeTestEnvironment,
  type RulesTestContext,
  type RulesTestEnvironment,
} from "@firebase/rules-unit-testing";
import { setLogLevel } from "firebase/firestore";
import { afterAll, beforeAll, describe, it } from "vitest";
import { requireEnv, uniqueId } from "../src/testing/index.ts";

/**
 * firestore.rules, checked against the real emulator: every collection × principal × operation.
 * Clients only ever read; every write goes through the API (Admin SDK), so every write here is denied.
 */

type Db = ReturnType<RulesTestContext["firestore"]>;
type Query = ReturnType<ReturnType<Db["collection"]>["where"]>;
type Role = "owner" | "admin" | "viewer";
const roles: readonly Role[] = ["owner", "admin", "viewer"];

/** Who may read: any member of the tenant, its owners and admins, or no client at all. */
type Access = "members" | "managers" | "nobody";

interface Principal {
  name: string;
  /** Signed in as this uid; null when unauthenticated. */
  uid: string | null;
  /** Role in tenant A; null when not a member of any tenant. */
  role: Role | null;
}

const tenantA = uniqueId("tenant");
const tenantB = uniqueId("tenant");
const uids: Record<string, Record<Role, string>> = {
  [tenantA]: { owner: uniqueId("owner"), admin: uniqueId("admin"), viewer: uniqueId("viewer") },
  [tenantB]: { owner: uniqueId("owner"), admin: uniqueId("admin"), viewer: uniqueId("viewer") },
};
const membersOf = (tenantId: string): Record<Role, string> => {
  const members = uids[tenantId];
  if (!members) throw new Error(`no members seeded for ${tenantId}`);
  return members;
};
const ids = {
  apiKey: "key-1",
  bot: "bot-1",
  outbox: "msg-1",
  contact: "contact-1",
  campaign: "campaign-1",
  template: "template-1",
  recipient: "recipient-1",
  day: "2025-01-31",
  audit: "entry-1",
  invitation: "invitation-1",
  deadLetter: "dl-1",
  media: "media-1",
  group: "120363000000000001",
  ban: "lid:200000000001",
  chat: "chat-1",
  stripeEvent: "evt_1",
  runner: "runner-1",
  webhook: "webhook-1",
  personId: "pn:15557654321",
  contactImport: "import-1",
  event: "evt_1",
};

const principals: Principal[] = [
  { name: "unauthenticated", uid: null, role: null },
  { name: "user in no tenant", uid: uniqueId("outsider"), role: null },
  ...roles.map((role) => ({ name: `A's ${role}`, uid: membersOf(tenantA)[role], role })),
];

interface Target {
  name: string;
  get: Access;
  /** Omitted when another row already lists the same collection. */
  list?: Access;
  /** An existing document, as `principal` addresses it in `tenantId`. */
  doc(tenantId: string, principal: Principal): string;
  /** Where `create` writes; by default a new id next to `doc`. */
  createAt?(tenantId: string, principal: Principal): string;
  /** The list query; by default the whole collection `doc` is in. */
  query?(db: Db, tenantId: string): Query;
  /** What `create` and `update` write; an attempt to grant oneself a role for member documents. */
  data?(tenantId: string, principal: Principal): Record<string, unknown>;
}

const bot = (t: string) => `tenants/${t}/bots/${ids.bot}`;
const webhook = (t: string) => `tenants/${t}/webhooks/${ids.webhook}`;
const ownMemberDoc = (t: string, p: Principal) => `tenants/${t}/members/${p.uid ?? "anonymous"}`;
/** Someone else's membership: the viewer's for owners and admins, the owner's for everyone else. */
const otherMemberDoc = (t: string, p: Principal) =>
  `tenants/${t}/members/${membersOf(t)[p.role === "owner" || p.role === "admin" ? "viewer" : "owner"]}`;
const selfPromotion = (t: string, p: Principal) => ({ uid: p.uid ?? "anonymous", role: "owner", tenantId: t });

/** Documents under a tenant; each is checked in tenant A (per the table) and tenant B (always denied). */
const tenantTargets: Target[] = [
  {
    name: "tenant doc",
    get: "members",
    list: "members",
    doc: (t) => `tenants/${t}`,
    // The whole tenants collection includes other tenants; a member lists exactly their own. "__name__" is
    // FieldPath.documentId(), which firebase/compat's CommonJS-shaped typings do not expose under nodenext.
    query: (db, t) => db.collection("tenants").where("__name__", "==", t),
  },
  // Viewers see their own membership; owners and admins see everyone's. Nobody may change a role.
  { name: "own member doc", get: "members", doc: ownMemberDoc, createAt: ownMemberDoc, data: selfPromotion },
  { name: "other's member doc", get: "managers", list: "managers", doc: otherMemberDoc, data: selfPromotion },
  // Peppered hashes of the tenant's API keys: key material no client needs; keys are managed through the API.
  { name: "apiKeys", get: "nobody", list: "nobody", doc: (t) => `tenants/${t}/apiKeys/${ids.apiKey}` },
  { name: "bots", get: "members", list: "members", doc: (t) => bot(t) },
  // Baileys auth state: whoever holds it is the linked WhatsApp number.
  { name: "bots/auth", get: "nobody", list: "nobody", doc: (t) => `${bot(t)}/auth/creds` },
  // Queued messages: recipients' numbers and message content, for the runner to send.
  { name: "bots/outbox", get: "nobody", list: "nobody", doc: (t) => `${bot(t)}/outbox/${ids.outbox}` },
  // WhatsApp users' phone numbers: personal data of people who never signed up to WhatsDeX.
  { name: "bots/contacts", get: "nobody", list: "nobody", doc: (t) => `${bot(t)}/contacts/${ids.contact}` },
  { name: "bots/linking", get: "managers", list: "managers", doc: (t) => `${bot(t)}/linking/current` },
  // Which runner holds the bot's session: coordination between session-runners, nothing for a client.
  { name: "bots/lease", get: "nobody", list: "nobody", doc: (t) => `${bot(t)}/lease/current` },
  { name: "campaigns", get: "members", list: "members", doc: (t) => `tenants/${t}/campaigns/${ids.campaign}` },
  // What campaigns say: the tenant's own text, no personal data.
  { name: "templates", get: "members", list: "members", doc: (t) => `tenants/${t}/templates/${ids.template}` },
  // Recipients' phone numbers, personal data like contacts.
  {
    name: "campaigns/recipients",
    get: "nobody",
    list: "nobody",
    doc: (t) => `tenants/${t}/campaigns/${ids.campaign}/recipients/${ids.recipient}`,
  },
  // The tenant's contacts: people's names and numbers, for owners and admins as in the API.
  { name: "contacts", get: "managers", list: "managers", doc: (t) => `tenants/${t}/contacts/${ids.personId}` },
  {
    name: "contactImports",
    get: "managers",
    list: "managers",
    doc: (t) => `tenants/${t}/contactImports/${ids.contactImport}`,
  },
  // Contacts as they were before an import: what an undo restores, read by no client.
  {
    name: "contactImports/changes",
    get: "nobody",
    list: "nobody",
    doc: (t) => `tenants/${t}/contactImports/${ids.contactImport}/changes/${ids.personId}`,
  },
  { name: "usage", get: "managers", list: "managers", doc: (t) => `tenants/${t}/usage/${ids.day}` },
  { name: "audit", get: "managers", list: "managers", doc: (t) => `tenants/${t}/audit/${ids.audit}` },
  // Invited email addresses: personal data, like other members' emails.
  {
    name: "invitations",
    get: "managers",
    list: "managers",
    doc: (t) => `tenants/${t}/invitations/${ids.invitation}`,
  },
  // Failed jobs keep their payloads (prompts, recipients).
  {
    name: "deadLetters",
    get: "managers",
    list: "managers",
    doc: (t) => `tenants/${t}/deadLetters/${ids.deadLetter}`,
  },
  // Images and stickers in transit between a job and the runner.
  { name: "bots/media", get: "nobody", list: "nobody", doc: (t) => `${bot(t)}/media/${ids.media}` },
  // What a group's admins set for the bot, with warnings by WhatsApp user.
  { name: "bots/groups", get: "nobody", list: "nobody", doc: (t) => `${bot(t)}/groups/${ids.group}` },
  // WhatsApp users a bot ignores: their numbers.
  { name: "bots/bans", get: "nobody", list: "nobody", doc: (t) => `${bot(t)}/bans/${ids.ban}` },
  // What people said to the AI in a chat: nobody's business but the chat's.
  { name: "bots/aiMemory", get: "nobody", list: "nobody", doc: (t) => `${bot(t)}/aiMemory/${ids.chat}` },
  // Endpoint URLs often carry a receiver's token: owners and admins, as in the API.
  { name: "webhooks", get: "managers", list: "managers", doc: (t) => webhook(t) },
  // Signing secrets: whoever holds one can forge our requests to the tenant's receiver.
  { name: "webhooks/secret", get: "nobody", list: "nobody", doc: (t) => `${webhook(t)}/secret/current` },
  // Status and attempts (receivers' answers), no payloads.
  {
    name: "webhooks/deliveries",
    get: "managers",
    list: "managers",
    doc: (t) => `${webhook(t)}/deliveries/${ids.event}`,
  },
  // Who got a campaign message when: people's ids, for the campaign driver's 24-hour rule only.
  {
    name: "campaignReach",
    get: "nobody",
    list: "nobody",
    doc: (t) => `tenants/${t}/campaignReach/${ids.personId}`,
  },
  // Stored events: message contents and phone numbers, for the deliverer only.
  { name: "events", get: "nobody", list: "nobody", doc: (t) => `tenants/${t}/events/${ids.event}` },
];

/** Top-level documents, belonging to no tenant. */
const globalTargets: Target[] = [
  // Stripe webhook payloads of every tenant (customers, invoices), kept for idempotency.
  { name: "stripeEvents", get: "nobody", list: "nobody", doc: () => `stripeEvents/${ids.stripeEvent}` },
  // Account closings (who asked, how far it got): server-only, even for the tenant's own owner.
  { name: "tenantDeletions", get: "nobody", list: "nobody", doc: () => `tenantDeletions/${tenantA}` },
  // Heartbeats of the session-runner fleet: hosts and load, nothing a tenant needs.
  { name: "runners", get: "nobody", list: "nobody", doc: () => `runners/${ids.runner}` },
];

function mayRead(access: Access, principal: Principal, tenantId: string | null): boolean {
  if (access === "nobody" || tenantId !== tenantA || principal.role === null) return false;
  return access === "members" || principal.role === "owner" || principal.role === "admin";
}

const parent = (path: string) => path.slice(0, path.lastIndexOf("/"));

interface Operation {
  name: "get" | "list" | "create" | "update" | "delete";
  /** Whether the table lets `principal` do it; undefined when the target does not have it. */
  allowed(target: Target, principal: Principal, tenantId: string | null): boolean | undefined;
  run(db: Db, target: Target, principal: Principal, tenantId: string): Promise<unknown>;
}

const operations: Operation[] = [
  {
    name: "get",
    allowed: (target, principal, tenantId) => mayRead(target.get, principal, tenantId),
    run: (db, target, principal, t) => db.doc(target.doc(t, principal)).get(),
  },
  {
    name: "list",
    allowed: (target, principal, tenantId) =>
      target.list === undefined ? undefined : mayRead(target.list, principal, tenantId),
    run: (db, target, principal, t) => (target.query?.(db, t) ?? db.collection(parent(target.doc(t, principal)))).get(),
  },
  {
    name: "create",
    allowed: () => false,
    run: (db, target, principal, t) => {
      const path = target.createAt?.(t, principal) ?? `${parent(target.doc(t, principal))}/${uniqueId("new")}`;
      return db.doc(path).set(target.data?.(t, principal) ?? { created: true });
    },
  },
  {
    name: "update",
    allowed: () => false,
    run: (db, target, principal, t) => db.doc(target.doc(t, principal)).update(target.data?.(t, principal) ?? { x: 1 }),
  },
  {
    name: "delete",
    allowed: () => false,
    run: (db, target, principal, t) => db.doc(target.doc(t, principal)).delete(),
  },
];

let testEnv: RulesTestEnvironment | undefined;
const dbs = new Map<Principal, Db>();
const dbOf = (principal: Principal): Db => {
  const db = dbs.get(principal);
  if (!db) throw new Error(`no Firestore client for ${principal.name}`);
  return db;
};

beforeAll(async () => {
  // Every denied write makes the SDK warn that its Write stream failed with PERMISSION_DENIED, which is
  // what these tests expect; keep only its errors, which still fail a test through console.error.
  setLogLevel("error");
  const address = requireEnv("FIRESTORE_EMULATOR_HOST");
  const colon = address.lastIndexOf(":");
  testEnv = await initializeTestEnvironment({
    // Rules are loaded per project: a project of its own leaves demo-whatsdex, which other files use, alone.
    projectId: `demo-rules-${randomBytes(6).toString("hex")}`,
    firestore: {
      rules: readFileSync(new URL("../../firestore.rules", import.meta.url), "utf8"),
      host: address.slice(0, colon),
      port: Number(address.slice(colon + 1)),
    },
  });

  await testEnv.withSecurityRulesDisabled(async (context) => {
    const batch = context.firestore().batch();
    const put = (path: string, data: Record<string, unknown>) => batch.set(context.firestore().doc(path), data);
    for (const t of [tenantA, tenantB]) {
      put(`tenants/${t}`, { name: `Tenant ${t}`, plan: "pro" });
      for (const role of roles) put(`tenants/${t}/members/${membersOf(t)[role]}`, { uid: membersOf(t)[role], role });
      put(`tenants/${t}/apiKeys/${ids.apiKey}`, { hash: "sha256:…", prefix: "wdx_1234" });
      put(bot(t), { name: "Support bot", desiredState: "running" });
      put(`${bot(t)}/auth/creds`, { value: "secret" });
      put(`${bot(t)}/outbox/${ids.outbox}`, { kind: "send", to: "15551234567" });
      put(`${bot(t)}/contacts/${ids.contact}`, { phone: "15557654321" });
      put(`${bot(t)}/linking/current`, { qr: "2@abc" });
      put(`${bot(t)}/lease/current`, { holder: ids.runner, token: 1 });
      put(`tenants/${t}/campaigns/${ids.campaign}`, { name: "Launch", status: "draft" });
      put(`tenants/${t}/templates/${ids.template}`, { name: "Welcome", body: "{Hi|Hello} {{name|there}}" });
      put(`tenants/${t}/campaigns/${ids.campaign}/recipients/${ids.recipient}`, { phone: "15550001111" });
      put(`tenants/${t}/contacts/${ids.personId}`, { pn: "15557654321@s.whatsapp.net", name: "Budi", tags: ["vip"] });
      put(`tenants/${t}/contactImports/${ids.contactImport}`, { status: "completed", rejected: [{ line: 2 }] });
      put(`tenants/${t}/contactImports/${ids.contactImport}/changes/${ids.personId}`, { before: { name: "B" } });
      put(`tenants/${t}/usage/${ids.day}`, { messagesSent: 3 });
      put(`tenants/${t}/audit/${ids.audit}`, { action: "bot.created" });
      put(`tenants/${t}/invitations/${ids.invitation}`, { email: "someone@example.test", role: "admin" });
      put(`tenants/${t}/deadLetters/${ids.deadLetter}`, { queue: "ai", error: { code: "unrecoverable" } });
      put(`${bot(t)}/media/${ids.media}`, { mimetype: "image/webp" });
      put(`${bot(t)}/groups/${ids.group}`, { antilink: { enabled: true, kickAfter: 3 }, warnings: {} });
      put(`${bot(t)}/bans/${ids.ban}`, { lid: "200000000001@lid", pn: null });
      put(`${bot(t)}/aiMemory/${ids.chat}`, { summary: "They talked about bread.", turns: [] });
      put(webhook(t), { url: "https://hooks.example.test/T0/B0/token", events: ["*"], enabled: true });
      put(`${webhook(t)}/secret/current`, { current: "whsec_c2VjcmV0", previous: null });
      put(`${webhook(t)}/deliveries/${ids.event}`, { eventId: ids.event, status: "delivered", attempts: [] });
      put(`tenants/${t}/campaignReach/${ids.personId}`, { campaignId: ids.campaign, botId: "bot", at: new Date() });
      put(`tenants/${t}/events/${ids.event}`, { type: "message.received", body: "{}", endpointIds: [ids.webhook] });
    }
    put(`stripeEvents/${ids.stripeEvent}`, { type: "invoice.paid" });
    put(`runners/${ids.runner}`, { host: "runner-host", bots: 1 });
    put(`tenantDeletions/${tenantA}`, { phase: "await_logouts", requestedBy: "user:owner" });
    await batch.commit();
  });

  for (const principal of principals) {
    const context = principal.uid ? testEnv.authenticatedContext(principal.uid) : testEnv.unauthenticatedContext();
    dbs.set(principal, context.firestore());
  }
});

afterAll(async () => {
  await testEnv?.clearFirestore();
  await testEnv?.cleanup();
});

const scopes: { label: string; tenantId: string | null; targets: Target[] }[] = [
  { label: "tenant A", tenantId: tenantA, targets: tenantTargets },
  { label: "tenant B", tenantId: tenantB, targets: tenantTargets },
  { label: "top level", tenantId: null, targets: globalTargets },
];

describe("firestore.rules", () => {
  for (const scope of scopes) {
    describe(scope.label, () => {
      for (const target of scope.targets) {
        describe(target.name, () => {
          for (const operation of operations) {
            for (const principal of principals) {
              const allowed = operation.allowed(target, principal, scope.tenantId);
              if (allowed === undefined) continue;
              it(`${principal.name}: ${operation.name} is ${allowed ? "allowed" : "denied"}`, async () => {
                const request = operation.run(dbOf(principal), target, principal, scope.tenantId ?? "");
                await (allowed ? assertSucceeds(request) : assertFails(request));
              });
            }
          }
        });
      }
    });
  }
});
