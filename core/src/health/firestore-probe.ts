import type { Firestore } from "@google-cloud/firestore";

export interface FirestoreProbe {
  reachable: boolean;
  latencyMs: number;
  error?: string;
}

/**
 * A Firestore health check: one document read (the document need not exist; "not found" proves
 * the round trip) bounded by `timeoutMs`. The client keeps retrying a read it cannot deliver for
 * most of a minute and offers no way to cancel it, so checks that arrive while a read is still
 * outstanding wait on that read instead of starting another: an outage costs one read in flight,
 * not one per health request.
 */
export function firestoreProbe(db: Firestore, timeoutMs: number): () => Promise<FirestoreProbe> {
  let inFlight: Promise<unknown> | undefined;
  return async () => {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    inFlight ??= db
      .doc("health/probe")
      .get()
      .finally(() => {
        inFlight = undefined;
      });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([inFlight, timeout]);
      return { reachable: true, latencyMs: elapsed() };
    } catch (error) {
      return { reachable: false, latencyMs: elapsed(), error: error instanceof Error ? error.message : String(error) };
    } finally {
      clearTimeout(timer);
    }
  };
}
