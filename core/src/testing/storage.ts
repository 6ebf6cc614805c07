import { type Bucket, Storage } from "@google-cloud/storage";
import { requireEnv } from "./require-env.ts";
import { startLocalStorage } from "./storage-server.ts";

/** The bucket tests use when nothing names one. */
const TEST_BUCKET = "whatsdex-test-media";

/**
 * The media bucket tests share, through the real @google-cloud/storage client: the storage server
 * `npm test` (and Vitest's global setup, provideTestStorage) announces with STORAGE_EMULATOR_HOST
 * and MEDIA_BUCKET, which the Functions emulator and runner see too. Tests keep apart by unique ids.
 */
export function testBucket(): Bucket {
  const apiEndpoint = requireEnv("STORAGE_EMULATOR_HOST");
  return new Storage({ projectId: "local", apiEndpoint }).bucket(requireEnv("MEDIA_BUCKET"));
}

/**
 * For Vitest's global setup: when no storage server is announced (Vitest run directly, not through
 * `npm test`), starts one in this process and announces it to the test workers it spawns. Returns
 * the teardown.
 */
export async function provideTestStorage(): Promise<() => Promise<void>> {
  if (process.env.STORAGE_EMULATOR_HOST && process.env.MEDIA_BUCKET) return async () => {};
  const bucket = process.env.MEDIA_BUCKET ?? TEST_BUCKET;
  const local = await startLocalStorage({ buckets: [bucket] });
  process.env.STORAGE_EMULATOR_HOST = local.url;
  process.env.MEDIA_BUCKET = bucket;
  return async () => {
    delete process.env.STORAGE_EMULATOR_HOST;
    await local.close();
  };
}
