import { auditEntryDocSchema, MediaStore } from "@whatsdex/core";
import { testBucket, uniqueId } from "@whatsdex/core/testing";
import { Timestamp } from "firebase-admin/firestore";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { pageOf, problemSchema } from "../src/http/schemas.ts";
import { templatePreviewSchema, templateSchema } from "../src/templates/dto.ts";
import { ownerWithTenant } from "./support/fixtures.ts";
import { type Credential, client, signUp, startTestApi, type TestApi } from "./support/test-api.ts";

let api: TestApi;
let http: ReturnType<typeof client>;
const media = new MediaStore(testBucket());

beforeAll(async () => {
  api = await startTestApi();
  http = client(api.url);
});
afterAll(() => api.close());

async function tenant() {
  const { owner, tenantId } = await ownerWithTenant(http);
  return { owner, tenantId, auth: { token: owner.idToken } satisfies Credential };
}

async function member(tenantId: string, owner: Credential, role: "admin" | "viewer"): Promise<Credential> {
  const user = await signUp();
  const added = await http.post(`/tenants/${tenantId}/members`, owner, { uid: user.uid, role });
  if (added.status !== 201) throw new Error(`could not add a member: ${added.status}`);
  return { token: user.idToken };
}

async function create(tenantId: string, auth: Credential, body: object) {
  const response = await http.post(`/tenants/${tenantId}/templates`, auth, body);
  if (response.status !== 201) throw new Error(`could not create a template: ${JSON.stringify(response.body)}`);
  return templateSchema.parse(response.body);
}

async function auditActions(tenantId: string): Promise<string[]> {
  const entries = await api.firebase.firestore.collection(`tenants/${tenantId}/audit`).orderBy("createdAt").get();
  return entries.docs
    .map((doc) => auditEntryDocSchema.parse(doc.data()).action)
    .filter((a) => a.startsWith("template."));
}

async function templateIds(tenantId: string): Promise<string[]> {
  const docs = await api.firebase.firestore.collection(`tenants/${tenantId}/templates`).get();
  return docs.docs.map((doc) => doc.id);
}

const greeting = {
  name: "Welcome",
  body: "{Hi|Hello|Hey} {{first_name|there}}, your order {{order}} ships to {{city|your door}}.",
  language: "id",
};

