import { type Bucket, Storage } from "@google-cloud/storage";
import { type LocalStorage, startLocalStorage } from "./storage-server.ts";
import { uniqueId } from "./unique-id.ts";

export interface TestBucket {
  bucket: Bucket;
  /** The in-process server, when this test started one (no STORAGE_EMULATOR_HOST): to look inside it. */
  local: LocalStorage | undefined;
  close(): Promise<void>;
}

/**
 * A bucket for a test, through the real @google-cloud/storage client: the one `npm test` serves
 * (STORAGE_EMULATOR_HOST and MEDIA_BUCKET, shared by the Functions emulator), or else a local
 * storage server started in this process with a bucket of its own. Tests keep apart by unique ids.
 */
export async function testBucket(): Promise<TestBucket> {
  const host = process.env.STORAGE_EMULATOR_HOST;
  const name = process.env.MEDIA_BUCKET;
  if (host && name) {
    return { bucket: new Storage({ projectId: "local" }).bucket(name), local: undefined, close: async () => {} };
  }
  const bucketName = uniqueId("media").toLowerCase().replaceAll("_", "-");
  const local = await startLocalStorage({ buckets: [bucketName] });
  return { bucket: local.client().bucket(bucketName), local, close: () => local.close() };
}
