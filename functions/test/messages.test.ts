import { LeaseStore, leaseFence, OutboxService, outboxItemSchema } from "@whatsdex/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
  return { tenantId, botId: bot.id, auth, path, outbox };
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
