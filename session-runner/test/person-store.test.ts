import { contactsCollectionPath, LeaseStore, leaseFence } from "@whatsdex/core";
import { testFirebase, uniqueId } from "@whatsdex/core/testing";
import { afterAll, describe, expect, it } from "vitest";
import { PersonStore } from "../src/bot/person-store.ts";

const firebase = testFirebase();
const db = firebase.firestore;
afterAll(() => firebase.close());

const LID = "123456789012345@lid";
const PN = "6281234567890@s.whatsapp.net";

async function setup() {
  const bot = { tenantId: uniqueId("tenant"), botId: uniqueId("bot") };
  const leases = new LeaseStore(db, { ttlMs: 60_000 });
  const lease = await leases.acquire(bot, "runner-a");
  if (!lease) throw new Error("no lease");
  const options = { db, ...bot, fence: leaseFence(leases, lease) };
  return { bot, leases, lease, options, store: new PersonStore(options) };
}

async function contactIds(bot: { tenantId: string; botId: string }) {
  return (await db.collection(contactsCollectionPath(bot.tenantId, bot.botId)).get()).docs.map((d) => d.id).sort();
}

describe("person store (LID first)", () => {
  it("pairs a LID with its phone number from a private message's alt field, ignoring devices", async () => {
    const { store } = await setup();
    const person = store.observeMessageKey(
      { remoteJid: "123456789012345:7@lid", remoteJidAlt: "6281234567890:3@s.whatsapp.net", fromMe: false },
      "Ayu",
    );
    expect(person).toEqual({ id: "lid:123456789012345", lid: LID, pn: PN, pushName: "Ayu", wrote: true });
    expect(store.resolve(PN)).toBe(store.resolve(LID));
    expect(store.resolve("6281234567890:9@s.whatsapp.net")?.lid).toBe(LID);
  });

  it("knows who wrote to the bot in a private chat (not in a group, not the bot's own messages), across a reload", async () => {
    const { store, options } = await setup();
    const OTHER_LID = "223456789012345@lid";
    store.observeMessageKey({ remoteJid: "120363000000000000@g.us", participant: OTHER_LID, fromMe: false });
    store.observeMessageKey({ remoteJid: "323456789012345@lid", fromMe: true });
    store.observeMessageKey({ remoteJid: LID, remoteJidAlt: PN, fromMe: false }, "Ayu");
    expect(store.wrote({ lid: null, pn: PN })).toBe(true);
    expect(store.wrote({ lid: OTHER_LID, pn: null })).toBe(false);
    expect(store.wrote({ lid: "323456789012345@lid", pn: null })).toBe(false);
    expect(store.wrote({ lid: null, pn: null })).toBe(false);
    await store.flush();
    const reloaded = await PersonStore.load(options);
    expect(reloaded.wrote({ lid: LID, pn: null })).toBe(true);
    // A later sighting from a group or a contact list never forgets it.
    reloaded.observeContacts([{ id: LID, notify: "Ayu" }]);
    expect(reloaded.wrote({ lid: LID, pn: null })).toBe(true);
  });

  it("tells once of each pairing of a LID and a number it did not know", async () => {
    const { options } = await setup();
    const paired: Array<{ lid: string; pn: string; pushName: string | null }> = [];
    const store = new PersonStore({ ...options, onPaired: (pair) => paired.push(pair) });
    store.observeContacts([{ id: PN, notify: "Ayu" }]);
    store.observeLidMappings([{ lid: LID, pn: PN }]);
    store.observeMessageKey({ remoteJid: LID, remoteJidAlt: PN, fromMe: false }, "Ayu");
    expect(paired).toEqual([{ lid: LID, pn: PN, pushName: "Ayu" }]);
  });

  it("reads the participant, not the group, in group messages", async () => {
    const { store } = await setup();
    store.observeMessageKey({ remoteJid: "120363000000000000@g.us", participant: LID, participantAlt: PN });
    expect(store.resolve(LID)?.pn).toBe(PN);
    expect(store.resolve("120363000000000000@g.us")).toBeUndefined();
  });

  it("merges a phone-number-only person into their LID when the mapping arrives", async () => {
    const { store, bot } = await setup();
    store.observeContacts([{ id: PN, notify: "Ayu" }]);
    expect(store.resolve(PN)?.id).toBe("pn:6281234567890");
    await store.flush();
    expect(await contactIds(bot)).toEqual(["pn:6281234567890"]);

    store.observeLidMappings([{ lid: LID, pn: PN }]);
    expect(store.resolve(LID)).toEqual({ id: "lid:123456789012345", lid: LID, pn: PN, pushName: "Ayu", wrote: false });
    await store.flush();
    expect(await contactIds(bot)).toEqual(["lid:123456789012345"]);
  });

  it("moves a number that changed accounts, leaving the old account its LID", async () => {
    const { store } = await setup();
    store.observe({ lid: LID, pn: PN });
    store.observe({ lid: "999999999999999@lid", pn: PN });
    expect(store.resolve(PN)?.lid).toBe("999999999999999@lid");
    expect(store.resolve(LID)).toEqual({ id: "lid:123456789012345", lid: LID, pn: null, pushName: null, wrote: false });
  });

  it("never takes a group, a broadcast or a malformed id for a person", async () => {
    const { store } = await setup();
    for (const jid of ["status@broadcast", "120363000000000000@g.us", "abc@s.whatsapp.net", "123@newsletter", ""]) {
      expect(store.observe({ lid: jid, pn: jid }), jid).toBeUndefined();
    }
    expect(store.pendingWrites).toBe(0);
  });

  it("persists, reloads, keeps fields others wrote, and writes nothing for a repeat", async () => {
    const { store, options, bot } = await setup();
    store.observe({ lid: LID, pn: PN, pushName: "Ayu" });
    expect(await store.flush()).toBe(1);
    const doc = db.doc(`${contactsCollectionPath(bot.tenantId, bot.botId)}/lid:123456789012345`);
    await doc.update({ optOut: true });

    const reloaded = await PersonStore.load(options);
    expect(reloaded.resolve(PN)).toEqual({
      id: "lid:123456789012345",
      lid: LID,
      pn: PN,
      pushName: "Ayu",
      wrote: false,
    });
    reloaded.observe({ lid: LID, pn: PN });
    expect(reloaded.pendingWrites).toBe(0);
    reloaded.observe({ lid: LID, pushName: "Ayu S." });
    await reloaded.flush();
    expect((await doc.get()).data()).toMatchObject({ optOut: true, pushName: "Ayu S.", pn: PN });
  });

  it("refuses a deposed owner's flush and keeps its changes for the record", async () => {
    const { store, leases, lease, bot } = await setup();
    store.observe({ lid: LID, pn: PN });
    await leases.release(lease);
    await leases.acquire(bot, "runner-b");
    await expect(store.flush()).rejects.toThrow(/now owned by runner-b/);
    expect(store.pendingWrites).toBe(1);
    expect(await contactIds(bot)).toEqual([]);
  });
});
