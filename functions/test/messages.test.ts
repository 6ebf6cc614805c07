import { LeaseStore, leaseFence, OutboxService, outboxItemSchema } from "@whatsdex/core";
import { testBucket } from "@whatsdex/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { botSchema, messageSchema, queuedSchema } from "../src/bots/dto.ts";
import { problemSchema } from "../src/http/schemas.ts";
import { ownerWithTenant } from "./support/fixtures.ts";
import { client, startTestApi, type TestApi } from "./support/test-api.ts";

let api: TestApi;
let http: ReturnType<typeof client>;
beforeAll(async () => {
  api = await startTestApi();
  http = client(api.url);
});
afterAll(() => api.close());

const ALICE = "6281111111111@s.whatsapp.net";
const bucket = testBucket();

/** Just enough of each format for its type to show in its first bytes (uploads are typed from them). */
const samples = {
  png: {
    data: Buffer.from(
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
      "base64",
    ),
    type: "image/png",
    name: "dot.png",
  },
  mp4: {
    data: Buffer.concat([
      Buffer.from([0, 0, 0, 0x18]),
      Buffer.from("ftypisom"),
      Buffer.from([0, 0, 2, 0]),
      Buffer.from("isomiso2"),
      Buffer.alloc(200),
    ]),
    type: "video/mp4",
    name: "clip.mp4",
  },
  mp3: {
    data: Buffer.concat([
      Buffer.from("ID3"),
      Buffer.from([4, 0, 0, 0, 0, 0, 0, 0xff, 0xfb, 0x90, 0x64]),
      Buffer.alloc(400),
    ]),
    type: "audio/mpeg",
    name: "note.mp3",
  },
  pdf: {
    data: Buffer.from("%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n", "latin1"),
    type: "application/pdf",
    name: "invoice.pdf",
  },
  webp: { data: webp(300), type: "image/webp", name: "sticker.webp" },
};

function webp(bytes: number): Buffer {
  const data = Buffer.alloc(bytes);
  data.write("RIFF", 0, "latin1");
  data.writeUInt32LE(bytes - 8, 4);
  data.write("WEBPVP8 ", 8, "latin1");
  return data;
}

