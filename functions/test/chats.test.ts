import { MessageStore } from "@whatsdex/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { botSchema } from "../src/bots/dto.ts";
import { chatSchema, storedMessageSchema } from "../src/chats/routes.ts";
import { pageOf } from "../src/http/schemas.ts";
import { ownerWithTenant } from "./support/fixtures.ts";
import { client, signUp, startTestApi, type TestApi } from "./support/test-api.ts";

let api: TestApi;
let http: ReturnType<typeof client>;
beforeAll(async () => {
  api = await startTestApi();
  http = client(api.url);
});
afterAll(() => api.close());

const ALICE = { lid: "111222333444555@lid", pn: "6281111111111@s.whatsapp.net", name: "Alice" };
const GROUP = "120363000000000001@g.us";

async function botOf(tenantId: string, token: string) {
  const created = await http.post(`/tenants/${tenantId}/bots`, { token }, { name: "Store", transport: "simulator" });
  return botSchema.parse(created.body).id;
}

describe("the message store through the API", () => {
  it("lists chats by latest activity and a chat's messages newest first, page by page", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const auth = { token: owner.idToken };
    const botId = await botOf(tenantId, owner.idToken);
    const store = new MessageStore(api.firebase.firestore);
    const bot = { tenantId, botId };
    const t0 = Date.parse("2026-12-01T10:00:00Z");
    for (let i = 0; i < 3; i++) {
      await store.record(
        bot,
        {
          chat: ALICE.lid,
          messageId: `IN${i}`,
          direction: "in",
          from: ALICE,
          content: { type: "text", text: `hello ${i}` },
          quotedId: null,
          sentAtMs: t0 + i * 1_000,
        },
        30,
      );
    }
    await store.record(
      bot,
      {
        chat: GROUP,
        messageId: "OUT1",
        direction: "out",
        from: null,
        content: { type: "image", caption: "a chart", mediaId: null, mimetype: "image/png", bytes: 10 },
        quotedId: "IN1",
        sentAtMs: t0 + 10_000,
      },
      30,
    );

    const chats = pageOf(chatSchema).parse((await http.get(`/tenants/${tenantId}/bots/${botId}/chats`, auth)).body);
    expect(chats.items).toEqual([
      {
        jid: GROUP,
        type: "group",
        lastMessageAt: new Date(t0 + 10_000).toISOString(),
        lastMessage: { direction: "out", type: "image", preview: "a chart" },
      },
      {
        jid: ALICE.lid,
        type: "private",
        lastMessageAt: new Date(t0 + 2_000).toISOString(),
        lastMessage: { direction: "in", type: "text", preview: "hello 2" },
      },
    ]);

    const path = `/tenants/${tenantId}/bots/${botId}/chats/${encodeURIComponent(ALICE.lid)}/messages`;
    const first = pageOf(storedMessageSchema).parse((await http.get(`${path}?limit=2`, auth)).body);
    expect(first.items.map((m) => m.id)).toEqual(["IN2", "IN1"]);
    expect(first.items[0]).toEqual({
      id: "IN2",
      direction: "in",
      from: ALICE,
      content: { type: "text", text: "hello 2" },
      quotedId: null,
      sentAt: new Date(t0 + 2_000).toISOString(),
      expiresAt: new Date(t0 + 2_000 + 30 * 86_400_000).toISOString(),
    });
    const rest = pageOf(storedMessageSchema).parse((await http.get(`${path}?cursor=${first.nextCursor}`, auth)).body);
    expect(rest.items.map((m) => m.id)).toEqual(["IN0"]);
    expect(rest.nextCursor).toBeNull();

    // A chat the store never saw (or whose messages expired): no messages. Not a chat's JID: 400.
    const unknown = await http.get(
      `/tenants/${tenantId}/bots/${botId}/chats/${encodeURIComponent("6289999999999@s.whatsapp.net")}/messages`,
      auth,
    );
    expect(unknown.body).toEqual({ items: [], nextCursor: null });
    const broadcast = await http.get(`/tenants/${tenantId}/bots/${botId}/chats/status@broadcast/messages`, auth);
    expect(broadcast.status).toBe(400);
    expect(JSON.stringify(broadcast.body)).toContain("path.chat");
  });

  it("shows chats to owners and message-scoped keys, not to viewers, read-only keys or other tenants", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const botId = await botOf(tenantId, owner.idToken);
    const path = `/tenants/${tenantId}/bots/${botId}/chats`;
    const keyOf = async (scopes: string[]) =>
      z
        .object({ key: z.string() })
        .parse((await http.post(`/tenants/${tenantId}/api-keys`, { token: owner.idToken }, { name: "k", scopes })).body)
        .key;
    expect((await http.get(path, { apiKey: await keyOf(["messages"]) })).status).toBe(200);
    expect((await http.get(path, { apiKey: await keyOf(["read"]) })).status).toBe(403);

    const viewer = await signUp();
    const added = await http.post(
      `/tenants/${tenantId}/members`,
      { token: owner.idToken },
      { uid: viewer.uid, role: "viewer" },
    );
    expect(added.status).toBe(201);
    expect((await http.get(path, { token: viewer.idToken })).status).toBe(403);

    const other = await ownerWithTenant(http);
    expect((await http.get(path, { token: other.owner.idToken })).status).toBe(404);
    // Another tenant's owner naming their own tenant but this bot: the bot is not theirs.
    expect(
      (await http.get(`/tenants/${other.tenantId}/bots/${botId}/chats`, { token: other.owner.idToken })).status,
    ).toBe(404);
  });
});
