import { afterAll, describe, expect, it } from "vitest";
import { AccessCache } from "../src/access/access-cache.ts";
import { AccessService } from "../src/access/access-service.ts";
import { BotService } from "../src/bots/bot-service.ts";
import { createRefs } from "../src/firestore/refs.ts";
import { MediaStore } from "../src/media/media-store.ts";
import { tenantExportSchema } from "../src/tenants/export-schema.ts";
import { TenantExport } from "../src/tenants/tenant-export.ts";
import { TenantService } from "../src/tenants/tenant-service.ts";
import { testBucket, testFirebase, uniqueId } from "../src/testing/index.ts";

const firebase = testFirebase();
const db = firebase.firestore;
const refs = createRefs(db);
const media = new MediaStore(testBucket());
afterAll(() => firebase.close());

async function collect(pieces: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const piece of pieces) out.push(piece);
  return out;
}

describe("a tenant's export", () => {
  it("reads every collection in pages and writes a document the schema accepts, with every item and no secret", async () => {
    const principal = { kind: "user" as const, uid: uniqueId("owner"), email: "o@example.test" };
    const { id: tenantId } = await new TenantService(refs).create(principal, { name: "Paged" });
    await refs.tenant(tenantId).update({ plan: "business" });
    const access = await new AccessService(refs, new AccessCache({ ttlMs: 0 })).require(
      principal,
      tenantId,
      "bots:write",
    );
    const bots = new BotService(refs, { allowSimulator: true });
    const botIds: string[] = [];
    for (let b = 0; b < 3; b++) {
      const { id } = await bots.create(access, { name: `bot ${b}`, transport: "simulator" });
      botIds.push(id);
      const batch = db.batch();
      for (let c = 0; c < 5; c++)
        batch.set(db.doc(`tenants/${tenantId}/bots/${id}/contacts/lid:10000000000${c}`), { n: c });
      batch.set(db.doc(`tenants/${tenantId}/bots/${id}/auth/creds`), { signedIdentityKey: "SIGNAL-PRIVATE" });
      batch.set(db.doc(`tenants/${tenantId}/bots/${id}/chats/pn-6281234567890`), { jid: "x" });
      for (let m = 0; m < 3; m++) {
        batch.set(db.doc(`tenants/${tenantId}/bots/${id}/chats/pn-6281234567890/messages/m${m}`), { text: `hi ${m}` });
      }
      await batch.commit();
    }
    for (let d = 1; d <= 5; d++) await db.doc(`tenants/${tenantId}/usage/2026-12-0${d}`).set({ messages: d });
    // Campaign data: contacts (and an import's report), a template, campaigns with their recipients.
    for (let c = 0; c < 3; c++) await db.doc(`tenants/${tenantId}/contacts/pn:628120000000${c}`).set({ name: `c${c}` });
    await db.doc(`tenants/${tenantId}/contactImports/imp-1`).set({ rows: 3 });
    await db.doc(`tenants/${tenantId}/templates/tpl-1`).set({ body: "Hi" });
    for (const campaign of ["cmp-1", "cmp-2"]) {
      await db.doc(`tenants/${tenantId}/campaigns/${campaign}`).set({ name: campaign });
      for (let r = 0; r < 3; r++) {
        await db
          .doc(`tenants/${tenantId}/campaigns/${campaign}/recipients/pn:628120000000${r}`)
          .set({ status: "sent" });
      }
    }
    for (let u = 0; u < 5; u++)
      await media.putUpload(tenantId, `up-${u}`, { mimetype: "image/png", data: Buffer.from("x") });

    const pieces = await collect(await new TenantExport(refs, media, { pageSize: 2 }).open(tenantId));
    const text = pieces.join("");
    const exported = tenantExportSchema.parse(JSON.parse(text));
    expect(exported.bots.map((b) => b.id).sort()).toEqual([...botIds].sort());
    for (const bot of exported.bots) {
      expect(bot.contacts).toHaveLength(5);
      expect(bot.chats).toHaveLength(1);
      expect(bot.chats[0]?.messages.map((m) => m.text)).toEqual(["hi 0", "hi 1", "hi 2"]);
    }
    expect(exported.usage.map((u) => u.id)).toEqual([
      "2026-12-01",
      "2026-12-02",
      "2026-12-03",
      "2026-12-04",
      "2026-12-05",
    ]);
    expect(exported.media.filter((m) => m.kind === "uploads")).toHaveLength(5);
    expect(exported.contacts).toHaveLength(3);
    expect(exported.contactImports.map((i) => i.id)).toEqual(["imp-1"]);
    expect(exported.templates.map((t) => t.id)).toEqual(["tpl-1"]);
    expect(exported.campaigns.map((c) => c.id)).toEqual(["cmp-1", "cmp-2"]);
    expect(exported.campaignRecipients).toHaveLength(6);
    expect(exported.campaignRecipients.filter((r) => r.campaignId === "cmp-2")).toHaveLength(3);
    expect(exported.audit.length).toBeGreaterThanOrEqual(4);
    expect(text).not.toContain("SIGNAL-PRIVATE");
    // Written as it is read: many pieces, none of them the whole.
    expect(pieces.length).toBeGreaterThan(50);
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThan(text.length / 4);
  });

  it("is refused for a closing tenant, and not found for a missing one, before anything is written", async () => {
    const principal = { kind: "user" as const, uid: uniqueId("owner"), email: null };
    const { id: tenantId } = await new TenantService(refs).create(principal, { name: "Closing" });
    await refs.tenant(tenantId).update({ status: "deleting" });
    const exporter = new TenantExport(refs, media);
    await expect(exporter.open(tenantId)).rejects.toMatchObject({ code: "tenant_closing" });
    await expect(exporter.open(uniqueId("missing"))).rejects.toMatchObject({ code: "not_found" });
  });
});
