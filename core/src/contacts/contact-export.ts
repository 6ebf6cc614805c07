import type { DocumentSnapshot, Firestore, Query } from "firebase-admin/firestore";
import { FieldPath } from "firebase-admin/firestore";
import { tenantNotFound } from "../access/access-service.ts";
import { tenantPath } from "../firestore/paths.ts";
import { type ContactRefs, contactRefs } from "./contact-refs.ts";
import { csvLine } from "./csv.ts";
import { lidOfJid, phoneOfJid } from "./identity.ts";
import type { ContactDoc } from "./schema.ts";

/** The export's columns before the custom fields, and after: what the import reads back. */
const leading = ["phone", "lid", "name", "tags"] as const;
const trailing = ["opted_out", "opted_out_at"] as const;

/**
 * A tenant's contacts (all, or one tag's) as CSV in the import's columns, plus whether and when
 * each opted out. Read a page at a time, twice: first only the custom fields' names (the header
 * needs them), then the contacts, so memory holds one page whatever the number of contacts.
 */
export class ContactExport {
  readonly #db: Firestore;
  readonly #refs: ContactRefs;
  readonly #pageSize: number;

  constructor(db: Firestore, options: { pageSize?: number } = {}) {
    this.#db = db;
    this.#refs = contactRefs(db);
    this.#pageSize = options.pageSize ?? 500;
  }

  /** Checks the tenant before anything is sent (a refusal is still an ordinary answer). */
  async open(tenantId: string, filter: { tag?: string | undefined } = {}): Promise<AsyncIterable<string>> {
    if (!(await this.#db.doc(tenantPath(tenantId)).get()).exists) throw tenantNotFound();
    let query: Query<ContactDoc> = this.#refs.contacts(tenantId);
    if (filter.tag) query = query.where("tags", "array-contains", filter.tag);
    return this.#csv(query);
  }

  async *#csv(query: Query<ContactDoc>): AsyncGenerator<string> {
    const names = new Set<string>();
    for await (const doc of this.#pages(query.withConverter(null).select("fields"))) {
      const fields: unknown = doc.get("fields");
      if (fields && typeof fields === "object") for (const name of Object.keys(fields)) names.add(name);
    }
    const fieldNames = [...names].sort();
    yield csvLine([...leading, ...fieldNames, ...trailing]);
    for await (const doc of this.#pages(query)) {
      const contact = doc.data();
      if (!contact) continue;
      yield csvLine([
        phoneOfJid(contact.pn) ?? "",
        lidOfJid(contact.lid) ?? "",
        contact.name ?? "",
        contact.tags.join(";"),
        ...fieldNames.map((name) => contact.fields[name] ?? ""),
        contact.optOut ? "yes" : "no",
        contact.optOut ? contact.optOut.at.toDate().toISOString() : "",
      ]);
    }
  }

  async *#pages<T>(query: Query<T>): AsyncGenerator<DocumentSnapshot<T>> {
    let after: DocumentSnapshot<T> | undefined;
    for (;;) {
      let page = query.orderBy(FieldPath.documentId()).limit(this.#pageSize);
      if (after) page = page.startAfter(after);
      const snapshot = await page.get();
      yield* snapshot.docs;
      if (snapshot.size < this.#pageSize) return;
      after = snapshot.docs[snapshot.size - 1];
    }
  }
}
