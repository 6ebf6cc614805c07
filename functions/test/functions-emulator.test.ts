import { botPath } from "@whatsdex/core";
import { requireEnv, testFirebase, uniqueId, waitFor } from "@whatsdex/core/testing";
import { afterAll, describe, expect, it } from "vitest";

/**
 * The built functions (functions/lib) as the Functions emulator runs them: what developers use
 * locally, and the closest thing to the deployed code this machine can run.
 */
const functionsUrl = requireEnv("WHATSDEX_FUNCTIONS_URL");
const firebase = testFirebase();
afterAll(() => firebase.close());

describe("Functions emulator", () => {
  it("serves the api function over HTTP", async () => {
    const response = await fetch(`${functionsUrl}/api/v1/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "ok", firestore: { reachable: true } });
  });

  it("holds bodies to the API's own limits behind the platform's body parser", async () => {
    const post = (body: string) =>
      fetch(`${functionsUrl}/api/v1/tenants`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
    const oversized = await post(JSON.stringify({ name: "x".repeat(200_000) }));
    expect(oversized.status).toBe(413);
    expect(await oversized.json()).toMatchObject({ code: "payload_too_large" });
    const unauthenticated = await post(JSON.stringify({ name: "ok" }));
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get("content-type")).toContain("application/problem+json");
    const malformed = await post("{not json");
    expect(malformed.status).toBe(400);
  });

  it("fires onBotDeleted on a delete made with firebase-admin", async () => {
    const bot = firebase.firestore.doc(botPath(uniqueId("tenant"), uniqueId("bot")));
    await bot.set({ name: "to delete" });
    await bot.collection("auth").doc("creds").set({ v: 1 });
    await bot.collection("outbox").doc("m1").set({ kind: "send" });
    await bot.delete();
    await waitFor(
      "the trigger to delete the bot's auth and outbox",
      async () => {
        const [auth, outbox] = await Promise.all([bot.collection("auth").get(), bot.collection("outbox").get()]);
        return auth.empty && outbox.empty ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
  });
});
