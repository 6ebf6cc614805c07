import { Readable } from "node:stream";
import { Timestamp } from "firebase-admin/firestore";
import { afterAll, describe, expect, it } from "vitest";
import {
  ConflictError,
  ContactImporter,
  ContactService,
  contactRefs,
  PayloadTooLargeError,
  systemAuditContext,
  ValidationError,
} from "../src/index.ts";
import { manualClock, testFirebase, uniqueId } from "../src/testing/index.ts";

const firebase = testFirebase();
const db = firebase.firestore;
afterAll(() => firebase.close());
const refs = contactRefs(db);
const context = systemAuditContext;

async function tenant() {
  const tenantId = uniqueId("tenant");
  await db.doc(`tenants/${tenantId}`).set({ name: "T" });
  const clock = manualClock(Date.parse("2026-12-01T10:00:00Z"));
  return {
    tenantId,
    clock,
    contacts: new ContactService(db, { now: clock.now }),
    importer: (options: { maxRows?: number; chunkSize?: number } = {}) =>
      new ContactImporter(db, { now: clock.now, ...options }),
  };
}

function run(importer: ContactImporter, tenantId: string, csv: string, overwrite = false) {
  return importer.run(tenantId, Readable.from([csv]), {
    options: { tags: [], overwrite },
    fileName: "c.csv",
    createdBy: "user-1",
    context,
  });
}

async function ids(tenantId: string) {
  return (await refs.contacts(tenantId).get()).docs.map((d) => d.id).sort();
}

describe("linkIdentity", () => {
  it("folds the phone contact into the LID one (tags and fields united, the opt-out kept), once", async () => {
    const { tenantId, contacts, clock } = await tenant();
    await contacts.upsert(
      tenantId,
      { phone: "6281234567890", name: "Budi", tags: ["vip"], fields: { city: "A" } },
      context,
    );
    await contacts.optOut(tenantId, "pn:6281234567890", "asked", context);
    await contacts.upsert(tenantId, { lid: "200000000001", tags: ["promo"], fields: { tier: "gold" } }, context);
    clock.advance(1_000);

    const linked = await contacts.linkIdentity(tenantId, {
      lid: "200000000001@lid",
      pn: "6281234567890@s.whatsapp.net",
    });
    expect(linked).toEqual({ personId: "lid:200000000001", merged: true });
    expect(await ids(tenantId)).toEqual(["lid:200000000001"]);
    const merged = await contacts.get(tenantId, "lid:200000000001");
    expect(merged).toMatchObject({
      lid: "200000000001@lid",
      pn: "6281234567890@s.whatsapp.net",
      name: "Budi",
      tags: ["promo", "vip"],
      fields: { city: "A", tier: "gold" },
      optOut: { via: "api", reason: "asked" },
    });

    // Again: nothing changes (not even updatedAt).
    clock.advance(1_000);
    expect(await contacts.linkIdentity(tenantId, { lid: "200000000001", pn: "6281234567890" })).toEqual({
      personId: "lid:200000000001",
      merged: false,
    });
    expect((await contacts.get(tenantId, "lid:200000000001")).updatedAt).toEqual(merged.updatedAt);
    // Someone the tenant has no contact for: nothing is created.
    expect(await contacts.linkIdentity(tenantId, { lid: "200000000009", pn: "6281234567899" })).toBeNull();
    expect(await ids(tenantId)).toEqual(["lid:200000000001"]);
  });

  it("moves a phone-only contact to its LID; later upserts and imports by phone find it there", async () => {
    const { tenantId, contacts, importer } = await tenant();
    await contacts.upsert(tenantId, { phone: "+62 812 3456 7890", name: "Siti" }, context);
    await contacts.linkIdentity(tenantId, { lid: "300000000001", pn: "6281234567890", name: "Siti WA" });
    expect(await ids(tenantId)).toEqual(["lid:300000000001"]);
    expect((await contacts.get(tenantId, "lid:300000000001")).name).toBe("Siti");

    const again = await contacts.upsert(tenantId, { phone: "6281234567890", tags: ["vip"] }, context);
    expect(again).toMatchObject({ personId: "lid:300000000001", created: false });
    const { report } = await run(importer(), tenantId, "phone,city\r\n6281234567890,Bogor\r\n");
    expect(report.counts).toMatchObject({ created: 0, updated: 1 });
    expect(await ids(tenantId)).toEqual(["lid:300000000001"]);
    expect((await contacts.get(tenantId, "lid:300000000001")).fields).toEqual({ city: "Bogor" });
  });
});

