import { afterAll, describe, expect, it } from "vitest";
import { testRedis, uniqueId } from "../src/testing/index.ts";

const redis = testRedis();
afterAll(async () => {
  await redis.quit();
});

describe("Redis", () => {
  it("round-trips a value with an expiry", async () => {
    const key = uniqueId("whatsdex:test");
    await redis.set(key, "pong", "EX", 60);
    expect(await redis.get(key)).toBe("pong");
    expect(await redis.ttl(key)).toBeGreaterThan(0);
    await redis.del(key);
    expect(await redis.get(key)).toBeNull();
  });
});
