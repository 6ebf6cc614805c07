import { Redis } from "ioredis";
import { requireEnv } from "./require-env.ts";

/** A client for the Redis `npm test` provides. Fails fast instead of retrying forever when it is gone. */
export function testRedis(): Redis {
  return new Redis(requireEnv("REDIS_URL"), { maxRetriesPerRequest: 1, connectTimeout: 2_000, lazyConnect: false });
}
