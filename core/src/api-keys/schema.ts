import { z } from "zod";
import { apiKeyScopeSchema } from "../access/roles.ts";
import { timestampSchema } from "../firestore/timestamps.ts";

/** `tenants/{tenantId}/apiKeys/{keyId}`. The secret itself is never stored, only its peppered hash. */
export const apiKeyDocSchema = z.object({
  name: z.string().min(1).max(100),
  /** The first characters of the key, shown in lists so people can tell keys apart. */
  prefix: z.string().min(1),
  /** HMAC-SHA256 of the secret under the server's pepper, hex. */
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  scopes: z.array(apiKeyScopeSchema).min(1),
  createdBy: z.string().min(1),
  createdAt: timestampSchema,
  lastUsedAt: timestampSchema.nullable(),
  revokedAt: timestampSchema.nullable(),
});
export type ApiKeyDoc = z.output<typeof apiKeyDocSchema>;
