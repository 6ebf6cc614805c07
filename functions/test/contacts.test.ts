import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { contactImportSchema, contactSchema } from "../src/contacts/dto.ts";
import { ownerWithTenant } from "./support/fixtures.ts";
import { type Credential, client, signUp, startTestApi, type TestApi } from "./support/test-api.ts";

let api: TestApi;
let http: ReturnType<typeof client>;
beforeAll(async () => {
  api = await startTestApi();
  http = client(api.url);
});
afterAll(() => api.close());

/** V8's collector, which Node hides unless started with --expose-gc. */
function exposedGc(): () => void {
  setFlagsFromString("--expose-gc");
  const gc: unknown = runInNewContext("gc");
  if (typeof gc !== "function") throw new Error("no gc");
  return () => gc();
}

const problemSchema = z.object({
  code: z.string(),
  detail: z.string(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});
const contactPage = z.object({ items: z.array(contactSchema), nextCursor: z.string().nullable() });
const importPage = z.object({ items: z.array(contactImportSchema), nextCursor: z.string().nullable() });

function authHeader(credential: Credential): Record<string, string> {
  if (credential && "token" in credential) return { authorization: `Bearer ${credential.token}` };
  if (credential && "apiKey" in credential) return { "x-api-key": credential.apiKey };
  return {};
}

/** Posts a CSV as `curl -F file=@contacts.csv` would. */
async function importCsv(tenantId: string, credential: Credential, csv: string | Buffer, query = "") {
  const form = new FormData();
  const bytes = typeof csv === "string" ? new TextEncoder().encode(csv) : new Uint8Array(csv);
  form.append("file", new Blob([bytes], { type: "text/csv" }), "contacts.csv");
  const response = await fetch(`${api.url}/v1/tenants/${tenantId}/contacts/imports${query}`, {
    method: "POST",
    headers: authHeader(credential),
    body: form,
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

async function allContacts(tenantId: string, credential: Credential, query = "") {
  const out: z.output<typeof contactSchema>[] = [];
  let cursor: string | null = null;
  do {
    const page = await http.get(
      `/tenants/${tenantId}/contacts?limit=100${query}${cursor ? `&cursor=${cursor}` : ""}`,
      credential,
    );
    expect(page.status, JSON.stringify(page.body)).toBe(200);
    const parsed = contactPage.parse(page.body);
    out.push(...parsed.items);
    cursor = parsed.nextCursor;
  } while (cursor);
  return out;
}

async function exportCsv(tenantId: string, credential: Credential, query = "") {
  const response = await fetch(`${api.url}/v1/tenants/${tenantId}/contacts/export${query}`, {
    headers: authHeader(credential),
  });
  return { status: response.status, type: response.headers.get("content-type"), text: await response.text() };
}

const goodAndBad = [
  "Phone,Name,Tags,City",
  "+62 812-3456-7890,Budi,vip;jakarta,Jakarta",
  "6281298765432,Siti,,Bandung",
  "12345,Too Short,,",
  "+62 812 0000 1111,Ani,bad tag!,Surabaya",
  "6281234567890,Budi again,,",
  "6281277778888,Wrong cells",
  ",Nobody,,",
  "6281255556666,Dewi,VIP|Promo,Medan",
].join("\r\n");

describe("CSV import", () => {
  it("imports the good rows and reports the bad ones with their line and reason, storing nothing for them", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const auth = { token: owner.idToken };
    const response = await importCsv(tenantId, auth, goodAndBad, "?tags=list-a");
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    const report = contactImportSchema.parse(response.body);
    expect(report).toMatchObject({
      status: "completed",
      fileName: "contacts.csv",
      options: { tags: ["list-a"], overwrite: false },
      counts: { rows: 8, created: 3, updated: 0, unchanged: 0, rejected: 5 },
    });
    expect(report.rejected.map((r) => [r.line, r.column])).toEqual([
      [4, "phone"],
      [5, "tags"],
      [6, null],
      [7, null],
      [8, "phone"],
    ]);
    expect(report.rejected[2]?.reason).toBe("the same contact as line 2");
    expect(report.rejected[3]?.reason).toContain("2 cells where the header has 4");

    const contacts = await allContacts(tenantId, auth);
    expect(contacts.map((c) => [c.personId, c.name, c.tags, c.fields])).toEqual([
      ["pn:6281234567890", "Budi", ["vip", "jakarta", "list-a"], { city: "Jakarta" }],
      ["pn:6281255556666", "Dewi", ["vip", "promo", "list-a"], { city: "Medan" }],
      ["pn:6281298765432", "Siti", ["list-a"], { city: "Bandung" }],
    ]);
    expect(contacts.every((c) => c.importId === report.id && c.optOut === null)).toBe(true);

    const got = await http.get(`/tenants/${tenantId}/contacts/imports/${report.id}`, auth);
    expect(contactImportSchema.parse(got.body)).toEqual(report);
    const listed = importPage.parse((await http.get(`/tenants/${tenantId}/contacts/imports`, auth)).body);
    expect(listed.items.map((i) => i.id)).toEqual([report.id]);
  });

  it("changes nothing when the same file is imported again, and never re-subscribes an opted-out contact", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const auth = { token: owner.idToken };
    const first = contactImportSchema.parse((await importCsv(tenantId, auth, goodAndBad)).body);
    const optedOut = await http.post(`/tenants/${tenantId}/contacts/pn:6281298765432/opt-out`, auth, {
      reason: "asked by phone",
    });
    expect(optedOut.status).toBe(200);
    const before = await allContacts(tenantId, auth);

    const again = await importCsv(tenantId, auth, goodAndBad.replace("Bandung", "Bandung\r\n"));
    expect(again.status).toBe(201);
    expect(contactImportSchema.parse(again.body).counts).toEqual({
      rows: 8,
      created: 0,
      updated: 0,
      unchanged: 3,
      rejected: 5,
    });
    expect(await allContacts(tenantId, auth)).toEqual(before);

    // Overwriting names and fields changes them; the opt-out stays, even with opted_out=no.
    const overwrite = await importCsv(
      tenantId,
      auth,
      "phone,name,city,opted_out\r\n6281298765432,Siti Rahma,Bogor,no\r\n",
      "?overwrite=true",
    );
    expect(contactImportSchema.parse(overwrite.body).counts).toMatchObject({ updated: 1 });
    const siti = contactSchema.parse((await http.get(`/tenants/${tenantId}/contacts/pn:6281298765432`, auth)).body);
    expect(siti).toMatchObject({ name: "Siti Rahma", fields: { city: "Bogor" }, optOut: { via: "api" } });
    expect(siti.importId).not.toBe(first.id);
  });

  it("undo deletes the contacts an import created and restores the ones it changed, skipping those changed since", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const auth = { token: owner.idToken };
    const base = `/tenants/${tenantId}/contacts`;
    expect((await importCsv(tenantId, auth, "phone,name,tier\r\n6281111111111,Ayu,gold\r\n")).status).toBe(201);
    const kept = await allContacts(tenantId, auth);

    const second = contactImportSchema.parse(
      (
        await importCsv(
          tenantId,
          auth,
          "phone,name,tier\r\n6281111111111,Ayu Lestari,silver\r\n6282222222222,Bayu,\r\n6283333333333,Citra,\r\n",
          "?overwrite=true&tags=promo",
        )
      ).body,
    );
    expect(second.counts).toMatchObject({ created: 2, updated: 1 });
    // Citra is changed after the import: undo leaves her as she is now.
    expect((await http.patch(`${base}/pn:6283333333333`, auth, { name: "Citra K." })).status).toBe(200);

    const undo = await http.post(`${base}/imports/${second.id}/undo`, auth);
    expect(undo.status, JSON.stringify(undo.body)).toBe(200);
    const undone = contactImportSchema.parse(undo.body);
    expect(undone.undo).toMatchObject({
      status: "completed",
      deleted: 1,
      restored: 1,
      skipped: 1,
      skippedContacts: [{ personId: "pn:6283333333333", reason: "changed since the import" }],
    });
    const after = await allContacts(tenantId, auth);
    expect(after.map((c) => c.personId)).toEqual(["pn:6281111111111", "pn:6283333333333"]);
    expect(after[0]).toEqual(kept[0]);
    expect(after[1]).toMatchObject({ name: "Citra K.", tags: ["promo"] });

    const twice = await http.post(`${base}/imports/${second.id}/undo`, auth);
    expect(twice.status).toBe(409);
    expect((await http.post(`${base}/imports/nope/undo`, auth)).status).toBe(404);
  });

  it("refuses a file whose header cannot be used, naming why, and writes nothing", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const auth = { token: owner.idToken };
    const cases = [
      ["name,city\r\nBudi,Jakarta\r\n", "needs a `phone` or a `lid` column"],
      ["phone,phone\r\n6281234567890,6281234567890\r\n", 'column "phone" appears twice'],
      ["phone,Kota Asal!\r\n6281234567890,x\r\n", "is not a custom field name"],
      ["", "is empty"],
    ] as const;
    for (const [csv, message] of cases) {
      const response = await importCsv(tenantId, auth, csv);
      expect(response.status, csv).toBe(400);
      const problem = problemSchema.parse(response.body);
      expect(problem.code).toBe("validation_failed");
      expect(problem.errors?.[0]?.path).toBe("body.file");
      expect(problem.detail).toContain(message);
    }
    expect(
      (await http.post(`/tenants/${tenantId}/contacts/imports?tags=${encodeURIComponent("no way")}`, auth)).status,
    ).toBe(400);
    expect(await allContacts(tenantId, auth)).toEqual([]);
    expect(importPage.parse((await http.get(`/tenants/${tenantId}/contacts/imports`, auth)).body).items).toEqual([]);
  });

  it("imports 20,000 rows streamed, with memory bounded, and pages through them by tag", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const auth = { token: owner.idToken };
    const rows = 20_000;
    const lines = ["phone,name,tags,segment"];
    for (let i = 0; i < rows; i += 1) {
      lines.push(`628100${String(i).padStart(7, "0")},Person ${i},${i % 4 === 0 ? "even4" : "rest"},s${i % 7}`);
    }
    const csv = Buffer.from(lines.join("\n"));
    // What the heap holds, not what it has yet to collect: a collection before each sample.
    const gc = exposedGc();
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    let heapPeak = heapBefore;
    const sampler = setInterval(() => {
      gc();
      heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
    }, 500);
    const response = await importCsv(tenantId, auth, csv);
    clearInterval(sampler);
    expect(response.status, JSON.stringify(response.body).slice(0, 500)).toBe(201);
    expect(contactImportSchema.parse(response.body).counts).toEqual({
      rows,
      created: rows,
      updated: 0,
      unchanged: 0,
      rejected: 0,
    });
    // The server runs in this process. A streamed import holds a chunk at a time (about 9 MB live at
    // the peak when measured); 20,000 contacts held as objects with their writes would not fit.
    expect(heapPeak - heapBefore).toBeLessThan(40 * 1024 * 1024);

    const tagged = await allContacts(tenantId, auth, "&tag=even4");
    expect(tagged).toHaveLength(rows / 4);
    expect(new Set(tagged.map((c) => c.personId)).size).toBe(rows / 4);
    expect(tagged.every((c) => c.tags.includes("even4"))).toBe(true);
  }, 240_000);
});

