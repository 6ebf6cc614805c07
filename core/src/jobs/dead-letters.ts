import { createHash } from "node:crypto";
import { type Firestore, Timestamp } from "firebase-admin/firestore";
import { z } from "zod";
import { zodConverter } from "../firestore/converter.ts";
import { type Page, type PageRequest, paginate } from "../firestore/pagination.ts";
import { deadLetterPath, deadLettersCollectionPath } from "../firestore/paths.ts";
import { timestampSchema } from "../firestore/timestamps.ts";

/** `tenants/{t}/deadLetters/{id}`: a job that will not run again, and why. */
export const deadLetterSchema = z.object({
  queue: z.string(),
  jobId: z.string(),
  name: z.string(),
  /** The payload as added, for inspection; secrets never go into job payloads. */
  data: z.unknown(),
  error: z.object({ code: z.string(), message: z.string() }),
  attemptsMade: z.number().int(),
  enqueuedAt: timestampSchema,
  failedAt: timestampSchema,
  /** When it was recorded (pagination orders by it). */
  createdAt: timestampSchema,
});
export type DeadLetter = z.output<typeof deadLetterSchema>;
const converter = zodConverter(deadLetterSchema);

export interface DeadLetterInput {
  tenantId: string;
  /** The job's scope (`jobScope`): its tenant and bot. */
  scope: string;
  queue: string;
  jobId: string;
  name: string;
  data: unknown;
  error: { code: string; message: string };
  attemptsMade: number;
  enqueuedAt: number;
}

/**
 * A failed job's record id: stable per (queue, scope, job), so recording twice (a redelivery) is one
 * record, and two bots' jobs with the same natural key are two records.
 */
export function deadLetterId(queue: string, scope: string, jobId: string): string {
  return createHash("sha256").update(`${queue}\u0000${scope}\u0000${jobId}`).digest("hex").slice(0, 32);
}

export class DeadLetterStore {
  readonly #db: Firestore;

  constructor(db: Firestore) {
    this.#db = db;
  }

  async record(input: DeadLetterInput): Promise<string> {
    const id = deadLetterId(input.queue, input.scope, input.jobId);
    const record: DeadLetter = {
      queue: input.queue,
      jobId: input.jobId,
      name: input.name,
      // Through JSON, as it travelled: Firestore refuses undefined fields and class instances.
      data: input.data === undefined ? null : JSON.parse(JSON.stringify(input.data)),
      error: input.error,
      attemptsMade: input.attemptsMade,
      enqueuedAt: Timestamp.fromMillis(input.enqueuedAt),
      failedAt: Timestamp.now(),
      createdAt: Timestamp.now(),
    };
    await this.#db.doc(deadLetterPath(input.tenantId, id)).set(record);
    return id;
  }

  /** Newest first. */
  list(tenantId: string, page: PageRequest): Promise<Page<{ id: string; path: string; data: DeadLetter }>> {
    return paginate(this.#db.collection(deadLettersCollectionPath(tenantId)).withConverter(converter), page);
  }
}