/** Uploads a file as `curl -F file=@…` would; its id. */
async function upload(tenantId: string, token: string, file: { data: Buffer; type: string; name: string }) {
  const form = new FormData();
  form.append("file", new Blob([new Uint8Array(file.data)], { type: file.type }), file.name);
  const response = await fetch(`${api.url}/v1/tenants/${tenantId}/media`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  expect(response.status).toBe(201);
  return z.object({ id: z.string() }).parse(await response.json()).id;
}

/** The bot's copies of sends' media. */
async function copiesOf(tenantId: string, botId: string): Promise<Buffer[]> {
  const [files] = await bucket.getFiles({ prefix: `transit/${tenantId}/${botId}/` });
  return Promise.all(files.map(async (file) => (await file.download())[0]));
}
const VCARD =
  "BEGIN:VCARD\nVERSION:3.0\nFN:Budi Santoso\nTEL;type=CELL;waid=6281234500000:+62 812 3450 0000\nEND:VCARD";

/** A tenant with a connected (running) bot, its messages path and the owner's credential. */
async function runningBot() {
  const { owner, tenantId } = await ownerWithTenant(http);
  const auth = { token: owner.idToken };
  const bot = botSchema.parse((await http.post(`/tenants/${tenantId}/bots`, auth, { name: "a" })).body);
  await http.post(`/tenants/${tenantId}/bots/${bot.id}/connect`, auth, { method: "qr" });
  const path = `/tenants/${tenantId}/bots/${bot.id}/messages`;
  const outbox = async () => {
    const snapshot = await api.firebase.firestore.collection(`tenants/${tenantId}/bots/${bot.id}/outbox`).get();
    return snapshot.docs
      .map((doc) => ({ id: doc.id, ...outboxItemSchema.parse(doc.data()) }))
      .filter((item) => item.kind === "send");
  };
  return { tenantId, botId: bot.id, auth, token: owner.idToken, path, outbox };
}

describe("sending every message type through the API", () => {
  it("accepts text with mentions and a reply, location, contact and reaction, storing each as the runner sends it", async () => {
    const { auth, path, outbox } = await runningBot();
    const contents = [
      { type: "text", text: "Hi @6282222222222", mentions: ["6282222222222@s.whatsapp.net"], quotedId: "3EB0ABC123" },
      { type: "location", latitude: -6.2, longitude: 106.816666, name: "Monas", address: "Gambir, Jakarta" },
      { type: "contact", displayName: "Budi Santoso", vcard: VCARD },
      { type: "reaction", emoji: "👍", target: { id: "3EB0ABC123", fromMe: false } },
      { type: "reaction", emoji: "", target: { id: "3EB0ABC124", fromMe: true } },
      { type: "reaction", emoji: "🇮🇩", target: { id: "3EB0ABC125", fromMe: false } },
    ];
    for (const content of contents) {
      const response = await http.post(path, auth, { to: ALICE, content });
      expect(response.status, JSON.stringify(content)).toBe(202);
      expect(queuedSchema.parse(response.body)).toMatchObject({ kind: "send", status: "pending" });
    }
    const stored = await outbox();
    expect(stored.map((item) => item.kind === "send" && item.content)).toEqual(
      expect.arrayContaining(contents.map((content) => expect.objectContaining(content))),
    );
  });

  it("refuses invalid content with a 400 naming the field, queuing nothing", async () => {
    const { auth, path, outbox } = await runningBot();
    const cases: Array<[unknown, string]> = [
      [{ type: "location", latitude: 91, longitude: 0 }, "body.content.latitude"],
      [{ type: "location", latitude: 0, longitude: -180.5 }, "body.content.longitude"],
      [{ type: "contact", displayName: "Budi", vcard: "FN:Budi\nEND:VCARD" }, "body.content.vcard"],
      [{ type: "contact", displayName: "Budi", vcard: "BEGIN:VCARD\nVERSION:3.0\nFN:B" }, "body.content.vcard"],
      [{ type: "reaction", emoji: "👍👍", target: { id: "3EB0ABC123", fromMe: false } }, "body.content.emoji"],
      [{ type: "reaction", emoji: "ok", target: { id: "3EB0ABC123", fromMe: false } }, "body.content.emoji"],
      [{ type: "reaction", emoji: "👍", target: { id: "not an id!", fromMe: false } }, "body.content.target.id"],
      [{ type: "text", text: "hi", mentions: ["everyone"] }, "body.content.mentions[0]"],
      [{ type: "image", media: { url: "http://example.com/a.png" } }, "body.content.media.url"],
      [{ type: "image", media: { url: "https://127.0.0.1/a.png" } }, "body.content.media.url"],
      [{ type: "image", media: { url: "https://169.254.169.254/latest" } }, "body.content.media.url"],
      [{ type: "image", media: { url: "https://metadata.google.internal/x" } }, "body.content.media.url"],
      [{ type: "image", media: { url: "https://[::1]/a.png" } }, "body.content.media.url"],
      [{ type: "image", media: { url: "https://user:pw@example.com/a.png" } }, "body.content.media.url"],
      [{ type: "image", media: {} }, "body.content.media"],
      [{ type: "document", media: { mediaId: "up1" }, fileName: "../etc/passwd" }, "body.content.fileName"],
      [{ type: "video", media: { mediaId: "up1" }, gifPlayback: "yes" }, "body.content.gifPlayback"],
    ];
    for (const [content, field] of cases) {
      const response = await http.post(path, auth, { to: ALICE, content });
      expect(response.status, JSON.stringify(content)).toBe(400);
      expect(
        problemSchema.parse(response.body).errors?.map((e) => e.path),
        JSON.stringify(content),
      ).toContain(field);
    }
    // In a group, a reaction to someone else's message must say whose it was.
    const group = await http.post(path, auth, {
      to: "120363000000000001@g.us",
      content: { type: "reaction", emoji: "👍", target: { id: "3EB0ABC123", fromMe: false } },
    });
    expect(group.status).toBe(400);
    expect(problemSchema.parse(group.body).errors?.[0]?.path).toBe("body.content.target.participant");
    expect(await outbox()).toHaveLength(0);
  });

  it("keeps Idempotency-Key semantics for every type: the same body replays, another is refused", async () => {
    const { auth, path, outbox } = await runningBot();
    const body = { to: ALICE, content: { type: "location", latitude: 1.5, longitude: 2.5 } };
    const headers = { "idempotency-key": "where-1" };
    const first = await http.post(path, auth, body, headers);
    const retry = await http.post(path, auth, body, headers);
    expect([first.status, retry.status]).toEqual([202, 202]);
    expect(queuedSchema.parse(retry.body).id).toBe(queuedSchema.parse(first.body).id);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    const other = await http.post(path, auth, { ...body, content: { ...body.content, latitude: 1.6 } }, headers);
    expect(other.status).toBe(409);
    expect(await outbox()).toHaveLength(1);
  });
});

describe("sending media through the API", () => {
  it("sends each kind from an upload, as the bot's own copy of it", async () => {
    const { tenantId, botId, auth, token, path, outbox } = await runningBot();
    const ids = {
      png: await upload(tenantId, token, samples.png),
      mp4: await upload(tenantId, token, samples.mp4),
      mp3: await upload(tenantId, token, samples.mp3),
      pdf: await upload(tenantId, token, samples.pdf),
      webp: await upload(tenantId, token, samples.webp),
    };
    const contents = [
      { type: "image", media: { mediaId: ids.png }, caption: "Receipt", mentions: [ALICE] },
      { type: "video", media: { mediaId: ids.mp4 }, caption: "Unboxing", gifPlayback: true },
      { type: "audio", media: { mediaId: ids.mp3 }, voiceNote: true },
      { type: "document", media: { mediaId: ids.pdf }, fileName: "invoice-0042.pdf", caption: "Invoice" },
      { type: "sticker", media: { mediaId: ids.webp } },
      // A photo may go out as a document.
      { type: "document", media: { mediaId: ids.png }, fileName: "photo.png", quotedId: "3EB0ABC123" },
    ];
    for (const content of contents) {
      const response = await http.post(path, auth, { to: ALICE, content });
      expect(response.status, JSON.stringify(response.body)).toBe(202);
    }
    const stored = await outbox();
    expect(stored).toHaveLength(contents.length);
    for (const item of stored) {
      if (item.kind !== "send" || !("mediaId" in item.content)) throw new Error("a media send without media");
      expect(item.content.mediaId).toBe(`${item.id}-media`);
    }
    expect(stored.map((item) => item.kind === "send" && item.content)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: "image", caption: "Receipt", mentions: [ALICE] }),
        expect.objectContaining({ type: "video", caption: "Unboxing", gifPlayback: true }),
        expect.objectContaining({ type: "audio", voiceNote: true }),
        expect.objectContaining({ type: "document", fileName: "invoice-0042.pdf", caption: "Invoice" }),
        expect.objectContaining({ type: "sticker", animated: false }),
        expect.objectContaining({ type: "document", fileName: "photo.png", caption: null, quotedId: "3EB0ABC123" }),
      ]),
    );
    const copies = await copiesOf(tenantId, botId);
    expect(copies).toHaveLength(contents.length);
    for (const sample of [samples.png, samples.mp4, samples.mp3, samples.pdf, samples.webp]) {
      expect(copies.some((copy) => copy.equals(sample.data))).toBe(true);
    }
  });

  it("refuses an unknown upload, or one that is not of the kind sent, naming the field and keeping nothing", async () => {
    const { tenantId, botId, auth, token, path, outbox } = await runningBot();
    const pdf = await upload(tenantId, token, samples.pdf);
    const cases: Array<[unknown, number]> = [
      [{ type: "image", media: { mediaId: "no-such-upload" } }, 400],
      [{ type: "image", media: { mediaId: pdf } }, 400],
      [{ type: "sticker", media: { mediaId: pdf } }, 400],
      [{ type: "audio", media: { mediaId: pdf }, voiceNote: true }, 400],
    ];
    for (const [content, status] of cases) {
      const response = await http.post(path, auth, { to: ALICE, content });
      expect(response.status, JSON.stringify(content)).toBe(status);
      expect(problemSchema.parse(response.body).errors?.[0]?.path).toBe("body.content.media.mediaId");
    }
    // Another tenant's upload is no upload of this one.
    const other = await ownerWithTenant(http);
    const theirs = await upload(other.tenantId, other.owner.idToken, samples.png);
    const foreign = await http.post(path, auth, { to: ALICE, content: { type: "image", media: { mediaId: theirs } } });
    expect(foreign.status).toBe(400);
    expect(await outbox()).toHaveLength(0);
    expect(await copiesOf(tenantId, botId)).toHaveLength(0);
  });

  it("keeps Idempotency-Key semantics for a media send: one item, one copy; another body is refused", async () => {
    const { tenantId, botId, auth, token, path, outbox } = await runningBot();
    const png = await upload(tenantId, token, samples.png);
    const body = { to: ALICE, content: { type: "image", media: { mediaId: png }, caption: "Receipt" } };
    const headers = { "idempotency-key": "receipt-77" };
    const first = await http.post(path, auth, body, headers);
    const retry = await http.post(path, auth, body, headers);
    expect([first.status, retry.status]).toEqual([202, 202]);
    expect(queuedSchema.parse(retry.body).id).toBe(queuedSchema.parse(first.body).id);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    const other = await http.post(path, auth, { ...body, content: { ...body.content, caption: "Other" } }, headers);
    expect(other.status).toBe(409);
    expect(await outbox()).toHaveLength(1);
    expect(await copiesOf(tenantId, botId)).toHaveLength(1);
  });

  it("deletes the copy when the send is refused after it was made (a stopped bot)", async () => {
    const { tenantId, botId, auth, token, path, outbox } = await runningBot();
    const png = await upload(tenantId, token, samples.png);
    await http.post(`/tenants/${tenantId}/bots/${botId}/disconnect`, auth);
    const refused = await http.post(path, auth, { to: ALICE, content: { type: "image", media: { mediaId: png } } });
    expect(refused.status).toBe(409);
    expect(await outbox()).toHaveLength(0);
    expect(await copiesOf(tenantId, botId)).toHaveLength(0);
  });
});

