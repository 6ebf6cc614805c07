import type { Readable } from "node:stream";
import { type CsvError, parse } from "csv-parse";
import type { BulkWriter, DocumentSnapshot, Firestore, QuerySnapshot } from "firebase-admin/firestore";
import { FieldPath, Timestamp } from "firebase-admin/firestore";
import { tenantNotFound } from "../access/access-service.ts";
import { type AuditContext, AuditLog } from "../audit/audit-log.ts";
import { ConflictError, NotFoundError, PayloadTooLargeError, ValidationError } from "../errors/domain-error.ts";
import { type Page, type PageRequest, paginate } from "../firestore/pagination.ts";
import { tenantPath } from "../firestore/paths.ts";
import { type ContactRefs, contactRefs } from "./contact-refs.ts";
import type { ContactIdentity } from "./identity.ts";
import { type Columns, readHeader, readRow } from "./import-rows.ts";
import {
  type ContactImportDoc,
  type ContactImportOptions,
  type ImportChangeDoc,
  type ImportCounts,
  MAX_REPORTED_REJECTIONS,
  type RejectedRow,
} from "./import-schema.ts";
import { type ContactFacts, fingerprint, mergeFacts } from "./merge.ts";
import { type ContactDoc, contactDocSchema } from "./schema.ts";

/** Rows per import; a larger list is split into several files. */
export const MAX_IMPORT_ROWS = 100_000;
/** A `running` import or undo not heard from for this long is one whose process died. */
export const STALE_IMPORT_MS = 10 * 60_000;

export interface ContactImporterOptions {
  audit?: AuditLog;
  now?: () => number;
  maxRows?: number;
  /** Rows read, checked and written together (one BulkWriter flush each). */
  chunkSize?: number;
}

interface ValidRow {
  line: number;
  identity: ContactIdentity;
  facts: ContactFacts;
}

interface PlannedWrite {
  row: ValidRow;
  personId: string;
  before: StoredContact | null;
  contact: ContactDoc;
}

/** A contact as read, with the version a write is conditional on. */
interface StoredContact {
  id: string;
  contact: ContactDoc;
  updateTime: Timestamp;
}

interface RunState {
  importId: string;
  tenantId: string;
  options: ContactImportOptions;
  counts: ImportCounts;
  rejected: RejectedRow[];
  /**
   * Whether the tenant had a contact known by LID when the import began: only then can a row by
   * phone be someone already known by LID (a query per chunk, skipped for tenants without any). A
   * LID linked while the import runs may leave a `pn:` twin, which the next linkIdentity folds in.
   */
  hasLidContacts: boolean;
  /** Which line named each contact so far: a second row for one contact is a duplicate. */
  seen: Map<string, number>;
}

const importTarget = (importId: string) => `import:${importId}`;
/** Firestore's ALREADY_EXISTS and FAILED_PRECONDITION: someone else wrote the contact meanwhile. */
const isRace = (error: unknown) =>
  typeof error === "object" && error !== null && "code" in error && (error.code === 6 || error.code === 9);

export function importNotFound(): NotFoundError {
  return new NotFoundError("No such contact import.");
}

/**
 * CSV imports of a tenant's contacts, streamed: the file is parsed as it arrives, checked a row at
 * a time, and written a chunk at a time with a BulkWriter, so memory holds one chunk (plus the set of
 * contacts already named, to spot duplicates) whatever the file's size. Before a contact is written,
 * what it was is kept under the import (`changes`), which is what `undo` restores.
 */
export class ContactImporter {
  readonly #db: Firestore;
  readonly #refs: ContactRefs;
  readonly #audit: AuditLog;
  readonly #now: () => number;
  readonly #maxRows: number;
  readonly #chunkSize: number;

  constructor(db: Firestore, options: ContactImporterOptions = {}) {
    this.#db = db;
    this.#refs = contactRefs(db);
    this.#audit = options.audit ?? new AuditLog(db);
    this.#now = options.now ?? Date.now;
    this.#maxRows = options.maxRows ?? MAX_IMPORT_ROWS;
    this.#chunkSize = options.chunkSize ?? 400;
  }

  get(tenantId: string, importId: string): Promise<ContactImportDoc> {
    return this.#refs
      .contactImport(tenantId, importId)
      .get()
      .then((snapshot) => {
        const found = snapshot.data();
        if (!found) throw importNotFound();
        return found;
      });
  }

