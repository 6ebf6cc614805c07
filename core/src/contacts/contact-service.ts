import type { Firestore, Query } from "firebase-admin/firestore";
import { FieldPath, Timestamp } from "firebase-admin/firestore";
import { z } from "zod";
import { tenantNotFound } from "../access/access-service.ts";
import { type AuditContext, AuditLog, systemAuditContext } from "../audit/audit-log.ts";
import { ConflictError, NotFoundError, ValidationError } from "../errors/domain-error.ts";
import type { Page } from "../firestore/pagination.ts";
import { tenantPath } from "../firestore/paths.ts";
import { type ContactRefs, contactRefs } from "./contact-refs.ts";
import { identityOf, lidDigits, lidJid, phoneDigits, pnJid } from "./identity.ts";
import { MAX_FIELDS, MAX_TAGS, mergeContacts, mergeFacts, sameContent } from "./merge.ts";
import { type ContactDoc, type PersonId, personIdSchema } from "./schema.ts";

export interface ContactInput {
  /** Either: a phone number with its country code (any punctuation), or a LID (digits). */
  phone?: string | undefined;
  lid?: string | undefined;
  name?: string | null | undefined;
  tags?: readonly string[] | undefined;
  fields?: Readonly<Record<string, string>> | undefined;
}

export interface ContactPatch {
  name?: string | null | undefined;
  /** Replaces the tags. */
  tags?: readonly string[] | undefined;
  /** Replaces the custom fields. */
  fields?: Readonly<Record<string, string>> | undefined;
}

export interface ContactListRequest {
  limit: number;
  cursor?: string | undefined;
  tag?: string | undefined;
  /** true: only opted-out contacts; false: only those a campaign may address; absent: all. */
  optedOut?: boolean | undefined;
}

export interface ContactServiceOptions {
  audit?: AuditLog;
  now?: () => number;
}

export type ContactEntry = { id: PersonId; data: ContactDoc };

const target = (personId: string) => `contact:${personId}`;
const cursorSchema = z.object({ id: personIdSchema });

function invalidCursor(): ValidationError {
  return new ValidationError("The cursor is not one this API issued.", [
    { path: "query.cursor", message: "not a cursor from a previous page" },
  ]);
}

export function contactNotFound(): NotFoundError {
  return new NotFoundError("No such contact.");
}

/**
 * A tenant's contacts (`tenants/{t}/contacts/{personId}`), shared by its bots: LID first, a phone
 * number until the LID is known (then `linkIdentity` folds one into the other). Every write is one
 * transaction with its audit entry.
 */
export class ContactService {
  readonly #db: Firestore;
  readonly #refs: ContactRefs;
  readonly #audit: AuditLog;
  readonly #now: () => number;

  constructor(db: Firestore, options: ContactServiceOptions = {}) {
    this.#db = db;
    this.#refs = contactRefs(db);
    this.#audit = options.audit ?? new AuditLog(db);
    this.#now = options.now ?? Date.now;
  }

