import {
  type DocumentData,
  DocumentReference,
  FieldPath,
  GeoPoint,
  type Query,
  type QueryDocumentSnapshot,
  Timestamp,
} from "firebase-admin/firestore";
import { tenantNotFound } from "../access/access-service.ts";
import { auditCollection } from "../audit/audit-log.ts";
import type { BotDoc } from "../bots/schema.ts";
import { TenantClosingError } from "../errors/domain-error.ts";
import {
  botPath,
  chatsCollectionPath,
  collections,
  deadLettersCollectionPath,
  tenantPath,
} from "../firestore/paths.ts";
import type { Refs } from "../firestore/refs.ts";
import { toIso, toIsoOrNull } from "../firestore/timestamps.ts";
import type { MediaStore } from "../media/media-store.ts";
import { webhookRefs } from "../webhooks/webhook-refs.ts";
import { TENANT_EXPORT_FORMAT, type TenantExportDocument } from "./export-schema.ts";

type Item<K extends keyof TenantExportDocument> = TenantExportDocument[K] extends Array<infer T> ? T : never;

/** A bot's collections that hold what its WhatsApp users told it (auth, linking, lease, outbox never). */
const botCollections = ["contacts", "groups", "bans", "aiMemory"] as const;

/**
 * The JSON export of everything a tenant owns (tenantExportSchema), produced a page at a time: every
 * collection is read in pages of `pageSize` documents and written out as it is read, so an export of
 * any size holds one page in memory. Not a point-in-time snapshot: a change made while it runs may
 * or may not be in it.
 */
export class TenantExport {
  readonly #refs: Refs;
  readonly #media: MediaStore;
  readonly #pageSize: number;

  constructor(refs: Refs, media: MediaStore, options: { pageSize?: number } = {}) {
    this.#refs = refs;
    this.#media = media;
    this.#pageSize = options.pageSize ?? 200;
  }

  /**
   * Checks the tenant before anything is sent (so a refusal is still an ordinary error answer) and
   * returns the document's text, a piece at a time.
   */
  async open(tenantId: string): Promise<AsyncIterable<string>> {
    const tenantRef = this.#refs.tenant(tenantId);
    const [tenant, raw] = await Promise.all([
      tenantRef.get().then((snapshot) => snapshot.data()),
      tenantRef.withConverter(null).get(),
    ]);
    if (!tenant) throw tenantNotFound();
    if (tenant.status === "deleting") {
      throw new TenantClosingError("This tenant's account is being closed: its data can no longer be exported.");
    }
    return this.#document(tenantId, jsonOf(raw.data() ?? {}));
  }

