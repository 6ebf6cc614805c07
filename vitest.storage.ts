import { provideTestStorage } from "./core/src/testing/storage.ts";

/**
 * Vitest global setup: a Cloud Storage stand-in for every test file, unless `npm test` already
 * started one (and handed it to the Functions emulator as well).
 */
export default function setup(): Promise<() => Promise<void>> {
  return provideTestStorage();
}