  async get(tenantId: string, personId: PersonId): Promise<ContactDoc> {
    const contact = (await this.#refs.contact(tenantId, personId).get()).data();
    if (!contact) throw contactNotFound();
    return contact;
  }

  /**
   * In person-id order (stable under inserts), optionally one tag's and opted-out or not. The
   * opt-out filter is an equality (`optOut == null`, or `optOut.via in […]`), so it combines with
   * the tag and the id order (composite indexes in firestore.indexes.json).
   */
  async list(tenantId: string, request: ContactListRequest): Promise<Page<ContactEntry>> {
    let query: Query<ContactDoc> = this.#refs.contacts(tenantId);
    if (request.tag) query = query.where("tags", "array-contains", request.tag);
    if (request.optedOut === false) query = query.where("optOut", "==", null);
    if (request.optedOut === true) query = query.where("optOut.via", "in", ["whatsapp", "api", "import"]);
    query = query.orderBy(FieldPath.documentId());
    if (request.cursor) query = query.startAfter(decodeCursor(request.cursor));
    const snapshot = await query.limit(request.limit + 1).get();
    const docs = snapshot.docs.slice(0, request.limit);
    const last = docs[docs.length - 1];
    return {
      items: docs.map((doc) => ({ id: personIdSchema.parse(doc.id), data: doc.data() })),
      nextCursor: snapshot.size > request.limit && last ? encodeCursor(last.id) : null,
    };
  }

  /**
   * Creates the contact, or adds to the one that exists (tags added, name and fields replaced when
   * given). By phone, a contact already known by its LID with that number is the one updated.
   */
  async upsert(
    tenantId: string,
    input: ContactInput,
    context: AuditContext,
  ): Promise<{ personId: PersonId; contact: ContactDoc; created: boolean }> {
    const lid = input.lid === undefined ? null : lidDigits(input.lid);
    const phone = input.phone === undefined ? null : phoneDigits(input.phone);
    const issues = [];
    if (input.lid !== undefined && !lid) issues.push({ path: "body.lid", message: "must be a LID's digits" });
    if (input.phone !== undefined && !phone) {
      issues.push({ path: "body.phone", message: "must be a phone number with its country code (8-15 digits)" });
    }
    if (!lid && !phone && issues.length === 0) issues.push({ path: "body.phone", message: "give a phone or a lid" });
    if (issues.length > 0) throw new ValidationError(`Invalid contact: ${issues[0]?.message}`, issues);
    const identity = identityOf(lid, phone);
    const tenantRef = this.#db.doc(tenantPath(tenantId));
    return this.#db.runTransaction(async (tx) => {
      const tenant = await tx.get(tenantRef);
      if (!tenant.exists) throw tenantNotFound();
      let personId = identity.personId;
      let existing = (await tx.get(this.#refs.contact(tenantId, personId))).data() ?? null;
      if (!existing && !lid && identity.pn) {
        const known = await tx.get(this.#refs.contacts(tenantId).where("pn", "==", identity.pn).limit(1));
        const found = known.docs[0];
        if (found) {
          personId = personIdSchema.parse(found.id);
          existing = found.data();
        }
      }
      // Given both forms, a contact still known only by phone is folded in (as linkIdentity does).
      const twinRef = lid && phone ? this.#refs.contact(tenantId, `pn:${phone}`) : null;
      const twin = twinRef ? (await tx.get(twinRef)).data() : undefined;
      const now = Timestamp.fromMillis(this.#now());
      const base = twin ? (existing ? mergeContacts(existing, twin, now) : { ...twin, lid: identity.lid }) : existing;
      const result = mergeFacts(
        base,
        {
          lid: identity.lid,
          pn: identity.pn,
          name: input.name ?? null,
          tags: input.tags ?? [],
          fields: input.fields ?? {},
          optOut: false,
        },
        { overwrite: true, extraTags: [], importId: null, now },
      );
      if (result.kind === "refused") {
        throw new ValidationError(`Invalid contact: ${result.reason}`, [
          { path: `body.${result.column ?? "fields"}`, message: result.reason },
        ]);
      }
      if (result.kind === "unchanged" && existing && !twin) return { personId, contact: existing, created: false };
      const merged = result.kind === "write" ? result.contact : base;
      if (!merged) throw new Error("unreachable: an unchanged contact exists");
      // An explicit null clears the name (mergeFacts only fills it).
      const contact = { ...merged, ...(input.name === null ? { name: null } : {}), updatedAt: now };
      tx.set(this.#refs.contact(tenantId, personId), contact);
      if (twinRef && twin) {
        tx.delete(twinRef);
        this.#audit.record(tx, tenantId, context, {
          action: "contact.deleted",
          target: target(`pn:${phone}`),
          before: twin,
        });
      }
      this.#audit.record(tx, tenantId, context, {
        action: existing ? "contact.updated" : "contact.created",
        target: target(personId),
        before: existing,
        after: contact,
      });
      return { personId, contact, created: !existing };
    });
  }