  list(tenantId: string, page: PageRequest): Promise<Page<{ id: string; path: string; data: ContactImportDoc }>> {
    return paginate(this.#refs.imports(tenantId), page);
  }

  /**
   * Imports a CSV read from `source`. A header that cannot be used, or a file that is not CSV from
   * its first line, refuses the whole file (nothing written). After that each row stands alone:
   * the refused ones are reported with their line and why. A limit reached or a file that stops
   * being readable halfway ends the import as `failed` (what was written stays, and can be undone).
   */
  async run(
    tenantId: string,
    source: Readable,
    request: { options: ContactImportOptions; fileName: string | null; createdBy: string; context: AuditContext },
  ): Promise<{ id: string; report: ContactImportDoc }> {
    const parser = parse({
      bom: true,
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      max_record_size: 64 * 1024,
    });
    source.on("error", (error) => parser.destroy(error));
    source.pipe(parser);
    try {
      return await this.#run(tenantId, parser[Symbol.asyncIterator](), request);
    } finally {
      // Stopped early (a refused header, a limit): the parser lets go, so the rest can be read away.
      if (!parser.writableFinished) {
        source.unpipe(parser);
        parser.destroy();
      }
    }
  }

  async #run(
    tenantId: string,
    records: AsyncIterator<{ record: string[]; info: { lines: number } }>,
    request: { options: ContactImportOptions; fileName: string | null; createdBy: string; context: AuditContext },
  ): Promise<{ id: string; report: ContactImportDoc }> {
    let header: IteratorResult<{ record: string[] }>;
    try {
      header = await records.next();
    } catch (error) {
      throw unreadable(error);
    }
    if (header.done) {
      throw new ValidationError("The file is empty: send a CSV with a header line.", [
        { path: "body.file", message: "is empty" },
      ]);
    }
    const columns = readHeader(header.value.record);

    const ref = this.#refs.imports(tenantId).doc();
    const now = Timestamp.fromMillis(this.#now());
    const report: ContactImportDoc = {
      status: "running",
      fileName: request.fileName,
      options: request.options,
      createdBy: request.createdBy,
      counts: { rows: 0, created: 0, updated: 0, unchanged: 0, rejected: 0 },
      rejected: [],
      error: null,
      undo: null,
      createdAt: now,
      updatedAt: now,
      finishedAt: null,
    };
    const tenantRef = this.#db.doc(tenantPath(tenantId));
    await this.#db.runTransaction(async (tx) => {
      if (!(await tx.get(tenantRef)).exists) throw tenantNotFound();
      tx.create(ref, report);
    });