  async *#document(tenantId: string, tenant: Record<string, Json>): AsyncGenerator<string> {
    const { db } = this.#refs;
    const base = tenantPath(tenantId);
    yield `{"format":${JSON.stringify(TENANT_EXPORT_FORMAT)},"exportedAt":${JSON.stringify(new Date().toISOString())}`;
    yield `,"tenant":${JSON.stringify({ ...tenant, id: tenantId })}`;
    yield* array("members", whole(this.#members(tenantId)));
    yield* array("invitations", whole(this.#stored(db.collection(`${base}/invitations`))));
    yield* array("apiKeys", whole(this.#apiKeys(tenantId)));
    yield* array("webhooks", whole(this.#webhooks(tenantId)));
    yield* array("bots", this.#bots(tenantId));
    yield* array("contacts", whole(this.#stored(db.collection(`${base}/${collections.contacts}`))));
    // The import reports, not what an undo would restore (the contacts themselves are above).
    yield* array("contactImports", whole(this.#stored(db.collection(`${base}/${collections.contactImports}`))));
    yield* array("templates", whole(this.#stored(db.collection(`${base}/${collections.templates}`))));
    yield* array("campaigns", whole(this.#stored(db.collection(`${base}/${collections.campaigns}`))));
    yield* array("campaignRecipients", whole(this.#campaignRecipients(tenantId)));
    yield* array("usage", whole(this.#stored(db.collection(`${base}/${collections.usage}`))));
    yield* array("audit", whole(this.#stored(auditCollection(db, tenantId).withConverter(null))));
    yield* array("deadLetters", whole(this.#stored(db.collection(deadLettersCollectionPath(tenantId)))));
    yield* array("media", whole(this.#media.tenantObjects(tenantId, this.#pageSize)));
    yield "}";
  }

  async *#pages<T>(query: Query<T>): AsyncGenerator<QueryDocumentSnapshot<T>> {
    let after: QueryDocumentSnapshot<T> | undefined;
    for (;;) {
      let page = query.orderBy(FieldPath.documentId()).limit(this.#pageSize);
      if (after) page = page.startAfter(after);
      const snapshot = await page.get();
      yield* snapshot.docs;
      if (snapshot.size < this.#pageSize) return;
      after = snapshot.docs[snapshot.size - 1];
    }
  }

  async *#stored(query: Query<DocumentData>): AsyncGenerator<Record<string, Json>> {
    for await (const doc of this.#pages(query)) yield { ...jsonOf(doc.data()), id: doc.id };
  }

  async *#campaignRecipients(tenantId: string): AsyncGenerator<Record<string, Json>> {
    const { db } = this.#refs;
    for await (const campaign of this.#pages(db.collection(`${tenantPath(tenantId)}/${collections.campaigns}`))) {
      for await (const recipient of this.#stored(campaign.ref.collection(collections.recipients))) {
        yield { ...recipient, campaignId: campaign.id };
      }
    }
  }

  async *#members(tenantId: string): AsyncGenerator<Item<"members">> {
    for await (const doc of this.#pages(this.#refs.members(tenantId))) {
      const member = doc.data();
      yield { uid: member.uid, email: member.email, role: member.role, createdAt: toIso(member.createdAt) };
    }
  }

  /** Metadata only: the hash of a key's secret never leaves the database. */
  async *#apiKeys(tenantId: string): AsyncGenerator<Item<"apiKeys">> {
    for await (const doc of this.#pages(this.#refs.apiKeys(tenantId))) {
      const key = doc.data();
      yield {
        id: doc.id,
        name: key.name,
        prefix: key.prefix,
        scopes: key.scopes,
        createdBy: key.createdBy,
        createdAt: toIso(key.createdAt),
        lastUsedAt: toIsoOrNull(key.lastUsedAt),
        revokedAt: toIsoOrNull(key.revokedAt),
      };
    }
  }

  /** The endpoints; their signing secrets live in a subcollection that is never read here. */
  async *#webhooks(tenantId: string): AsyncGenerator<Item<"webhooks">> {
    for await (const doc of this.#pages(webhookRefs(this.#refs.db).endpoints(tenantId))) {
      const endpoint = doc.data();
      yield {
        id: doc.id,
        url: endpoint.url,
        events: [...endpoint.events],
        description: endpoint.description,
        enabled: endpoint.enabled,
        createdAt: toIso(endpoint.createdAt),
      };
    }
  }

  /**
   * Each bot with what it keeps, written in pieces: its person store or message store can be
   * large, so those are read in pages and written as they are read. Its auth state (credentials,
   * Signal keys), linking codes, lease and outbox are never read.
   */
  async *#bots(tenantId: string): AsyncGenerator<AsyncIterable<string>> {
    for await (const doc of this.#pages(this.#refs.bots(tenantId))) {
      yield this.#bot(tenantId, doc.id, doc.data());
    }
  }

  async *#bot(tenantId: string, botId: string, bot: BotDoc): AsyncGenerator<string> {
    const { db } = this.#refs;
    const head: Omit<Item<"bots">, (typeof botCollections)[number] | "chats"> = {
      id: botId,
      name: bot.name,
      transport: bot.transport,
      phoneNumber: bot.phoneNumber,
      desiredState: bot.desiredState,
      status: { state: bot.status.state, reason: bot.status.reason, updatedAt: toIso(bot.status.updatedAt) },
      settings: jsonOf(bot.settings),
      keepOnDowngrade: bot.keepOnDowngrade,
      createdBy: bot.createdBy,
      createdAt: toIso(bot.createdAt),
      updatedAt: toIso(bot.updatedAt),
    };
    const text = JSON.stringify(head);
    yield text.slice(0, -1);
    for (const name of botCollections) {
      yield* array(name, whole(this.#stored(db.collection(`${botPath(tenantId, botId)}/${name}`))));
    }
    yield* array("chats", this.#chats(tenantId, botId));
    yield "}";
  }

  async *#chats(tenantId: string, botId: string): AsyncGenerator<AsyncIterable<string>> {
    const { db } = this.#refs;
    for await (const chat of this.#pages(db.collection(chatsCollectionPath(tenantId, botId)))) {
      yield (async function* (stored: (query: Query<DocumentData>) => AsyncIterable<Record<string, Json>>) {
        yield `{"id":${JSON.stringify(chat.id)},"chat":${JSON.stringify(jsonOf(chat.data()))}`;
        yield* array("messages", whole(stored(chat.ref.collection(collections.messages))));
        yield "}";
      })((query) => this.#stored(query));
    }
  }
}

/** Each item written whole, as one piece of text. */
async function* whole(items: AsyncIterable<unknown>): AsyncGenerator<AsyncIterable<string>> {
  for await (const item of items) yield once(JSON.stringify(item));
}

async function* once(text: string): AsyncGenerator<string> {
  yield text;
}

/** `,"key":[…]`, each item's text as it comes; the caller opened the enclosing object. */
async function* array(key: string, items: AsyncIterable<AsyncIterable<string>>): AsyncGenerator<string> {
  yield `,${JSON.stringify(key)}:[`;
  let first = true;
  for await (const item of items) {
    if (!first) yield ",";
    first = false;
    yield* item;
  }
  yield "]";
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** A stored value as JSON: timestamps as ISO strings, references as paths, bytes as base64. */
export function jsonOf(data: DocumentData): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [key, value] of Object.entries(data)) out[key] = jsonValue(value);
  return out;
}

function jsonValue(value: unknown): Json {
  if (value instanceof Timestamp) return toIso(value);
  if (value instanceof DocumentReference) return value.path;
  if (value instanceof GeoPoint) return { latitude: value.latitude, longitude: value.longitude };
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  if (Array.isArray(value)) return value.map(jsonValue);
  if (value !== null && typeof value === "object") return jsonOf(value);
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  return null;
}