  /** Replaces what is given: the name, the whole tag list, the whole set of custom fields. */
  patch(tenantId: string, personId: PersonId, patch: ContactPatch, context: AuditContext): Promise<ContactDoc> {
    if (patch.tags && new Set(patch.tags).size > MAX_TAGS) {
      throw new ValidationError(`At most ${MAX_TAGS} tags.`, [{ path: "body.tags", message: `at most ${MAX_TAGS}` }]);
    }
    if (patch.fields && Object.keys(patch.fields).length > MAX_FIELDS) {
      throw new ValidationError(`At most ${MAX_FIELDS} custom fields.`, [
        { path: "body.fields", message: `at most ${MAX_FIELDS}` },
      ]);
    }
    return this.#change(tenantId, personId, context, "contact.updated", (before) => ({
      ...before,
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.tags !== undefined ? { tags: [...new Set(patch.tags)] } : {}),
      ...(patch.fields !== undefined ? { fields: { ...patch.fields } } : {}),
    }));
  }

  async delete(tenantId: string, personId: PersonId, context: AuditContext): Promise<void> {
    const ref = this.#refs.contact(tenantId, personId);
    await this.#db.runTransaction(async (tx) => {
      const before = (await tx.get(ref)).data();
      if (!before) throw contactNotFound();
      tx.delete(ref);
      this.#audit.record(tx, tenantId, context, { action: "contact.deleted", target: target(personId), before });
    });
  }

  /** The owner's decision: no campaign reaches the contact until they are opted back in. Idempotent. */
  optOut(tenantId: string, personId: PersonId, reason: string | null, context: AuditContext): Promise<ContactDoc> {
    return this.#change(tenantId, personId, context, "contact.opted_out", (before, now) =>
      before.optOut ? before : { ...before, optOut: { at: now, via: "api", botId: null, reason } },
    );
  }

  /**
   * Lifts an opt-out the owner or an import made. One the person sent on WhatsApp (STOP) is theirs:
   * only their START lifts it, so the API refuses (409).
   */
  optIn(tenantId: string, personId: PersonId, context: AuditContext): Promise<ContactDoc> {
    return this.#change(tenantId, personId, context, "contact.opted_in", (before) => {
      if (before.optOut?.via === "whatsapp") {
        throw new ConflictError(
          "This person opted out themselves on WhatsApp: only their own START subscribes them again.",
        );
      }
      return before.optOut ? { ...before, optOut: null } : before;
    });
  }

  /**
   * The runner learnt that a phone number and a LID are one person (Baileys' LID mapping): the
   * `pn:` contact, if any, is folded into the `lid:` one (created from it if needed) and deleted, in
   * one transaction, so campaigns never count the person twice. Idempotent; nothing is created when
   * the tenant has no contact for either. `name` (their WhatsApp push name) fills a missing name.
   */
  async linkIdentity(
    tenantId: string,
    identity: { lid: string; pn: string; name?: string | null },
    context: AuditContext = systemAuditContext,
  ): Promise<{ personId: PersonId; merged: boolean } | null> {
    const lid = lidDigits(identity.lid);
    const phone = phoneDigits(identity.pn);
    if (!lid || !phone) throw new ValidationError("Not a LID and a phone number.", [{ path: "", message: "invalid" }]);
    const lidId: PersonId = `lid:${lid}`;
    const pnId: PersonId = `pn:${phone}`;
    const lidRef = this.#refs.contact(tenantId, lidId);
    const pnRef = this.#refs.contact(tenantId, pnId);
    return this.#db.runTransaction(async (tx) => {
      const [lidSnap, pnSnap] = await tx.getAll(lidRef, pnRef);
      const lidContact = lidSnap?.data();
      const pnContact = pnSnap?.data();
      const now = Timestamp.fromMillis(this.#now());
      let after: ContactDoc;
      if (lidContact && pnContact) after = mergeContacts(lidContact, pnContact, now);
      else if (lidContact) after = lidContact;
      else if (pnContact) after = pnContact;
      else return null;
      after = { ...after, lid: lidJid(lid), pn: after.pn ?? pnJid(phone), name: after.name ?? identity.name ?? null };
      const changed = !lidContact || pnContact !== undefined || !sameContent(after, lidContact);
      if (!changed) return { personId: lidId, merged: false };
      after = { ...after, updatedAt: now };
      tx.set(lidRef, after);
      if (pnContact) {
        tx.delete(pnRef);
        this.#audit.record(tx, tenantId, context, {
          action: "contact.deleted",
          target: target(pnId),
          before: pnContact,
        });
      }
      this.#audit.record(tx, tenantId, context, {
        action: lidContact ? "contact.updated" : "contact.created",
        target: target(lidId),
        before: lidContact ?? null,
        after,
      });
      return { personId: lidId, merged: pnContact !== undefined };
    });
  }

  async #change(
    tenantId: string,
    personId: PersonId,
    context: AuditContext,
    action: "contact.updated" | "contact.opted_out" | "contact.opted_in",
    apply: (before: ContactDoc, now: Timestamp) => ContactDoc,
  ): Promise<ContactDoc> {
    const ref = this.#refs.contact(tenantId, personId);
    return this.#db.runTransaction(async (tx) => {
      const before = (await tx.get(ref)).data();
      if (!before) throw contactNotFound();
      const now = Timestamp.fromMillis(this.#now());
      const changed = apply(before, now);
      if (changed === before) return before;
      const after = { ...changed, updatedAt: now };
      tx.set(ref, after);
      this.#audit.record(tx, tenantId, context, { action, target: target(personId), before, after });
      return after;
    });
  }
}

function encodeCursor(id: string): string {
  return Buffer.from(JSON.stringify({ id }), "utf8").toString("base64url");
}

function decodeCursor(cursor: string): string {
  try {
    return cursorSchema.parse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"))).id;
  } catch {
    throw invalidCursor();
  }
}
