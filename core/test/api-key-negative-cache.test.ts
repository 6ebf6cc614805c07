import { randomBytes } from "node:crypto";
import { Timestamp } from "firebase-admin/firestore";
import { afterAll, describe, expect, it } from "vitest";
import { hashSecret } from "../src/api-keys/secret.ts";
import { AccessCache, ApiKeyService, createRefs, UnauthenticatedError } from "../src/index.ts";
import { testFirebase, uniqueId } from "../src/testing/index.ts";

const firebase = testFirebase();
afterAll(() => firebase.close());

const pepper = "negative-cache-test-pepper-0123456789abcdef";

describe("API keys that do not exist", () => {
  it("are read from Firestore once per id per TTL, however often they are presented", async () => {
    const refs = createRefs(firebase.firestore);
    const ttlMs = 2_000;
    const keys = new ApiKeyService(refs, {
      pepper,
      cache: new AccessCache({ ttlMs }),
      onBackgroundError: (error) => {
        throw error;
      },
    });
    const tenantId = uniqueId("tenant");
    const keyId = randomBytes(10).toString("hex");
    const secret = randomBytes(32).toString("base64url");
    const presented = `wdx_${keyId}_${secret}`;

    await expect(keys.authenticate(tenantId, presented)).rejects.toThrow(UnauthenticatedError);
    // The key now exists. Had any later attempt within the TTL read Firestore, it would succeed:
    // that they all fail shows that none of them did.
    const now = Timestamp.now();
    await refs.apiKey(tenantId, keyId).set({
      name: "appears later",
      prefix: `wdx_${keyId}_${secret.slice(0, 4)}`,
      hash: hashSecret(pepper, secret),
      scopes: ["read"],
      createdBy: "user:test",
      createdAt: now,
      lastUsedAt: now,
      revokedAt: null,
    });
    for (let i = 0; i < 20; i++) {
      await expect(keys.authenticate(tenantId, presented)).rejects.toThrow(UnauthenticatedError);
    }

    await new Promise((resolve) => setTimeout(resolve, ttlMs + 50));
    await expect(keys.authenticate(tenantId, presented)).resolves.toMatchObject({ kind: "apiKey", keyId });
  });
});