describe("CSV import under Cloud Functions (the platform has read the body into req.rawBody)", () => {
  let platform: TestApi;
  beforeAll(async () => {
    platform = await startTestApi({ platformReadsBody: true });
  });
  afterAll(() => platform.close());

  async function importThere(tenantId: string, token: string, bytes: Uint8Array) {
    const form = new FormData();
    form.append("file", new Blob([bytes], { type: "text/csv" }), "contacts.csv");
    const response = await fetch(`${platform.url}/v1/tenants/${tenantId}/contacts/imports`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: form,
    });
    return { status: response.status, body: (await response.json()) as unknown };
  }

  it("imports from the kept bytes, and refuses a file over 20 MB before reading it", async () => {
    const { owner, tenantId } = await ownerWithTenant(client(platform.url));
    const ok = await importThere(tenantId, owner.idToken, new TextEncoder().encode(goodAndBad));
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    expect(contactImportSchema.parse(ok.body).counts).toMatchObject({ created: 3, rejected: 5 });

    const huge = new Uint8Array(21 * 1024 * 1024).fill(0x61);
    const refused = await importThere(tenantId, owner.idToken, huge);
    expect(refused.status).toBe(413);
    expect(problemSchema.parse(refused.body)).toMatchObject({
      code: "payload_too_large",
      details: { limitBytes: 20 * 1024 * 1024 },
    });
    expect(
      importPage.parse((await http.get(`/tenants/${tenantId}/contacts/imports`, { token: owner.idToken })).body).items,
    ).toHaveLength(1);
  });
});

