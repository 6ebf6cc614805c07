import { MediaStore, mediaLimits } from "@whatsdex/core";
import { testBucket } from "@whatsdex/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { botSchema } from "../src/bots/dto.ts";
import { ownerWithTenant } from "./support/fixtures.ts";
import { client, signUp, startTestApi, type TestApi } from "./support/test-api.ts";

let api: TestApi;
let http: ReturnType<typeof client>;
const bucket = testBucket();
const media = new MediaStore(bucket);
beforeAll(async () => {
  api = await startTestApi();
  http = client(api.url);
});
afterAll(() => api.close());

const uploadSchema = z.strictObject({
  id: z.string(),
  kind: z.enum(["image", "video", "audio", "document", "sticker"]),
  mimetype: z.string(),
  bytes: z.number(),
  fileName: z.string().nullable(),
  expiresAt: z.string(),
});
const problemSchema = z.object({
  code: z.string(),
  detail: z.string(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

/** Just enough of each format for its type to show in its first bytes. */
const samples = {
  png: Buffer.from(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
    "base64",
  ),
  mp4: Buffer.concat([
    Buffer.from([0, 0, 0, 0x18]),
    Buffer.from("ftypisom"),
    Buffer.from([0, 0, 2, 0]),
    Buffer.from("isomiso2"),
    Buffer.alloc(200),
  ]),
  mp3: Buffer.concat([
    Buffer.from("ID3"),
    Buffer.from([4, 0, 0, 0, 0, 0, 0, 0xff, 0xfb, 0x90, 0x64]),
    Buffer.alloc(400),
  ]),
  pdf: Buffer.from("%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n", "latin1"),
  webp: webp(300),
};

function webp(bytes: number): Buffer {
  const data = Buffer.alloc(bytes);
  data.write("RIFF", 0, "latin1");
  data.writeUInt32LE(bytes - 8, 4);
  data.write("WEBPVP8 ", 8, "latin1");
  return data;
}

/** Posts a multipart form as a browser or `curl -F` would. */
async function upload(
  tenantId: string,
  token: string,
  parts: { file?: { data: Buffer; type: string; name: string }; kind?: string; extra?: Record<string, string> },
) {
  const form = new FormData();
  if (parts.kind) form.append("kind", parts.kind);
  for (const [name, value] of Object.entries(parts.extra ?? {})) form.append(name, value);
  if (parts.file) {
    form.append("file", new Blob([new Uint8Array(parts.file.data)], { type: parts.file.type }), parts.file.name);
  }
  const response = await fetch(`${api.url}/v1/tenants/${tenantId}/media`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  return { status: response.status, body: (await response.json()) as unknown };
}

async function uploadsOf(tenantId: string): Promise<string[]> {
  const [files] = await bucket.getFiles({ prefix: `uploads/${tenantId}/` });
  return files.map((file) => file.name);
}

describe("POST /v1/tenants/{t}/media", () => {
  it("keeps a file of each kind, typed from its bytes (not from what the client declared)", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const cases = [
      { file: samples.png, type: "image/png", name: "dot.png", kind: undefined, expected: ["image", "image/png"] },
      { file: samples.mp4, type: "video/mp4", name: "clip.mp4", kind: "video", expected: ["video", "video/mp4"] },
      { file: samples.mp3, type: "audio/mpeg", name: "song.mp3", kind: "audio", expected: ["audio", "audio/mpeg"] },
      // A client's generic type does not matter: the bytes say PDF.
      {
        file: samples.pdf,
        type: "application/octet-stream",
        name: "invoice.pdf",
        kind: "document",
        expected: ["document", "application/pdf"],
      },
      { file: samples.webp, type: "image/webp", name: "s.webp", kind: undefined, expected: ["sticker", "image/webp"] },
    ];
    for (const c of cases) {
      const response = await upload(tenantId, owner.idToken, {
        file: { data: c.file, type: c.type, name: c.name },
        ...(c.kind ? { kind: c.kind } : {}),
      });
      expect(response.status, JSON.stringify(response.body)).toBe(201);
      const body = uploadSchema.parse(response.body);
      expect([body.kind, body.mimetype]).toEqual(c.expected);
      expect(body).toMatchObject({ bytes: c.file.length, fileName: c.name });
      expect(Date.parse(body.expiresAt)).toBeGreaterThan(Date.now() + 23 * 3_600_000);
      expect((await media.getUpload(tenantId, body.id))?.data.equals(c.file)).toBe(true);
    }
    expect(await uploadsOf(tenantId)).toHaveLength(cases.length);
  });

  it("refuses a file over its kind's limit while it arrives, with 413 naming the limit, and keeps nothing", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const big = Buffer.concat([samples.png, Buffer.alloc(mediaLimits.image.maxBytes)]);
    const response = await upload(tenantId, owner.idToken, { file: { data: big, type: "image/png", name: "big.png" } });
    expect(response.status).toBe(413);
    expect(problemSchema.parse(response.body)).toMatchObject({ code: "payload_too_large" });
    expect(problemSchema.parse(response.body).detail).toContain("16 MB");

    const sticker = await upload(tenantId, owner.idToken, {
      kind: "sticker",
      file: { data: webp(150 * 1024), type: "image/webp", name: "s.webp" },
    });
    expect(sticker.status).toBe(413);
    expect(problemSchema.parse(sticker.body).detail).toContain("100 KB");
    expect(await uploadsOf(tenantId)).toEqual([]);
  });

  it("refuses a type the kind does not take, naming what the file is", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const response = await upload(tenantId, owner.idToken, {
      kind: "video",
      file: { data: samples.png, type: "video/mp4", name: "fake.mp4" },
    });
    expect(response.status).toBe(400);
    const problem = problemSchema.parse(response.body);
    expect(problem.errors?.[0]?.path).toBe("body.file");
    expect(problem.detail).toContain("image/png");
    expect(await uploadsOf(tenantId)).toEqual([]);
  });

  it("names what is missing or wrong in the form", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const noFile = await upload(tenantId, owner.idToken, { kind: "image" });
    expect(noFile.status).toBe(400);
    expect(problemSchema.parse(noFile.body).errors?.[0]?.path).toBe("body.file");

    const badKind = await upload(tenantId, owner.idToken, {
      kind: "gif",
      file: { data: samples.png, type: "image/png", name: "a.png" },
    });
    expect(problemSchema.parse(badKind.body).errors?.[0]?.path).toBe("body.kind");

    const stray = await upload(tenantId, owner.idToken, {
      extra: { caption: "hi" },
      file: { data: samples.png, type: "image/png", name: "a.png" },
    });
    expect(problemSchema.parse(stray.body).errors?.[0]?.path).toBe("body.caption");

    const json = await http.post(`/tenants/${tenantId}/media`, { token: owner.idToken }, { file: "aGVsbG8=" });
    expect(json.status).toBe(400);
    expect(problemSchema.parse(json.body).errors?.[0]?.path).toBe("body");
    expect(await uploadsOf(tenantId)).toEqual([]);
  });

  it("lets only the tenant's own members upload", async () => {
    const { tenantId } = await ownerWithTenant(http);
    const stranger = await signUp();
    const response = await upload(tenantId, stranger.idToken, {
      file: { data: samples.png, type: "image/png", name: "a.png" },
    });
    expect([403, 404]).toContain(response.status);
    expect(await uploadsOf(tenantId)).toEqual([]);
  });
});

