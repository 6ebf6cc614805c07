import { afterAll, describe, expect, it } from "vitest";
import { botPath, deleteBotData, firestoreProbe, MediaStore } from "../src/index.ts";
import { testBucket, testFirebase, uniqueId } from "../src/testing/index.ts";

const firebase = testFirebase();
const db = firebase.firestore;
afterAll(() => firebase.close());

describe("Firestore emulator", () => {
  it("round-trips a document", async () => {
    const ref = db.doc(botPath(uniqueId("tenant"), uniqueId("bot")));
    await ref.set({ name: "Support bot", desiredState: "running" });
    const snapshot = await ref.get();
    expect(snapshot.data()).toEqual({ name: "Support bot", desiredState: "running" });
  });

  it("answers the health probe", async () => {
    const probe = firestoreProbe(db, 5_000);
    expect(await probe()).toMatchObject({ reachable: true });
  });

  it("deletes everything under a deleted bot, and only that bot", async () => {
    const tenantId = uniqueId("tenant");
    const [goneId, keptId] = [uniqueId("bot"), uniqueId("bot")];
    for (const botId of [goneId, keptId]) {
      const bot = botPath(tenantId, botId);
      await db.doc(bot).set({ name: "b" });
      await db.doc(`${bot}/auth/creds`).set({ value: "x" });
      await db.doc(`${bot}/outbox/m1`).set({ kind: "send" });
    }
    const media = new MediaStore(testBucket());
    for (const botId of [goneId, keptId]) {
      await media.putInbound({ tenantId, botId }, "in-1", { mimetype: "image/png", data: Buffer.from("x") });
    }
    const gone = botPath(tenantId, goneId);
    await db.doc(gone).delete();
    await deleteBotData({ db, media }, tenantId, goneId);
    await deleteBotData({ db, media }, tenantId, goneId); // a redelivered trigger event finds nothing left
    expect(await media.getInbound({ tenantId, botId: goneId }, "in-1")).toBeUndefined();
    expect(await media.getInbound({ tenantId, botId: keptId }, "in-1")).toBeDefined();
    expect((await db.collection(`${gone}/auth`).get()).size).toBe(0);
    expect((await db.collection(`${gone}/outbox`).get()).size).toBe(0);
    expect((await db.doc(`${botPath(tenantId, keptId)}/auth/creds`).get()).exists).toBe(true);
  });

  it("deletes a bot's media when two deletions run at once (the trigger and a redelivery of it)", async () => {
    const bot = { tenantId: uniqueId("tenant"), botId: uniqueId("bot") };
    const media = new MediaStore(testBucket());
    for (let i = 0; i < 20; i++) {
      await media.putInbound(bot, `in-${i}`, { mimetype: "image/png", data: Buffer.from("x") });
    }
    await Promise.all([media.deleteBot(bot), media.deleteBot(bot), media.deleteBot(bot)]);
    for (let i = 0; i < 20; i++) expect(await media.getInbound(bot, `in-${i}`)).toBeUndefined();
  });

  it("refuses ids that would escape their collection before touching Firestore", () => {
    expect(() => botPath("tenant/../x", "b")).toThrow(/tenant id/);
    expect(() => botPath("t", "__b__")).toThrow(/bot id/);
  });
});
