import { botPath, createLogger, MediaStore, startTracing, type Tracing } from "@whatsdex/core";
import { testBucket, testFirebase, uniqueId } from "@whatsdex/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanUpDeletedBot } from "../src/triggers/bot-deleted.ts";

const firebase = testFirebase();
let tracing: Tracing;
beforeAll(async () => {
  tracing = await startTracing({ serviceName: "trigger-test", version: "0", exporter: "memory" });
});
afterAll(async () => {
  await tracing.shutdown();
  await firebase.close();
});

describe("onBotDeleted handler", () => {
  it("removes the deleted bot's subcollections and media inside a span, and tolerates redelivery", async () => {
    const tenantId = uniqueId("tenant");
    const botId = uniqueId("bot");
    const bot = botPath(tenantId, botId);
    await firebase.firestore.doc(`${bot}/auth/creds`).set({ v: 1 });
    await firebase.firestore.doc(`${bot}/contacts/p1`).set({ lid: "1@lid" });
    const media = new MediaStore(testBucket());
    await media.putInbound({ tenantId, botId }, "in-1", { mimetype: "image/png", data: Buffer.from("x") });
    const deps = { firebase, media, tracing, logger: createLogger({ level: "silent", service: "t", version: "0" }) };
    await cleanUpDeletedBot(deps, { tenantId, botId });
    await cleanUpDeletedBot(deps, { tenantId, botId });
    expect((await firebase.firestore.doc(`${bot}/auth/creds`).get()).exists).toBe(false);
    expect((await firebase.firestore.collection(`${bot}/contacts`).get()).empty).toBe(true);
    expect(await media.getInbound({ tenantId, botId }, "in-1")).toBeUndefined();
    const spans = tracing.memoryExporter?.getFinishedSpans().filter((s) => s.name === "trigger onBotDeleted") ?? [];
    expect(spans.map((s) => s.attributes["whatsdex.bot_id"])).toEqual([botId, botId]);
  });
});