describe("two imports at once", () => {
  it("of the same file create each contact once: what one created, the other finds unchanged", async () => {
    const { tenantId, importer } = await tenant();
    const lines = ["phone,name"];
    for (let i = 0; i < 300; i += 1) lines.push(`62810000${String(i).padStart(5, "0")},P${i}`);
    const csv = lines.join("\n");
    const [a, b] = await Promise.all([
      run(importer({ chunkSize: 25 }), tenantId, csv),
      run(importer({ chunkSize: 25 }), tenantId, csv),
    ]);
    expect(await ids(tenantId)).toHaveLength(300);
    expect(a.report.counts.rejected + b.report.counts.rejected).toBe(0);
    expect(a.report.counts.created + b.report.counts.created).toBe(300);
    expect(a.report.counts.unchanged + b.report.counts.unchanged).toBe(300);
    // Every contact names the import that created it, and that import alone can undo it.
    const creators = new Set((await refs.contacts(tenantId).get()).docs.map((d) => d.data().importId));
    expect([...creators].every((id) => id === a.id || id === b.id)).toBe(true);
    const changes = (await refs.changes(tenantId, a.id).get()).size + (await refs.changes(tenantId, b.id).get()).size;
    expect(changes).toBe(300);
  });
});

describe("upsert with both forms", () => {
  it("folds a contact known only by phone into the LID one", async () => {
    const { tenantId, contacts } = await tenant();
    await contacts.upsert(tenantId, { phone: "6281234567890", name: "Ani", tags: ["vip"] }, context);
    const both = await contacts.upsert(
      tenantId,
      { lid: "400000000001", phone: "+62 812 3456 7890", tags: ["new"] },
      context,
    );
    expect(both).toMatchObject({ personId: "lid:400000000001", created: true });
    expect(await ids(tenantId)).toEqual(["lid:400000000001"]);
    expect(both.contact).toMatchObject({ name: "Ani", tags: ["vip", "new"], pn: "6281234567890@s.whatsapp.net" });
  });
});

describe("opt-in", () => {
  it("never lifts an opt-out the person sent on WhatsApp", async () => {
    const { tenantId, contacts } = await tenant();
    await contacts.upsert(tenantId, { phone: "6281234567890" }, context);
    await refs.contact(tenantId, "pn:6281234567890").update({
      optOut: { at: Timestamp.now(), via: "whatsapp", botId: "bot-1", reason: "STOP" },
    });
    await expect(contacts.optIn(tenantId, "pn:6281234567890", context)).rejects.toBeInstanceOf(ConflictError);
    expect((await contacts.get(tenantId, "pn:6281234567890")).optOut?.via).toBe("whatsapp");
  });
});