    const state: RunState = {
      importId: ref.id,
      tenantId,
      options: request.options,
      counts: report.counts,
      rejected: report.rejected,
      seen: new Map(),
      hasLidContacts: !(await this.#refs.contacts(tenantId).where("lid", "!=", null).limit(1).select().get()).empty,
    };
    let failure: Error | null = null;
    try {
      await this.#readRows(records, columns, state);
    } catch (error) {
      failure = stoppedBy(error, ref.id);
      report.error = failure.message;
    }
    const finished: ContactImportDoc = {
      ...report,
      status: failure ? "failed" : "completed",
      updatedAt: Timestamp.fromMillis(this.#now()),
      finishedAt: Timestamp.fromMillis(this.#now()),
    };
    await this.#db.runTransaction(async (tx) => {
      tx.set(ref, finished);
      this.#audit.record(tx, tenantId, request.context, {
        action: "contacts.imported",
        target: importTarget(ref.id),
        before: null,
        after: { status: finished.status, fileName: finished.fileName, counts: finished.counts, error: finished.error },
      });
    });
    if (failure) throw failure;
    return { id: ref.id, report: finished };
  }

  async #readRows(
    records: AsyncIterator<{ record: string[]; info: { lines: number } }>,
    columns: Columns,
    state: RunState,
  ): Promise<void> {
    let chunk: ValidRow[] = [];
    let chunks = 0;
    for (;;) {
      let next: IteratorResult<{ record: string[]; info: { lines: number } }>;
      try {
        next = await records.next();
      } catch (error) {
        await this.#writeChunk(chunk, state);
        throw error;
      }
      if (next.done) break;
      const line = next.value.info.lines;
      if (state.counts.rows >= this.#maxRows) {
        await this.#writeChunk(chunk, state);
        await records.return?.();
        throw new PayloadTooLargeError(
          `An import takes at most ${this.#maxRows.toLocaleString("en")} rows: the rows from line ${line} on were not read; split the file.`,
          { details: { limitRows: this.#maxRows, importId: state.importId } },
        );
      }
      state.counts.rows += 1;
      const row = readRow(columns, next.value.record);
      if (!row.ok) {
        reject(state, { line, column: row.column, reason: row.reason });
        continue;
      }
      const earlier = state.seen.get(row.identity.personId);
      if (earlier !== undefined) {
        reject(state, { line, column: null, reason: `the same contact as line ${earlier}` });
        continue;
      }
      state.seen.set(row.identity.personId, line);
      chunk.push({ line, identity: row.identity, facts: row.facts });
      if (chunk.length >= this.#chunkSize) {
        await this.#writeChunk(chunk, state);
        chunk = [];
        chunks += 1;
        // The heartbeat and progress of a long import (a `running` import not heard from is dead).
        if (chunks % 4 === 0) {
          await this.#refs.contactImport(state.tenantId, state.importId).update({
            counts: state.counts,
            updatedAt: Timestamp.fromMillis(this.#now()),
          });
        }
      }
    }
    await this.#writeChunk(chunk, state);
  }

  /** Plans and writes one chunk; rows another writer got to first are planned again (twice at most). */
  async #writeChunk(rows: ValidRow[], state: RunState): Promise<void> {
    let pending = rows;
    for (let attempt = 0; attempt < 3 && pending.length > 0; attempt += 1) {
      const planned = await this.#plan(pending, state, attempt === 0);
      pending = await this.#apply(planned, state);
    }
    for (const row of pending) {
      reject(state, {
        line: row.line,
        column: null,
        reason: "changed by another write during the import; import again",
      });
    }
  }

  async #plan(rows: ValidRow[], state: RunState, firstAttempt: boolean): Promise<PlannedWrite[]> {
    if (rows.length === 0) return [];
    const { tenantId } = state;
    const stored = await this.#read(
      tenantId,
      rows.map((row) => row.identity.personId),
    );
    // A row by phone for someone the tenant knows by LID (with that number) is that contact.
    const byPn = new Map<string, StoredContact>();
    const unknownPns = state.hasLidContacts
      ? rows
          .filter((row, i) => !stored[i] && row.identity.personId.startsWith("pn:") && row.identity.pn)
          .map((row) => row.identity.pn ?? "")
      : [];
    const lookups: Array<Promise<QuerySnapshot<ContactDoc>>> = [];
    for (let i = 0; i < unknownPns.length; i += 30) {
      lookups.push(
        this.#refs
          .contacts(tenantId)
          .where("pn", "in", unknownPns.slice(i, i + 30))
          .get(),
      );
    }
    for (const found of await Promise.all(lookups)) {
      for (const doc of found.docs) {
        const contact = doc.data();
        if (contact.pn && !byPn.has(contact.pn)) {
          byPn.set(contact.pn, { id: doc.id, contact, updateTime: doc.updateTime });
        }
      }
    }
    const now = Timestamp.fromMillis(this.#now());
    const planned: PlannedWrite[] = [];
    for (const [i, row] of rows.entries()) {
      const found = stored[i] ?? (row.identity.pn ? byPn.get(row.identity.pn) : undefined) ?? null;
      const personId = found?.id ?? row.identity.personId;
      if (firstAttempt && personId !== row.identity.personId) {
        const earlier = state.seen.get(personId);
        if (earlier !== undefined && earlier !== row.line) {
          reject(state, { line: row.line, column: null, reason: `the same contact as line ${earlier}` });
          continue;
        }
        state.seen.set(personId, row.line);
      }
      const result = mergeFacts(found?.contact ?? null, row.facts, {
        overwrite: state.options.overwrite,
        extraTags: state.options.tags,
        importId: state.importId,
        now,
      });
      if (result.kind === "refused") reject(state, { line: row.line, column: result.column, reason: result.reason });
      else if (result.kind === "unchanged") state.counts.unchanged += 1;
      else planned.push({ row, personId, before: found, contact: result.contact });
    }
    return planned;
  }

  /** The contacts with these ids, read in one round trip (null where there is none). */
  async #read(tenantId: string, personIds: readonly string[]): Promise<Array<StoredContact | null>> {
    const snapshots = await this.#db.getAll(...personIds.map((id) => this.#refs.contact(tenantId, id)));
    return snapshots.map((snapshot) => {
      const data = snapshot.data();
      if (!data || !snapshot.updateTime) return null;
      const parsed = contactDocSchema.safeParse(data);
      if (!parsed.success) throw new Error(`Malformed document ${snapshot.ref.path}`, { cause: parsed.error });
      return { id: snapshot.id, contact: parsed.data, updateTime: snapshot.updateTime };
    });
  }

  /**
   * Writes what undoing needs first, then the contacts, each with a precondition (created only if
   * still absent, updated only if unchanged since it was read). Returns the rows that lost a race.
   */
  async #apply(planned: PlannedWrite[], state: RunState): Promise<ValidRow[]> {
    if (planned.length === 0) return [];
    const { tenantId, importId } = state;
    const writer = this.#writer();
    const recorded = planned.map(({ row, personId, before, contact }) => {
      const change: ImportChangeDoc = {
        action: before ? "updated" : "created",
        line: row.line,
        before: before?.contact ?? null,
        afterFingerprint: fingerprint(contact),
        undo: null,
        undoReason: null,
      };
      return writer.set(this.#refs.change(tenantId, importId, personId), change);
    });
    await writer.flush();
    await Promise.all(recorded);
    const written = planned.map(({ personId, before, contact }) => {
      const ref = this.#refs.contact(tenantId, personId);
      const outcome = before
        ? writer.update(ref.withConverter(null), { ...contact }, { lastUpdateTime: before.updateTime })
        : writer.create(ref, contact);
      return outcome.then(
        () => null,
        (error: unknown) => error,
      );
    });
    await writer.flush();
    const lost: ValidRow[] = [];
    for (const [i, error] of (await Promise.all(written)).entries()) {
      const write = planned[i];
      if (!write) continue;
      if (error === null) {
        if (write.before) state.counts.updated += 1;
        else state.counts.created += 1;
      } else if (isRace(error)) {
        lost.push(write.row);
        void writer.delete(this.#refs.change(tenantId, importId, write.personId)).catch(() => undefined);
      } else {
        await writer.close().catch(() => undefined);
        throw error;
      }
    }
    await writer.close();
    return lost;
  }

  #writer(): BulkWriter {
    const writer = this.#db.bulkWriter();
    // A precondition that failed is an answer (someone else wrote), not a fault to retry.
    writer.onWriteError((error) => !isRace(error) && error.failedAttempts < 5);
    return writer;
  }

  /**
   * Undoes an import: contacts it created are deleted and those it changed get their earlier values
   * back, unless they changed since (those are skipped and listed). Resumable: each contact's outcome
   * is kept as it is done, so an undo interrupted halfway continues where it stopped.
   */
  async undo(
    tenantId: string,
    importId: string,
    requestedBy: string,
    context: AuditContext,
  ): Promise<ContactImportDoc> {
    const ref = this.#refs.contactImport(tenantId, importId);
    const nowMs = this.#now();
    const resumed = await this.#db.runTransaction(async (tx) => {
      const found = (await tx.get(ref)).data();
      if (!found) throw importNotFound();
      const fresh = nowMs - found.updatedAt.toMillis() < STALE_IMPORT_MS;
      if (found.status === "running" && fresh)
        throw new ConflictError("The import is still running; undo it once it has finished.");
      if (found.undo?.status === "completed") throw new ConflictError("This import was undone already.");
      if (found.undo?.status === "running" && fresh) throw new ConflictError("This import is being undone already.");
      const now = Timestamp.fromMillis(nowMs);
      tx.update(ref, {
        undo: {
          status: "running",
          requestedBy,
          startedAt: found.undo?.startedAt ?? now,
          finishedAt: null,
          deleted: 0,
          restored: 0,
          skipped: 0,
          skippedContacts: [],
        },
        updatedAt: now,
      });
      return found.undo !== null;
    });

    const totals = { deleted: 0, restored: 0, skipped: 0 };
    const skippedContacts: Array<{ personId: string; reason: string }> = [];
    const count = (personId: string, outcome: "deleted" | "restored" | "skipped", reason: string | null) => {
      totals[outcome] += 1;
      if (outcome === "skipped" && skippedContacts.length < MAX_REPORTED_REJECTIONS) {
        skippedContacts.push({ personId, reason: reason ?? "changed since the import" });
      }
    };
    let after: DocumentSnapshot | undefined;
    for (;;) {
      let query = this.#refs.changes(tenantId, importId).orderBy(FieldPath.documentId()).limit(this.#chunkSize);
      if (after) query = query.startAfter(after);
      const page = await query.get();
      if (page.empty) break;
      after = page.docs[page.docs.length - 1];
      const todo = page.docs.filter((doc) => {
        const change = doc.data();
        if (change.undo) count(doc.id, change.undo, change.undoReason);
        return !change.undo;
      });
      if (todo.length === 0) continue;
      const contacts = await this.#read(
        tenantId,
        todo.map((doc) => doc.id),
      );
      const writer = this.#writer();
      const outcomes = todo.map(async (doc, i) => {
        const change = doc.data();
        const current = contacts[i]?.contact;
        const updateTime = contacts[i]?.updateTime;
        let outcome: "deleted" | "restored" | "skipped";
        let reason: string | null = null;
        if (!current || !updateTime) {
          outcome = change.action === "created" && resumed ? "deleted" : "skipped";
          reason = outcome === "skipped" ? "no longer exists (deleted, or merged into its LID contact)" : null;
        } else if (fingerprint(current) === change.afterFingerprint) {
          const contactRef = this.#refs.contact(tenantId, doc.id);
          const precondition = { lastUpdateTime: updateTime };
          try {
            if (change.before) {
              await writer.update(contactRef.withConverter(null), { ...change.before }, precondition);
              outcome = "restored";
            } else {
              await writer.delete(contactRef, precondition);
              outcome = "deleted";
            }
          } catch (error) {
            if (!isRace(error)) throw error;
            outcome = "skipped";
            reason = "changed while the import was being undone";
          }
        } else if (change.before && fingerprint(current) === fingerprint(change.before)) {
          outcome = "restored"; // an interrupted undo got this far
        } else {
          outcome = "skipped";
          reason = "changed since the import";
        }
        count(doc.id, outcome, reason);
        return { doc, outcome, reason };
      });
      const flushing = writer.flush();
      const done = await Promise.all(outcomes);
      await flushing;
      const marked = done.map(({ doc, outcome, reason }) =>
        writer.update(doc.ref, { undo: outcome, undoReason: reason }),
      );
      await writer.close();
      await Promise.all(marked);
      await ref.update({ updatedAt: Timestamp.fromMillis(this.#now()) });
    }

    return this.#db.runTransaction(async (tx) => {
      const found = (await tx.get(ref)).data();
      if (!found?.undo) throw importNotFound();
      const now = Timestamp.fromMillis(this.#now());
      const undone: ContactImportDoc = {
        ...found,
        updatedAt: now,
        undo: { ...found.undo, status: "completed", finishedAt: now, ...totals, skippedContacts },
      };
      tx.set(ref, undone);
      this.#audit.record(tx, tenantId, context, {
        action: "contacts.import_undone",
        target: importTarget(importId),
        before: null,
        after: totals,
      });
      return undone;
    });
  }
}