describe("contacts", () => {
  it("are one contact per person: by phone, then by LID (linked), never two", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const auth = { token: owner.idToken };
    const base = `/tenants/${tenantId}/contacts`;
    const created = await http.post(base, auth, { phone: "+62 812-3456-7890", name: "Budi", tags: ["vip"] });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(contactSchema.parse(created.body)).toMatchObject({
      personId: "pn:6281234567890",
      phone: "6281234567890",
      lid: null,
    });
    const again = await http.post(base, auth, { phone: "6281234567890", tags: ["promo"] });
    expect(again.status).toBe(200);
    expect(contactSchema.parse(again.body)).toMatchObject({ name: "Budi", tags: ["vip", "promo"] });
    // Its LID becomes known: the phone contact is folded into the LID one.
    const linked = await http.post(base, auth, { lid: "200000000001", phone: "6281234567890" });
    expect(contactSchema.parse(linked.body)).toMatchObject({
      personId: "lid:200000000001",
      phone: "6281234567890",
      name: "Budi",
      tags: ["vip", "promo"],
    });
    expect((await allContacts(tenantId, auth)).map((c) => c.personId)).toEqual(["lid:200000000001"]);
    expect((await http.post(base, auth, { phone: "+62 812 3456 7890", name: "Budi S." })).status).toBe(200);

    const bad = await http.post(base, auth, { phone: "12" });
    expect(bad.status).toBe(400);
    expect(problemSchema.parse(bad.body).errors?.[0]?.path).toBe("body.phone");
    expect((await http.get(`${base}/pn:6289999999999`, auth)).status).toBe(404);
  });

  it("are opted out and back in through the API; a viewer and a read key are refused", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const auth = { token: owner.idToken };
    const base = `/tenants/${tenantId}/contacts`;
    await http.post(base, auth, { phone: "6281234567890" });
    const out = await http.post(`${base}/pn:6281234567890/opt-out`, auth, { reason: "asked in the shop" });
    expect(contactSchema.parse(out.body).optOut).toMatchObject({ via: "api", reason: "asked in the shop" });
    expect(await allContacts(tenantId, auth, "&optedOut=false")).toEqual([]);
    expect(await allContacts(tenantId, auth, "&optedOut=true")).toHaveLength(1);
    const back = await http.post(`${base}/pn:6281234567890/opt-in`, auth);
    expect(contactSchema.parse(back.body).optOut).toBeNull();

    const viewer = await signUp();
    expect((await http.post(`/tenants/${tenantId}/members`, auth, { uid: viewer.uid, role: "viewer" })).status).toBe(
      201,
    );
    const key = z
      .object({ key: z.string() })
      .parse((await http.post(`/tenants/${tenantId}/api-keys`, auth, { name: "r", scopes: ["read"] })).body).key;
    for (const credential of [{ token: viewer.idToken }, { apiKey: key }]) {
      expect((await http.get(base, credential)).status).toBe(403);
      expect((await exportCsv(tenantId, credential)).status).toBe(403);
      expect((await importCsv(tenantId, credential, "phone\r\n6281234567891\r\n")).status).toBe(403);
    }
    expect(await allContacts(tenantId, auth)).toHaveLength(1);
  });

  it("another tenant sees none of them", async () => {
    const a = await ownerWithTenant(http, "A");
    const b = await ownerWithTenant(http, "B");
    await http.post(`/tenants/${a.tenantId}/contacts`, { token: a.owner.idToken }, { phone: "6281234567890" });
    const imported = contactImportSchema.parse(
      (await importCsv(a.tenantId, { token: a.owner.idToken }, "phone\r\n6281234567891\r\n")).body,
    );
    const bAuth = { token: b.owner.idToken };
    expect((await http.get(`/tenants/${a.tenantId}/contacts`, bAuth)).status).toBe(404);
    expect((await http.get(`/tenants/${b.tenantId}/contacts/pn:6281234567890`, bAuth)).status).toBe(404);
    expect((await http.get(`/tenants/${b.tenantId}/contacts/imports/${imported.id}`, bAuth)).status).toBe(404);
    expect(await allContacts(b.tenantId, bAuth)).toEqual([]);
  });
});

