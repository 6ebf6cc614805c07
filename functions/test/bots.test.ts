import { outboxItemSchema } from "@whatsdex/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { botSchema, queuedSchema } from "../src/bots/dto.ts";
import { pageOf, problemSchema } from "../src/http/schemas.ts";
import { ownerWithTenant } from "./support/fixtures.ts";
import { client, startTestApi, type TestApi } from "./support/test-api.ts";

let api: TestApi;
let http: ReturnType<typeof client>;
beforeAll(async () => {
  api = await startTestApi();
  http = client(api.url);
});
afterAll(() => api.close());

async function setPlan(tenantId: string, plan: string): Promise<void> {
  await api.firebase.firestore.doc(`tenants/${tenantId}`).update({ plan });
}

async function outbox(tenantId: string, botId: string) {
  const snapshot = await api.firebase.firestore.collection(`tenants/${tenantId}/bots/${botId}/outbox`).get();
  return snapshot.docs.map((doc) => ({ id: doc.id, ...outboxItemSchema.parse(doc.data()) }));
}

describe("bots", () => {
  it("creates, reads, lists, updates and deletes a bot", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const auth = { token: owner.idToken };
    const created = await http.post(`/tenants/${tenantId}/bots`, auth, {
      name: "Support",
      transport: "simulator",
      settings: { prefixes: ["#"], language: "id" },
    });
    expect(created.status).toBe(201);
    const bot = botSchema.parse(created.body);
    expect(bot).toMatchObject({
      name: "Support",
      transport: "simulator",
      desiredState: "stopped",
      status: { state: "stopped" },
      settings: { prefixes: ["#"], language: "id", mode: "public" },
    });

    expect(botSchema.parse((await http.get(`/tenants/${tenantId}/bots/${bot.id}`, auth)).body).id).toBe(bot.id);
    const list = pageOf(botSchema).parse((await http.get(`/tenants/${tenantId}/bots`, auth)).body);
    expect(list.items.map((b) => b.id)).toEqual([bot.id]);

    const patched = await http.patch(`/tenants/${tenantId}/bots/${bot.id}`, auth, {
      name: "Helpdesk",
      settings: { mode: "group", owners: ["+62 812-3456-7890"] },
    });
    expect(botSchema.parse(patched.body)).toMatchObject({
      name: "Helpdesk",
      settings: { prefixes: ["#"], mode: "group", owners: ["6281234567890"] },
    });

    expect((await http.delete(`/tenants/${tenantId}/bots/${bot.id}`, auth)).status).toBe(204);
    expect((await http.get(`/tenants/${tenantId}/bots/${bot.id}`, auth)).status).toBe(404);
    expect((await api.firebase.firestore.doc(`tenants/${tenantId}`).get()).get("botCount")).toBe(0);
    expect((await http.delete(`/tenants/${tenantId}/bots/${bot.id}`, auth)).status).toBe(404);
  });

  it("rejects invalid settings, naming each bad field, and writes nothing", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const response = await http.post(
      `/tenants/${tenantId}/bots`,
      { token: owner.idToken },
      { name: "", settings: { prefixes: ["too long"], mode: "loud", unknown: 1 } },
    );
    expect(response.status).toBe(400);
    const paths = problemSchema.parse(response.body).errors?.map((e) => e.path);
    expect(paths).toEqual(
      expect.arrayContaining(["body.name", "body.settings.prefixes[0]", "body.settings.mode", "body.settings"]),
    );
    expect((await api.firebase.firestore.collection(`tenants/${tenantId}/bots`).get()).size).toBe(0);
  });

  it("enforces the plan's bot limit transactionally: 20 concurrent creates at a limit of 3 make exactly 3", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    await setPlan(tenantId, "starter");
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        http.post(`/tenants/${tenantId}/bots`, { token: owner.idToken }, { name: `bot ${i}`, transport: "simulator" }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(3);
    expect(statuses.filter((s) => s === 403)).toHaveLength(17);
    const refused = results.find((r) => r.status === 403);
    expect(problemSchema.parse(refused?.body)).toMatchObject({
      code: "plan_limit",
      details: { limit: 3, plan: "starter" },
    });
    expect((await api.firebase.firestore.collection(`tenants/${tenantId}/bots`).get()).size).toBe(3);
    expect((await api.firebase.firestore.doc(`tenants/${tenantId}`).get()).get("botCount")).toBe(3);
  });

  it("frees the plan slot when a bot is deleted", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const auth = { token: owner.idToken };
    const first = botSchema.parse((await http.post(`/tenants/${tenantId}/bots`, auth, { name: "a" })).body);
    expect((await http.post(`/tenants/${tenantId}/bots`, auth, { name: "b" })).status).toBe(403);
    await http.delete(`/tenants/${tenantId}/bots/${first.id}`, auth);
    expect((await http.post(`/tenants/${tenantId}/bots`, auth, { name: "b" })).status).toBe(201);
  });

  it("refuses the simulator transport where it is not allowed", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const response = await http.post(
      `/tenants/${tenantId}/bots`,
      { token: owner.idToken },
      { name: "x", transport: "fax" },
    );
    expect(problemSchema.parse(response.body).errors?.[0]?.path).toBe("body.transport");
  });

  it("turns connect, disconnect and logout into desired state plus an outbox command", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const auth = { token: owner.idToken };
    const bot = botSchema.parse((await http.post(`/tenants/${tenantId}/bots`, auth, { name: "a" })).body);
    const base = `/tenants/${tenantId}/bots/${bot.id}`;

    const connect = await http.post(`${base}/connect`, auth, {
      method: "pairing_code",
      phoneNumber: "+62 812 3456 7890",
    });
    expect(connect.status).toBe(202);
    expect(queuedSchema.parse(connect.body)).toMatchObject({ kind: "connect", status: "pending" });
    expect(botSchema.parse((await http.get(base, auth)).body)).toMatchObject({
      desiredState: "running",
      connectMethod: "pairing_code",
      phoneNumber: "6281234567890",
    });

    expect((await http.post(`${base}/connect`, auth, { method: "pairing_code" })).status).toBe(400);
    expect((await http.post(`${base}/disconnect`, auth)).status).toBe(202);
    expect(botSchema.parse((await http.get(base, auth)).body).desiredState).toBe("stopped");
    expect((await http.post(`${base}/logout`, auth, { force: true })).status).toBe(400);
    expect((await http.post(`${base}/logout`, auth)).status).toBe(202);

    const items = await outbox(tenantId, bot.id);
    expect(items.map((i) => i.kind).sort()).toEqual(["connect", "disconnect", "logout"]);
    expect(items.find((i) => i.kind === "connect")).toMatchObject({
      method: "pairing_code",
      phoneNumber: "6281234567890",
    });
    expect(items.every((i) => i.requestedBy === `user:${owner.uid}`)).toBe(true);
  });

  it("queues messages once per Idempotency-Key and refuses a reused key with another body", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const auth = { token: owner.idToken };
    const bot = botSchema.parse((await http.post(`/tenants/${tenantId}/bots`, auth, { name: "a" })).body);
    const path = `/tenants/${tenantId}/bots/${bot.id}/messages`;
    const message = { to: "+62 812 3456 7890", content: { type: "text", text: "Hello" } };

    const stopped = await http.post(path, auth, message);
    expect(stopped.status).toBe(409);
    expect(problemSchema.parse(stopped.body).code).toBe("conflict");

    await http.post(`/tenants/${tenantId}/bots/${bot.id}/connect`, auth, { method: "qr" });
    const headers = { "idempotency-key": "order-1234" };
    const [first, retry] = await Promise.all([
      http.post(path, auth, message, headers),
      http.post(path, auth, message, headers),
    ]);
    expect([first.status, retry.status]).toEqual([202, 202]);
    expect(queuedSchema.parse(first.body).id).toBe(queuedSchema.parse(retry.body).id);
    expect([first.headers.get("idempotent-replayed"), retry.headers.get("idempotent-replayed")]).toContain("true");

    const other = await http.post(path, auth, { ...message, content: { type: "text", text: "Bye" } }, headers);
    expect(other.status).toBe(409);
    const unkeyed = await http.post(path, auth, message);
    expect(queuedSchema.parse(unkeyed.body).id).not.toBe(queuedSchema.parse(first.body).id);

    const sends = (await outbox(tenantId, bot.id)).filter((i) => i.kind === "send");
    expect(sends).toHaveLength(2);
    expect(sends[0]).toMatchObject({ to: "6281234567890@s.whatsapp.net", content: { type: "text", text: "Hello" } });
  });

  it("rejects recipients that are not WhatsApp addresses", async () => {
    const { owner, tenantId } = await ownerWithTenant(http);
    const auth = { token: owner.idToken };
    const bot = botSchema.parse((await http.post(`/tenants/${tenantId}/bots`, auth, { name: "a" })).body);
    await http.post(`/tenants/${tenantId}/bots/${bot.id}/connect`, auth, { method: "qr" });
    for (const to of ["hello", "123", "status@broadcast", "1234567@s.whatsapp.net.evil"]) {
      const response = await http.post(`/tenants/${tenantId}/bots/${bot.id}/messages`, auth, {
        to,
        content: { type: "text", text: "x" },
      });
      expect(response.status, to).toBe(400);
      expect(problemSchema.parse(response.body).errors?.[0]?.path).toBe("body.to");
    }
  });
});