describe("import limits and failures", () => {
  it("stops at the row limit with 413, keeping (and able to undo) the rows before", async () => {
    const { tenantId, importer } = await tenant();
    const csv = ["phone", "6281000000001", "6281000000002", "6281000000003", "6281000000004"].join("\n");
    const limited = importer({ maxRows: 3, chunkSize: 2 });
    const error = await run(limited, tenantId, csv).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    const importId = String((error as PayloadTooLargeError).details?.importId);
    expect((error as PayloadTooLargeError).message).toContain("line 5");
    const stored = await limited.get(tenantId, importId);
    expect(stored).toMatchObject({ status: "failed", counts: { rows: 3, created: 3 } });
    expect(await ids(tenantId)).toHaveLength(3);

    const undone = await limited.undo(tenantId, importId, "user-1", context);
    expect(undone.undo).toMatchObject({ status: "completed", deleted: 3, restored: 0, skipped: 0 });
    expect(await ids(tenantId)).toEqual([]);
  });

  it("ends as failed where the file stops being CSV, naming the import", async () => {
    const { tenantId, importer } = await tenant();
    async function* upload() {
      yield "phone,name\n6281000000001,Ayu\n6281000000003,Citra\n";
      // The rest arrives once the first row is in, as over a slow connection.
      while (!(await refs.contact(tenantId, "pn:6281000000001").get()).exists) {}
      yield '6281000000002,"Bayu\n';
    }
    const error = await importer({ chunkSize: 1 })
      .run(tenantId, Readable.from(upload()), {
        options: { tags: [], overwrite: false },
        fileName: null,
        createdBy: "user-1",
        context,
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues[0]?.path).toBe("body.file");
    const importId = String((error as ValidationError).details?.importId);
    const stored = await importer().get(tenantId, importId);
    expect(stored.status).toBe("failed");
    expect(stored.error).toContain("Quote Not Closed");
    // What was read before the broken line is in, and counted (Citra's row may or may not have been).
    expect(await ids(tenantId)).toHaveLength(stored.counts.created);
    expect(await ids(tenantId)).toContain("pn:6281000000001");
  });

  it("refuses to undo a running import, resumes an undo whose process died, and never undoes twice", async () => {
    const { tenantId, importer, clock } = await tenant();
    const imp = importer();
    const { id } = await run(imp, tenantId, "phone\n6281000000001\n6281000000002\n");
    await refs.contactImport(tenantId, id).update({ status: "running" });
    await expect(imp.undo(tenantId, id, "u", context)).rejects.toBeInstanceOf(ConflictError);
    await refs.contactImport(tenantId, id).update({ status: "completed" });

    // An undo that died after deleting one contact (its outcome recorded) and before the other.
    await refs.contact(tenantId, "pn:6281000000001").delete();
    await refs.change(tenantId, id, "pn:6281000000001").update({ undo: "deleted", undoReason: null });
    await refs.contactImport(tenantId, id).update({
      undo: {
        status: "running",
        requestedBy: "u",
        startedAt: Timestamp.fromMillis(clock.now()),
        finishedAt: null,
        deleted: 0,
        restored: 0,
        skipped: 0,
        skippedContacts: [],
      },
      updatedAt: Timestamp.fromMillis(clock.now()),
    });
    await expect(imp.undo(tenantId, id, "u", context)).rejects.toBeInstanceOf(ConflictError);
    clock.advance(11 * 60_000);
    const resumed = await imp.undo(tenantId, id, "u", context);
    expect(resumed.undo).toMatchObject({ status: "completed", deleted: 2, skipped: 0 });
    expect(await ids(tenantId)).toEqual([]);
    await expect(imp.undo(tenantId, id, "u", context)).rejects.toBeInstanceOf(ConflictError);
  });

  it("undoes imports in reverse order back to where they started", async () => {
    const { tenantId, importer, contacts, clock } = await tenant();
    const imp = importer();
    const first = await run(imp, tenantId, "phone,name,city\n6281000000001,Ayu,A\n", true);
    clock.advance(1_000);
    const original = await contacts.get(tenantId, "pn:6281000000001");
    const second = await run(imp, tenantId, "phone,name,city\n6281000000001,Ayu L,B\n", true);
    clock.advance(1_000);
    // The first can no longer be undone for this contact: the second changed it since.
    const early = await imp.undo(tenantId, first.id, "u", context);
    expect(early.undo).toMatchObject({ deleted: 0, skipped: 1 });

    const otherTenant = await tenant();
    const a = await run(otherTenant.importer(), otherTenant.tenantId, "phone,name,city\n6281000000001,Ayu,A\n", true);
    otherTenant.clock.advance(1_000);
    const b = await run(otherTenant.importer(), otherTenant.tenantId, "phone,name,city\n6281000000001,Ayu L,B\n", true);
    expect((await otherTenant.importer().undo(otherTenant.tenantId, b.id, "u", context)).undo?.restored).toBe(1);
    expect(await otherTenant.contacts.get(otherTenant.tenantId, "pn:6281000000001")).toMatchObject({
      name: "Ayu",
      fields: { city: "A" },
    });
    expect((await otherTenant.importer().undo(otherTenant.tenantId, a.id, "u", context)).undo?.deleted).toBe(1);
    expect(await ids(otherTenant.tenantId)).toEqual([]);
    expect(original.name).toBe("Ayu");
    expect(second.report.counts.updated).toBe(1);
  });
});