function reject(state: RunState, row: RejectedRow): void {
  state.counts.rejected += 1;
  if (state.rejected.length < MAX_REPORTED_REJECTIONS) state.rejected.push(row);
}

function isCsvError(error: unknown): error is CsvError {
  return error instanceof Error && "code" in error && typeof error.code === "string" && error.code.startsWith("CSV_");
}

function unreadable(error: unknown): Error {
  if (!isCsvError(error)) return error instanceof Error ? error : new Error(String(error));
  return new ValidationError(`The file is not readable as CSV: ${error.message}`, [
    { path: "body.file", message: error.message },
  ]);
}

/** Why an import stopped halfway, as the client hears it: naming the import, whose rows so far stay. */
function stoppedBy(error: unknown, importId: string): Error {
  if (error instanceof PayloadTooLargeError) {
    return error.details?.importId
      ? error
      : new PayloadTooLargeError(`${error.message} Rows before it were imported (import ${importId}).`, {
          details: { ...error.details, importId },
        });
  }
  if (isCsvError(error)) {
    return new ValidationError(
      `The file stopped being readable as CSV: ${error.message}. Rows before it were imported (import ${importId}: undo it, or fix the file and import it again).`,
      [{ path: "body.file", message: error.message }],
      { details: { importId } },
    );
  }
  return error instanceof Error ? error : new Error(String(error));
}
