import { startLocalStorage } from "../../core/src/testing/storage-server.ts";
import { PROJECT_ID } from "./emulators.ts";

/** What the runner, the Functions emulator and the tests are told about the media bucket. */
export interface StorageEnv {
  STORAGE_EMULATOR_HOST: string;
  MEDIA_BUCKET: string;
}

export interface LocalStorageHandle {
  env: StorageEnv;
  stop(): Promise<void>;
}

/**
 * The Cloud Storage stand-in for `npm test` and `npm run dev`, in this process (in memory, so a
 * restart forgets the media, as the lifecycle rules would a day later): the Firebase Storage
 * emulator needs a jar these offline machines cannot download. Its bucket has the name the
 * deployables default to locally, `<project>.firebasestorage.app`.
 */
export async function provideStorage(): Promise<LocalStorageHandle> {
  const bucket = `${PROJECT_ID}.firebasestorage.app`;
  const local = await startLocalStorage({ buckets: [bucket], maxBytes: 1024 * 1024 * 1024 });
  return { env: { STORAGE_EMULATOR_HOST: local.url, MEDIA_BUCKET: bucket }, stop: () => local.close() };
}
