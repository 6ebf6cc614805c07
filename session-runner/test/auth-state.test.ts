import { Curve, proto, type SignalDataSet } from "baileys";
import { afterAll, describe, expect, it } from "vitest";
import { authStateFixture } from "./support/auth-state-fixture.ts";

const fixtures: Array<Awaited<ReturnType<typeof authStateFixture>>> = [];
async function fixture() {
  const created = await authStateFixture();
  fixtures.push(created);
  return created;
}
afterAll(async () => {
  for (const f of fixtures) await f.firebase.close();
});

function preKeys(count: number, from = 1) {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [String(from + i), Curve.generateKeyPair()]));
}

describe("Firestore auth state", () => {
  it("persists creds and reloads them byte for byte in a fresh instance", async () => {
    const f = await fixture();
    const lease = await f.lease();
    const first = await f.open(lease);
    expect(first.state.creds.registered).toBe(false);
    first.state.creds.me = { id: "6281234567890:1@s.whatsapp.net", lid: "123456789012345:1@lid" };
    await first.saveCreds();

    const reloaded = await f.open(lease);
    expect(reloaded.state.creds).toEqual(first.state.creds);
    expect(Buffer.isBuffer(reloaded.state.creds.noiseKey.private)).toBe(true);
  });

  it("writes the first login's 812 pre-keys and every other key type in exactly one commit", async () => {
    const f = await fixture();
    const auth = await f.open(await f.lease());
    const keys = preKeys(812);
    const data: SignalDataSet = {
      "pre-key": keys,
      session: { "6281234567890.0": Buffer.from("session-bytes") },
      "sender-key": { "123@g.us::6281234567890::0": Buffer.from("sender-key") },
      "sender-key-memory": { "123@g.us": { "6281234567890:0@s.whatsapp.net": true } },
      "app-state-sync-key": { AAAAAFxY: { keyData: Buffer.from("key-data"), timestamp: 1 } },
      "app-state-sync-version": { critical_block: { version: 3, hash: Buffer.alloc(128, 1), indexValueMap: {} } },
      "lid-mapping": { "6281234567890": "123456789012345", "123456789012345_reverse": "6281234567890" },
      "device-list": { "6281234567890": ["0", "12"] },
      tctoken: { "6281234567890@s.whatsapp.net": { token: Buffer.from("tc"), timestamp: "1700000000" } },
      "identity-key": { "6281234567890.0": Buffer.from("identity") },
    };
    await auth.state.keys.set(data);
    expect(auth.stats.commits).toBe(1);

    const fresh = await f.open(await f.lease());
    const ids = Object.keys(keys);
    const loaded = await fresh.state.keys.get("pre-key", ids);
    expect(Object.keys(loaded)).toHaveLength(812);
    expect(loaded["812"]).toEqual(keys["812"]);
    const syncKey = (await fresh.state.keys.get("app-state-sync-key", ["AAAAAFxY"])).AAAAAFxY;
    expect(syncKey).toBeInstanceOf(proto.Message.AppStateSyncKeyData);
    expect(Buffer.from(syncKey?.keyData ?? []).toString()).toBe("key-data");
    expect(await fresh.state.keys.get("lid-mapping", ["6281234567890", "123456789012345_reverse"])).toEqual({
      "6281234567890": "123456789012345",
      "123456789012345_reverse": "6281234567890",
    });
    expect(await fresh.state.keys.get("tctoken", ["6281234567890@s.whatsapp.net"])).toEqual(data.tctoken);
    // 812 pre-keys fill 9 bucket documents; everything else is one document or one bucket each.
    expect((await f.db.collection(f.collectionPath).get()).size).toBeLessThan(30);
  });

  it("deletes for real on null, in documents and in buckets, and survives a retried set", async () => {
    const f = await fixture();
    const auth = await f.open(await f.lease());
    const set: SignalDataSet = { "pre-key": preKeys(3), session: { "a.0": Buffer.from("s") } };
    await auth.state.keys.set(set);
    await auth.state.keys.set(set); // Baileys retries a set whose outcome it did not see
    await auth.state.keys.set({ "pre-key": { "2": null }, session: { "a.0": null } });

    const fresh = await f.open(await f.lease());
    expect(Object.keys(await fresh.state.keys.get("pre-key", ["1", "2", "3"]))).toEqual(["1", "3"]);
    expect(await fresh.state.keys.get("session", ["a.0"])).toEqual({});
    const docs = (await f.db.collection(f.collectionPath).get()).docs.map((d) => d.id);
    expect(docs).toEqual(["pre-key#0"]);
  });

  it("stores only ciphertext bound to its document", async () => {
    const f = await fixture();
    const auth = await f.open(await f.lease());
    const secret = Buffer.from("ratchet-state-that-must-not-leak");
    await auth.state.keys.set({ session: { "b.0": secret } });
    await auth.saveCreds();
    const raw = JSON.stringify((await f.db.collection(f.collectionPath).get()).docs.map((d) => d.data()));
    expect(raw).not.toContain(secret.toString("base64"));
    expect(raw).not.toContain(Buffer.from(auth.state.creds.noiseKey.private).toString("base64"));
    expect(raw).toMatch(/"v1\.k1\./);

    // A value copied into another key's document does not decrypt there.
    const source = (await f.db.doc(`${f.collectionPath}/session!b.0`).get()).data();
    await f.db.doc(`${f.collectionPath}/session!c.0`).set(source ?? {});
    const fresh = await f.open(await f.lease());
    await expect(fresh.state.keys.get("session", ["c.0"])).rejects.toThrow(/does not decrypt/);
  });

  it("refuses a deposed owner's writes and leaves the new owner's state untouched", async () => {
    const f = await fixture();
    const oldLease = await f.lease("runner-a");
    const deposed = await f.open(oldLease);
    await f.leases.release(oldLease);
    const current = await f.open(await f.lease("runner-b"));
    await current.state.keys.set({ session: { "x.0": Buffer.from("new") } });

    await expect(deposed.state.keys.set({ session: { "x.0": Buffer.from("stale") } })).rejects.toThrow(
      /now owned by runner-b/,
    );
    await expect(deposed.saveCreds()).rejects.toThrow(/now owned by runner-b/);
    await expect(deposed.clear()).rejects.toThrow(/now owned by runner-b/);
    // Nothing of the refused write reached Firestore, nor the deposed instance's own cache.
    expect(Buffer.from((await deposed.state.keys.get("session", ["x.0"]))["x.0"] ?? []).toString()).toBe("new");
    const fresh = await f.open(await f.lease("runner-b"));
    expect(Buffer.from((await fresh.state.keys.get("session", ["x.0"]))["x.0"] ?? []).toString()).toBe("new");
  });

  it("keeps ids with slashes, colons and reserved-looking names apart", async () => {
    const f = await fixture();
    const auth = await f.open(await f.lease());
    const ids = ["a/b", "a%2Fb", "__x__", "123@g.us::456::7", "."];
    await auth.state.keys.set({
      session: Object.fromEntries(ids.map((id) => [id, Buffer.from(id)])),
      "lid-mapping": Object.fromEntries(ids.map((id) => [id, `lid-${id}`])),
    });
    const fresh = await f.open(await f.lease());
    const sessions = await fresh.state.keys.get("session", ids);
    expect(ids.map((id) => Buffer.from(sessions[id] ?? []).toString())).toEqual(ids);
    expect(Object.values(await fresh.state.keys.get("lid-mapping", ids))).toEqual(ids.map((id) => `lid-${id}`));
  });

  it("serves repeated reads from its cache, including keys that do not exist", async () => {
    const f = await fixture();
    const auth = await f.open(await f.lease());
    await auth.state.keys.set({ session: { "a.0": Buffer.from("s") } });
    const readsBefore = auth.stats.documentReads;
    for (let i = 0; i < 5; i++) await auth.state.keys.get("session", ["a.0", "missing.0"]);
    expect(auth.stats.documentReads - readsBefore).toBe(1); // the first lookup of "missing.0" only
    expect(auth.stats.cacheHits).toBe(9);
  });

  it("idle() waits for writes already started, so a handoff loses no key", async () => {
    const f = await fixture();
    const lease = await f.lease();
    const auth = await f.open(lease);
    // Neither is awaited: the socket started them and is now being ended.
    void auth.state.keys.set({ "pre-key": preKeys(30) });
    auth.state.creds.me = { id: "6281234567890:1@s.whatsapp.net" };
    void auth.saveCreds();
    await auth.idle();
    expect(auth.stats.commits).toBe(2);
    const reloaded = await f.open(lease);
    expect(Object.keys(await reloaded.state.keys.get("pre-key", ["1", "30"]))).toEqual(["1", "30"]);
    expect(reloaded.state.creds.me?.id).toBe("6281234567890:1@s.whatsapp.net");
    await auth.idle();
  });

  it("clears everything on logout", async () => {
    const f = await fixture();
    const auth = await f.open(await f.lease());
    await auth.state.keys.set({ "pre-key": preKeys(5), session: { "a.0": Buffer.from("s") } });
    await auth.saveCreds();
    await auth.clear();
    expect((await f.db.collection(f.collectionPath).get()).size).toBe(0);
    expect(await auth.state.keys.get("session", ["a.0"])).toEqual({});
    expect(auth.state.creds.registered).toBe(false);
  });
});
