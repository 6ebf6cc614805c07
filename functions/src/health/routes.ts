import { firestoreProbe } from "@whatsdex/core";
import { Router } from "express";
import type { Firestore } from "firebase-admin/firestore";

/**
 * `GET /v1/healthz`: the release that answers and whether Firestore answers it. 503 when Firestore
 * does not, so an uptime check catches a broken deploy (credentials, region, quota) at once.
 */
export function healthRouter(deps: {
  version: string;
  firestore: Firestore;
  healthFirestoreTimeoutMs: number;
}): Router {
  const router = Router();
  const probe = firestoreProbe(deps.firestore, deps.healthFirestoreTimeoutMs);
  router.get("/healthz", async (_req, res) => {
    const firestore = await probe();
    res
      .status(firestore.reachable ? 200 : 503)
      .set("Cache-Control", "no-store")
      .json({ status: firestore.reachable ? "ok" : "unavailable", version: deps.version, firestore });
  });
  return router;
}
