import { z } from "zod";

/** The body of `GET /v1/healthz`, healthy (200) or not (503); documented in the OpenAPI output. */
export const healthSchema = z
  .object({
    status: z.enum(["ok", "unavailable"]),
    version: z.string(),
    firestore: z.object({
      reachable: z.boolean(),
      latencyMs: z.number(),
      error: z.string().optional().meta({ description: "Why the probe failed, when it did." }),
    }),
  })
  .meta({ id: "Health" });
