import type { Firestore } from "@google-cloud/firestore";

export interface FirestoreProbe {
  reachable: boolean;
  latencyMs: number;
  error?: string;
}

/**
 * One document read, bounded by `timeoutMs`. The document need not exist: a successful "not found"
 * proves the round trip, and it costs one read.
 */
export async function probeFirestore(db: Firestore, timeoutMs: number): Promise<FirestoreProbe> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([db.doc("health/probe").get(), timeout]);
    return { reachable: true, latencyMs: elapsed() };
  } catch (error) {
    return { reachable: false, latencyMs: elapsed(), error: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}