describe("templates API", () => {
  it("creates a template with its variables, longest rendering and warnings, and audits it", async () => {
    const { tenantId, auth, owner } = await tenant();
    const response = await http.post(`/tenants/${tenantId}/templates`, auth, greeting);
    expect(response.status).toBe(201);
    const template = templateSchema.parse(response.body);
    expect(response.headers.get("location")).toBe(`/v1/tenants/${tenantId}/templates/${template.id}`);
    expect(template).toMatchObject({
      name: "Welcome",
      language: "id",
      fallbacks: {},
      media: null,
      variables: ["first_name", "order", "city"],
      // "Hello " + 200 + ", your order " + 500 + " ships to " + 500 + "."
      maxLength: 6 + 200 + 13 + 500 + 10 + 500 + 1,
      createdBy: `user:${owner.uid}`,
    });
    expect(template.warnings).toEqual([
      {
        variable: "order",
        message:
          '{{order}} is a custom field without a fallback: contacts without a "order" field get nothing in its place',
      },
    ]);
    expect(await auditActions(tenantId)).toEqual(["template.created"]);

    const read = await http.get(`/tenants/${tenantId}/templates/${template.id}`, auth);
    expect(templateSchema.parse(read.body)).toEqual(template);
  });

  it("refuses a syntax error naming body and its position, and a rendering over 4,096, keeping nothing", async () => {
    const { tenantId, auth } = await tenant();
    const unclosed = await http.post(`/tenants/${tenantId}/templates`, auth, { name: "x", body: "Hi {there|you" });
    expect(unclosed.status).toBe(400);
    expect(problemSchema.parse(unclosed.body)).toMatchObject({
      code: "validation_failed",
      errors: [
        { path: "body", message: "`{` is not closed by `}` (write `\\{` for a literal brace) (at character 4)" },
      ],
    });
    const long = await http.post(`/tenants/${tenantId}/templates`, auth, {
      name: "x",
      body: `${"x".repeat(4_000)} {{note}}`,
    });
    expect(long.status).toBe(400);
    expect(problemSchema.parse(long.body).errors?.[0]?.message).toMatch(/^its longest rendering is 4501 characters/);
    const fallbackForNothing = await http.post(`/tenants/${tenantId}/templates`, auth, {
      name: "x",
      body: "Hi {{name}}",
      fallbacks: { city: "x" },
    });
    expect(problemSchema.parse(fallbackForNothing.body).errors).toEqual([
      { path: "fallbacks", message: "the body uses no variable called city" },
    ]);
    expect(await templateIds(tenantId)).toEqual([]);
    expect(await auditActions(tenantId)).toEqual([]);
  });

  it("lists templates newest first, a page at a time", async () => {
    const { tenantId, auth } = await tenant();
    const ids: string[] = [];
    for (const name of ["one", "two", "three"]) ids.push((await create(tenantId, auth, { name, body: name })).id);
    const page = pageOf(templateSchema);
    const first = page.parse((await http.get(`/tenants/${tenantId}/templates?limit=2`, auth)).body);
    expect(first.items.map((t) => t.name)).toEqual(["three", "two"]);
    const cursor = encodeURIComponent(first.nextCursor ?? "");
    const second = page.parse((await http.get(`/tenants/${tenantId}/templates?limit=2&cursor=${cursor}`, auth)).body);
    expect(second).toEqual({ items: [expect.objectContaining({ id: ids[0], name: "one" })], nextCursor: null });
  });

  it("updates what is given, checks it as on creation, and deletes (then 404)", async () => {
    const { tenantId, auth } = await tenant();
    const template = await create(tenantId, auth, greeting);
    const patched = await http.patch(`/tenants/${tenantId}/templates/${template.id}`, auth, {
      body: "Hi {{name}}, {{city}}",
      fallbacks: { name: "there" },
    });
    expect(patched.status).toBe(200);
    expect(templateSchema.parse(patched.body)).toMatchObject({
      name: "Welcome",
      body: "Hi {{name}}, {{city}}",
      fallbacks: { name: "there" },
      variables: ["name", "city"],
      warnings: [expect.objectContaining({ variable: "city" })],
    });
    const bad = await http.patch(`/tenants/${tenantId}/templates/${template.id}`, auth, { body: "Hi }" });
    expect(problemSchema.parse(bad.body).errors?.[0]?.path).toBe("body");
    const unchanged = templateSchema.parse(
      (await http.get(`/tenants/${tenantId}/templates/${template.id}`, auth)).body,
    );
    expect(unchanged.body).toBe("Hi {{name}}, {{city}}");

    expect((await http.delete(`/tenants/${tenantId}/templates/${template.id}`, auth)).status).toBe(204);
    const gone = await http.get(`/tenants/${tenantId}/templates/${template.id}`, auth);
    expect(problemSchema.parse(gone.body)).toMatchObject({ status: 404, code: "not_found" });
    expect((await http.delete(`/tenants/${tenantId}/templates/${template.id}`, auth)).status).toBe(404);
    expect((await http.patch(`/tenants/${tenantId}/templates/${template.id}`, auth, { name: "x" })).status).toBe(404);
    expect(await auditActions(tenantId)).toEqual(["template.created", "template.updated", "template.deleted"]);
  });

  it("previews for a stored contact (the same text every time), an inline one, and 404s for an unknown contact", async () => {
    const { tenantId, auth } = await tenant();
    const template = await create(tenantId, auth, greeting);
    const now = Timestamp.now();
    await api.firebase.firestore.doc(`tenants/${tenantId}/contacts/pn:6281234567890`).set({
      lid: null,
      pn: "6281234567890@s.whatsapp.net",
      name: "Ayu Lestari",
      tags: [],
      fields: { order: "A-17" },
      optOut: null,
      importId: null,
      createdAt: now,
      updatedAt: now,
    });
    const path = `/tenants/${tenantId}/templates/${template.id}/preview`;
    const preview = await http.post(path, auth, { personId: "pn:6281234567890" });
    expect(preview.status).toBe(200);
    const shown = templatePreviewSchema.parse(preview.body);
    expect(shown.text).toMatch(/^(Hi|Hello|Hey) Ayu, your order A-17 ships to your door\.$/);
    expect(shown).toMatchObject({ length: shown.text.length, missing: [], media: null });
    expect(templatePreviewSchema.parse((await http.post(path, auth, { personId: "pn:6281234567890" })).body)).toEqual(
      shown,
    );
    // Across campaigns the greeting varies (the seed is the campaign and the person).
    const greetings = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const body = { personId: "pn:6281234567890", campaignId: `campaign-${i}` };
      greetings.add(templatePreviewSchema.parse((await http.post(path, auth, body)).body).text.split(" ")[0] ?? "");
    }
    expect(greetings.size).toBeGreaterThan(1);

    const inline = await http.post(path, auth, { contact: { name: null, fields: { city: "Bandung" } } });
    expect(templatePreviewSchema.parse(inline.body)).toMatchObject({
      text: expect.stringMatching(/^(Hi|Hello|Hey) there, your order {2}ships to Bandung\.$/),
      missing: ["order"],
    });
    const unknown = await http.post(path, auth, { personId: "lid:999999999999" });
    expect(problemSchema.parse(unknown.body)).toMatchObject({
      status: 404,
      code: "not_found",
      detail: "Contact not found.",
    });
    const badId = await http.post(path, auth, { personId: "6281234567890" });
    expect(badId.status).toBe(400);
  });

  it("keeps its own copy of an uploaded file, which outlives the upload and goes with the template", async () => {
    const { tenantId, auth } = await tenant();
    const uploadId = uniqueId("upload");
    await media.putUpload(tenantId, uploadId, {
      kind: "image",
      mimetype: "image/png",
      data: Buffer.from("not really a png"),
      fileName: "promo.png",
    });
    const template = await create(tenantId, auth, { name: "Promo", body: "New stock!", mediaUploadId: uploadId });
    expect(template.media).toEqual({ kind: "image", mimetype: "image/png", bytes: 16, fileName: "promo.png" });
    const bot = { tenantId, botId: "bot-1" };
    const stored = await api.firebase.firestore.doc(`tenants/${tenantId}/templates/${template.id}`).get();
    const mediaId = z.string().parse(stored.get("media.id"));
    // The upload is gone (expired, say): the template's copy is still sendable.
    await testBucket().file(`uploads/${tenantId}/${uploadId}`).delete();
    expect(await media.copyTemplateMediaToBot(tenantId, mediaId, bot, "send-1")).toBe(true);
    expect((await media.get(bot, "send-1"))?.data.toString()).toBe("not really a png");

    const missing = await http.post(`/tenants/${tenantId}/templates`, auth, {
      name: "Promo",
      body: "x",
      mediaUploadId: uploadId,
    });
    expect(problemSchema.parse(missing.body).errors?.[0]?.path).toBe("mediaUploadId");

    expect(
      (await http.patch(`/tenants/${tenantId}/templates/${template.id}`, auth, { mediaUploadId: null })).status,
    ).toBe(200);
    expect(await media.copyTemplateMediaToBot(tenantId, mediaId, bot, "send-2")).toBe(false);
  });

  it("lists a template's media copy in the tenant's objects, and deletes it with the tenant", async () => {
    const { tenantId, auth } = await tenant();
    const uploadId = uniqueId("upload");
    await media.putUpload(tenantId, uploadId, { kind: "image", mimetype: "image/png", data: Buffer.from("png") });
    const template = await create(tenantId, auth, { name: "Promo", body: "New!", mediaUploadId: uploadId });
    const stored = await api.firebase.firestore.doc(`tenants/${tenantId}/templates/${template.id}`).get();
    const mediaId = z.string().parse(stored.get("media.id"));
    const objects = [];
    for await (const object of media.tenantObjects(tenantId)) objects.push(object);
    expect(objects.filter((o) => o.kind === "templates")).toEqual([
      expect.objectContaining({ kind: "templates", botId: null, id: mediaId, bytes: 3 }),
    ]);
    await media.deleteTenant(tenantId);
    expect(await media.copyTemplateMediaToBot(tenantId, mediaId, { tenantId, botId: "bot-1" }, "send-1")).toBe(false);
  });

  it("lets viewers read templates but not write them nor preview them for a contact", async () => {
    const { tenantId, auth } = await tenant();
    const template = await create(tenantId, auth, greeting);
    const viewer = await member(tenantId, auth, "viewer");
    expect((await http.get(`/tenants/${tenantId}/templates`, viewer)).status).toBe(200);
    expect((await http.get(`/tenants/${tenantId}/templates/${template.id}`, viewer)).status).toBe(200);
    const refused = [
      await http.post(`/tenants/${tenantId}/templates`, viewer, greeting),
      await http.patch(`/tenants/${tenantId}/templates/${template.id}`, viewer, { name: "x" }),
      await http.delete(`/tenants/${tenantId}/templates/${template.id}`, viewer),
      await http.post(`/tenants/${tenantId}/templates/${template.id}/preview`, viewer, { contact: {} }),
    ];
    expect(refused.map((r) => r.status)).toEqual([403, 403, 403, 403]);
    const admin = await member(tenantId, auth, "admin");
    expect((await http.patch(`/tenants/${tenantId}/templates/${template.id}`, admin, { name: "Hi" })).status).toBe(200);
  });
});
