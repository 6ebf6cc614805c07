import type { CollectionReference, DocumentReference, Firestore, Query } from "firebase-admin/firestore";
import { type ApiKeyDoc, apiKeyDocSchema } from "../api-keys/schema.ts";
import { type BotDoc, botDocSchema } from "../bots/schema.ts";
import { type MemberDoc, memberDocSchema } from "../members/schema.ts";
import { type OutboxItem, outboxItemSchema } from "../outbox/schema.ts";
import { type TenantDoc, tenantDocSchema } from "../tenants/schema.ts";
import { zodConverter } from "./converter.ts";
import { apiKeyPath, botPath, collections, memberPath, outboxItemPath, tenantPath } from "./paths.ts";

const converters = {
  tenant: zodConverter(tenantDocSchema),
  member: zodConverter(memberDocSchema),
  apiKey: zodConverter(apiKeyDocSchema),
  bot: zodConverter(botDocSchema),
  outbox: zodConverter(outboxItemSchema),
};

/** Typed, validated references to every document the services touch. */
export interface Refs {
  db: Firestore;
  tenants(): CollectionReference<TenantDoc>;
  tenant(tenantId: string): DocumentReference<TenantDoc>;
  members(tenantId: string): CollectionReference<MemberDoc>;
  member(tenantId: string, uid: string): DocumentReference<MemberDoc>;
  /** Every membership of one user, across tenants. */
  memberships(uid: string): Query<MemberDoc>;
  apiKeys(tenantId: string): CollectionReference<ApiKeyDoc>;
  apiKey(tenantId: string, keyId: string): DocumentReference<ApiKeyDoc>;
  bots(tenantId: string): CollectionReference<BotDoc>;
  bot(tenantId: string, botId: string): DocumentReference<BotDoc>;
  outbox(tenantId: string, botId: string): CollectionReference<OutboxItem>;
  outboxItem(tenantId: string, botId: string, itemId: string): DocumentReference<OutboxItem>;
}

export function createRefs(db: Firestore): Refs {
  return {
    db,
    tenants: () => db.collection(collections.tenants).withConverter(converters.tenant),
    tenant: (t) => db.doc(tenantPath(t)).withConverter(converters.tenant),
    members: (t) => db.collection(`${tenantPath(t)}/${collections.members}`).withConverter(converters.member),
    member: (t, uid) => db.doc(memberPath(t, uid)).withConverter(converters.member),
    memberships: (uid) =>
      db.collectionGroup(collections.members).where("uid", "==", uid).withConverter(converters.member),
    apiKeys: (t) => db.collection(`${tenantPath(t)}/${collections.apiKeys}`).withConverter(converters.apiKey),
    apiKey: (t, k) => db.doc(apiKeyPath(t, k)).withConverter(converters.apiKey),
    bots: (t) => db.collection(`${tenantPath(t)}/${collections.bots}`).withConverter(converters.bot),
    bot: (t, b) => db.doc(botPath(t, b)).withConverter(converters.bot),
    outbox: (t, b) => db.collection(`${botPath(t, b)}/${collections.outbox}`).withConverter(converters.outbox),
    outboxItem: (t, b, i) => db.doc(outboxItemPath(t, b, i)).withConverter(converters.outbox),
  };
}
