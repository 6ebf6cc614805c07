import { contactDocSchema, keywordForm, optOutIntent, recordOptIn, recordOptOut } from "@whatsdex/core";
import { testFirebase, uniqueId } from "@whatsdex/core/testing";
import { Timestamp } from "firebase-admin/firestore";
import { afterAll, describe, expect, it } from "vitest";

const firebase = testFirebase();
const db = firebase.firestore;
afterAll(() => firebase.close());

const person = { id: "lid:300000000001", lid: "300000000001@lid", pn: "6281300000001@s.whatsapp.net" };
const contact = async (tenantId: string, personId: string) => {
  const data = (await db.doc(`tenants/${tenantId}/contacts/${personId}`).get()).data();
  return data === undefined ? undefined : contactDocSchema.parse(data);
};

describe("opt-out keywords", () => {
  it("compares the whole message, ignoring case, accents, spaces and surrounding punctuation", () => {
    expect(keywordForm("  ¡ARRÊT!  ")).toBe("arret");
    expect(keywordForm("Stop   all.")).toBe("stop all");
    expect(optOutIntent("Stop all.", "en")).toBe("opt_out");
    expect(optOutIntent("BERHENTI", "en")).toBeNull();
    expect(optOutIntent("BERHENTI", "id")).toBe("opt_out");
    expect(optOutIntent("Parar", "id")).toBe("opt_out");
    expect(optOutIntent("baja", "en")).toBe("opt_out");
    expect(optOutIntent("mulai", "id")).toBe("opt_in");
    expect(optOutIntent("mulai", "en")).toBeNull();
    expect(optOutIntent("please stop", "en")).toBeNull();
    expect(optOutIntent("stop".repeat(20), "en")).toBeNull();
    expect(optOutIntent("", "en")).toBeNull();
  });
});

describe("recordOptOut and recordOptIn", () => {
  it("record a STOP sent twice at once (two runners, a redelivery) once: exactly one of them changed it", async () => {
    const tenantId = uniqueId("tenant");
    const at = Timestamp.now();
    const results = await Promise.all(
      Array.from({ length: 4 }, (_, i) => recordOptOut(db, tenantId, person, { botId: `bot-${i}`, text: "STOP", at })),
    );
    expect(results.filter((r) => r.changed)).toHaveLength(1);
    expect(await contact(tenantId, person.id)).toMatchObject({
      lid: person.lid,
      pn: person.pn,
      tags: [],
      fields: {},
      optOut: { via: "whatsapp", reason: "STOP" },
    });
    expect(await contact(tenantId, "pn:6281300000001")).toBeUndefined();

    const optIns = await Promise.all([
      recordOptIn(db, tenantId, person, { at }),
      recordOptIn(db, tenantId, person, { at }),
    ]);
    expect(optIns.filter((r) => r.changed)).toHaveLength(1);
    expect((await contact(tenantId, person.id))?.optOut).toBeNull();
  });

  it("opt out every document the person is stored under, and opt in none that does not exist", async () => {
    const tenantId = uniqueId("tenant");
    const at = Timestamp.now();
    expect(await recordOptIn(db, tenantId, person, { at })).toEqual({ changed: false });
    expect(await contact(tenantId, person.id)).toBeUndefined();
    const base = { name: null, tags: ["vip"], fields: {}, optOut: null, importId: null, createdAt: at, updatedAt: at };
    await db.doc(`tenants/${tenantId}/contacts/pn:6281300000001`).set({ ...base, lid: null, pn: person.pn });
    await db.doc(`tenants/${tenantId}/contacts/${person.id}`).set({ ...base, lid: person.lid, pn: null });
    expect(await recordOptOut(db, tenantId, person, { botId: "bot-1", text: "unsubscribe", at })).toEqual({
      changed: true,
    });
    expect(await contact(tenantId, "pn:6281300000001")).toMatchObject({
      lid: person.lid,
      tags: ["vip"],
      optOut: { reason: "unsubscribe" },
    });
    expect(await contact(tenantId, person.id)).toMatchObject({ pn: person.pn, optOut: { reason: "unsubscribe" } });
    // An import's opt-out is cleared by the person's own START too.
    await db
      .doc(`tenants/${tenantId}/contacts/pn:6281300000001`)
      .update({ optOut: { at, via: "import", botId: null, reason: "opted_out column of an import" } });
    expect(await recordOptIn(db, tenantId, person, { at })).toEqual({ changed: true });
    expect((await contact(tenantId, "pn:6281300000001"))?.optOut).toBeNull();
    expect((await contact(tenantId, person.id))?.optOut).toBeNull();
  });
});