describe("GET a message's status", () => {
  it("reports queued, then sent with the WhatsApp id, then delivered and read from the runner's receipts", async () => {
    const { tenantId, botId, auth, path } = await runningBot();
    const queued = queuedSchema.parse(
      (await http.post(path, auth, { to: ALICE, content: { type: "text", text: "hi" } })).body,
    );
    const get = async () => {
      const response = await http.get(`${path}/${queued.id}`, auth);
      expect(response.status).toBe(200);
      return messageSchema.parse(response.body);
    };
    expect(await get()).toMatchObject({
      id: queued.id,
      to: ALICE,
      type: "text",
      status: "queued",
      error: null,
      whatsappMessageId: null,
      sentAt: null,
      deliveredAt: null,
      readAt: null,
    });

    // What the bot's runner does with it (the same outbox service, under the bot's lease).
    const db = api.firebase.firestore;
    const leases = new LeaseStore(db, { ttlMs: 30_000 });
    const lease = await leases.acquire({ tenantId, botId }, "runner-test");
    if (!lease) throw new Error("no lease");
    const fence = leaseFence(leases, lease);
    const outbox = new OutboxService(db, { newMessageId: () => "3EB0FEEDFACE0001", deadlineMs: 30_000 });
    await outbox.claim(lease, fence, queued.id);
    expect((await get()).status).toBe("sending");
    await outbox.complete(lease, fence, queued.id, { status: "done" });
    const sent = await get();
    expect(sent).toMatchObject({ status: "sent", whatsappMessageId: "3EB0FEEDFACE0001" });
    expect(sent.sentAt).not.toBeNull();

    expect(await outbox.findSend(lease, "3EB0FEEDFACE0001")).toBe(queued.id);
    await outbox.recordReceipt(lease, fence, queued.id, "delivered", Date.now());
    expect((await get()).status).toBe("delivered");
    await outbox.recordReceipt(lease, fence, queued.id, "read", Date.now());
    expect(await outbox.recordReceipt(lease, fence, queued.id, "delivered", Date.now())).toBeUndefined();
    const read = await get();
    expect(read.status).toBe("read");
    expect(read.deliveredAt).not.toBeNull();
    expect(read.readAt).not.toBeNull();
  });

  it("answers 404 for an id that is not a message (a connect command, or nothing)", async () => {
    const { auth, path, tenantId, botId } = await runningBot();
    const connect = queuedSchema.parse(
      (await http.post(`/tenants/${tenantId}/bots/${botId}/connect`, auth, { method: "qr" })).body,
    );
    for (const id of [connect.id, "nope"]) {
      const response = await http.get(`${path}/${id}`, auth);
      expect(response.status).toBe(404);
      expect(problemSchema.parse(response.body).code).toBe("not_found");
    }
  });
});