describe("under Cloud Functions, which read the body before the app", () => {
  it("takes the upload from the raw body the platform kept, with the same limits", async () => {
    const platform = await startTestApi({ platformReadsBody: true });
    const original = api;
    api = platform;
    try {
      const { owner, tenantId } = await ownerWithTenant(client(platform.url));
      const kept = await upload(tenantId, owner.idToken, {
        kind: "video",
        file: { data: samples.mp4, type: "video/mp4", name: "clip.mp4" },
      });
      expect(kept.status, JSON.stringify(kept.body)).toBe(201);
      expect(uploadSchema.parse(kept.body)).toMatchObject({ kind: "video", bytes: samples.mp4.length });
      const big = await upload(tenantId, owner.idToken, {
        kind: "sticker",
        file: { data: webp(600 * 1024), type: "image/webp", name: "big.webp" },
      });
      expect(big.status).toBe(413);
      expect(await uploadsOf(tenantId)).toHaveLength(1);
    } finally {
      api = original;
      await platform.close();
    }
  });
});

describe("sending an upload", () => {
  it("gives each send its own copy, so one upload can be sent many times", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const auth = { token: owner.idToken };
    const botId = botSchema.parse((await http.post(`/tenants/${tenantId}/bots`, auth, { name: "a" })).body).id;
    await http.post(`/tenants/${tenantId}/bots/${botId}/connect`, auth, { method: "qr" });
    const uploaded = await upload(tenantId, owner.idToken, {
      file: { data: samples.pdf, type: "application/pdf", name: "invoice.pdf" },
    });
    const { id } = uploadSchema.parse(uploaded.body);
    for (const to of ["6281111111111@s.whatsapp.net", "6282222222222@s.whatsapp.net"]) {
      const sent = await http.post(`/tenants/${tenantId}/bots/${botId}/messages`, auth, {
        to,
        content: { type: "document", media: { mediaId: id }, fileName: "invoice.pdf" },
      });
      expect(sent.status, JSON.stringify(sent.body)).toBe(202);
    }
    const [copies] = await bucket.getFiles({ prefix: `transit/${tenantId}/${botId}/` });
    expect(copies).toHaveLength(2);
    for (const copy of copies) expect((await copy.download())[0].equals(samples.pdf)).toBe(true);
    expect(await media.uploadInfo(tenantId, id)).toBeDefined();
  });
});

describe("GET /v1/tenants/{t}/bots/{b}/media/{id}", () => {
  it("serves a received message's media with its type, never as a page, and 404 once gone", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const created = await http.post(
      `/tenants/${tenantId}/bots`,
      { token: owner.idToken },
      { name: "Inbox", transport: "simulator" },
    );
    const botId = botSchema.parse(created.body).id;
    await media.putInbound({ tenantId, botId }, "in-abc", { mimetype: "audio/ogg", data: samples.mp3 });

    const response = await fetch(`${api.url}/v1/tenants/${tenantId}/bots/${botId}/media/in-abc`, {
      headers: { authorization: `Bearer ${owner.idToken}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("audio/ogg");
    expect(response.headers.get("content-disposition")).toBe("attachment");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(Buffer.from(await response.arrayBuffer()).equals(samples.mp3)).toBe(true);

    const missing = await http.get(`/tenants/${tenantId}/bots/${botId}/media/in-none`, { token: owner.idToken });
    expect(missing.status).toBe(404);
    const outside = await http.get(`/tenants/${tenantId}/bots/${botId}/media/..%2Fx`, { token: owner.idToken });
    expect(outside.status).toBe(400);

    // Another tenant's owner, even naming this tenant's bot and media, gets nothing.
    const other = await ownerWithTenant(http);
    const foreign = await http.get(`/tenants/${tenantId}/bots/${botId}/media/in-abc`, { token: other.owner.idToken });
    expect([403, 404]).toContain(foreign.status);
    const ownTenant = await http.get(`/tenants/${other.tenantId}/bots/${botId}/media/in-abc`, {
      token: other.owner.idToken,
    });
    expect(ownTenant.status).toBe(404);
  });
});