describe("CSV export", () => {
  it("round-trips through the import, one tag's or all, with opt-outs", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const auth = { token: owner.idToken };
    const csv = [
      "phone,lid,name,tags,city,note",
      '6281234567890,,"Budi, Jr.",vip,Jakarta,"=HYPERLINK(""x"")"',
      "6281298765432,123456789012345,Siti,vip;promo,,",
      "6281255556666,,Dewi,,Medan,",
    ].join("\r\n");
    expect((await importCsv(tenantId, auth, csv)).status).toBe(201);
    await http.post(`/tenants/${tenantId}/contacts/pn:6281255556666/opt-out`, auth, {});

    const all = await exportCsv(tenantId, auth);
    expect(all.status).toBe(200);
    expect(all.type).toMatch(/^text\/csv/);
    const lines = all.text.trimEnd().split("\r\n");
    expect(lines[0]).toBe("phone,lid,name,tags,city,note,opted_out,opted_out_at");
    expect(lines).toHaveLength(4);
    expect(lines).toContain(`6281234567890,,"Budi, Jr.",vip,Jakarta,"'=HYPERLINK(""x"")",no,`);
    expect(lines).toContain("6281298765432,123456789012345,Siti,vip;promo,,,no,");
    expect(lines.find((l) => l.startsWith("6281255556666"))).toMatch(/,Dewi,,Medan,,yes,\d{4}-\d\d-\d\dT/);

    const vip = await exportCsv(tenantId, auth, "?tag=vip");
    expect(vip.text.trimEnd().split("\r\n")).toHaveLength(3);

    // Into another tenant: the same contacts, the formula back as it was, the opt-out kept.
    const other = await ownerWithTenant(http);
    const otherAuth = { token: other.owner.idToken };
    const again = contactImportSchema.parse((await importCsv(other.tenantId, otherAuth, all.text)).body);
    expect(again.counts).toMatchObject({ rows: 3, created: 3, rejected: 0 });
    const copied = await allContacts(other.tenantId, otherAuth);
    const originals = await allContacts(tenantId, auth);
    const essence = (c: z.output<typeof contactSchema>) => [c.personId, c.phone, c.lid, c.name, c.tags, c.fields];
    expect(copied.map(essence)).toEqual(originals.map(essence));
    expect(copied.find((c) => c.phone === "6281255556666")?.optOut).toMatchObject({ via: "import" });
    expect(contactImportSchema.parse((await importCsv(other.tenantId, otherAuth, all.text)).body).counts).toMatchObject(
      { unchanged: 3 },
    );
  });
});
