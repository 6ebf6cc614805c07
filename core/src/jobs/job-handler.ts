import { propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, type Tracer } from "@opentelemetry/api";
import type { Logger } from "pino";
import { fieldIssues } from "../errors/zod-issues.ts";
import type { DeadLetterStore } from "./dead-letters.ts";
import { type JobData, type JobDefinitions, type JobName, jobScope } from "./definitions.ts";
import { type Envelope, envelopeSchema, type ParsedEnvelope } from "./envelope.ts";
import { DelayedError, UnrecoverableError } from "./errors.ts";
import type { Job } from "./job.ts";

/** An envelope whose job id is settled (the caller's, or the transport's). */
type Identified = ParsedEnvelope & { id: string };

export type Processors<D extends JobDefinitions> = { [N in JobName<D>]: (job: Job<JobData<D, N>>) => Promise<unknown> };

/** What a driver does after a delivery. */
export type Outcome =
  | { kind: "completed"; result: unknown }
  /** Failed; the transport should try again (its backoff). */
  | { kind: "retry"; error: Error }
  /** Failed for good (unrecoverable, or out of attempts): recorded as a dead letter already. */
  | { kind: "failed"; error: Error }
  /** Run again after `delayMs`, this attempt not counted. */
  | { kind: "delayed"; delayMs: number; envelope: Envelope };

export interface Delivery {
  /** The raw envelope as the transport carried it (validated here). */
  envelope: unknown;
  /** The transport's own id of the job (BullMQ job id, Cloud Tasks task name): the job's id when it was added without one. */
  transportJobId: string;
  /** Attempts of this transport's job/task that failed before this one. */
  transportAttempts: number;
  /** A cap the transport imposes on top of the job's own (a Cloud Tasks queue's maxAttempts). */
  maxAttempts?: number;
}

export interface JobHandlerOptions<D extends JobDefinitions> {
  queue: string;
  definitions: D;
  processors: Processors<D>;
  deadLetters: DeadLetterStore;
  tracer: Tracer;
  logger: Logger;
  /**
   * Told of every job that failed for good, once its dead letter is recorded: a worker acting for
   * someone (a WhatsApp user waiting for a sticker) tells them. Best effort: a failure here is logged,
   * the dead letter stands.
   */
  onFailedForGood?: (failed: FailedJob) => Promise<void>;
}

/** A job that will not run again, as `onFailedForGood` hears of it (data as added: unvalidated). */
export interface FailedJob {
  queue: string;
  id: string;
  name: string;
  data: unknown;
  code: string;
}

/**
 * The part of a worker that is the same on every driver: validate the envelope and the payload
 * (a bad one can never succeed, so it fails at once), run the processor in a span that continues
 * the trace of whoever added the job, and decide between done, retry, delay and dead letter.
 */
export class JobHandler<D extends JobDefinitions> {
  readonly #options: JobHandlerOptions<D>;

  constructor(options: JobHandlerOptions<D>) {
    this.#options = options;
  }

  get queue(): string {
    return this.#options.queue;
  }

  async handle(delivery: Delivery): Promise<Outcome> {
    const { queue, tracer, logger } = this.#options;
    const parsed = envelopeSchema.safeParse(delivery.envelope);
    if (!parsed.success) {
      // Not ours, or from an incompatible version: nothing to run and no tenant to tell.
      logger.error({ queue, issues: fieldIssues(parsed.error) }, "job envelope does not parse; dropped");
      return { kind: "failed", error: new UnrecoverableError("malformed job envelope") };
    }
    const envelope = { ...parsed.data, id: parsed.data.id ?? delivery.transportJobId };
    const attemptsMade = envelope.attemptsBefore + delivery.transportAttempts;
    const parent = propagation.extract(ROOT_CONTEXT, envelope.trace);
    return tracer.startActiveSpan(
      `job ${envelope.name}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          "job.queue": queue,
          "job.name": envelope.name,
          "job.id": envelope.id,
          "job.attempt": attemptsMade + 1,
        },
      },
      parent,
      async (span) => {
        try {
          const outcome = await this.#run(envelope, attemptsMade, delivery.maxAttempts);
          if (outcome.kind === "retry" || outcome.kind === "failed") {
            span.recordException(outcome.error);
            span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error.message });
          }
          span.setAttribute("job.outcome", outcome.kind);
          return outcome;
        } finally {
          span.end();
        }
      },
    );
  }

  async #run(envelope: Identified, attemptsMade: number, transportMax: number | undefined): Promise<Outcome> {
    const { definitions, processors, logger, queue } = this.#options;
    const name = envelope.name;
    const schema = Object.hasOwn(definitions, name) ? definitions[name] : undefined;
    const processor = Object.hasOwn(processors, name) ? processors[name as JobName<D>] : undefined;
    if (!schema || !processor) {
      return this.#deadLetter(
        envelope,
        attemptsMade,
        "unknown_job",
        `No processor for job "${name}" on queue ${queue}.`,
      );
    }
    const payload = schema.safeParse(envelope.data);
    if (!payload.success) {
      const summary = fieldIssues(payload.error)
        .map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message))
        .join("; ");
      return this.#deadLetter(envelope, attemptsMade, "invalid_payload", `Invalid ${name} payload: ${summary}`);
    }
    const job: Job<JobData<D, JobName<D>>> = {
      id: envelope.id,
      name,
      // Parsed by this very name's schema, so it is that job's data; TypeScript cannot follow a
      // schema picked by a runtime name back to the mapped type.
      data: payload.data as JobData<D, JobName<D>>,
      attemptsMade,
      timestamp: envelope.timestamp,
      opts: envelope.opts,
    };
    try {
      return { kind: "completed", result: await processor(job) };
    } catch (error) {
      if (error instanceof DelayedError) {
        return { kind: "delayed", delayMs: error.delayMs, envelope: { ...envelope, attemptsBefore: attemptsMade } };
      }
      const failure = error instanceof Error ? error : new Error(String(error));
      const attempts = Math.min(envelope.opts.attempts ?? 1, transportMax ?? Number.POSITIVE_INFINITY);
      if (error instanceof UnrecoverableError || attemptsMade + 1 >= attempts) {
        const code = error instanceof UnrecoverableError ? "unrecoverable" : "attempts_exhausted";
        return this.#deadLetter(envelope, attemptsMade + 1, code, failure.message, failure);
      }
      logger.warn({ err: failure, queue, job: envelope.id, name, attempt: attemptsMade + 1 }, "job failed; will retry");
      return { kind: "retry", error: failure };
    }
  }

  async #deadLetter(
    envelope: Identified,
    attemptsMade: number,
    code: string,
    message: string,
    cause?: Error,
  ): Promise<Outcome> {
    const { deadLetters, logger, queue } = this.#options;
    const tenantId = tenantOf(envelope.data);
    logger.error({ err: cause, queue, job: envelope.id, name: envelope.name, code }, "job failed for good");
    if (tenantId) {
      await deadLetters.record({
        tenantId,
        scope: jobScope({ tenantId, ...botOf(envelope.data) }),
        queue,
        jobId: envelope.id,
        name: envelope.name,
        data: envelope.data,
        error: { code, message },
        attemptsMade,
        enqueuedAt: envelope.timestamp,
      });
    }
    await this.#options
      .onFailedForGood?.({ queue, id: envelope.id, name: envelope.name, data: envelope.data, code })
      .catch((error: unknown) =>
        logger.warn({ err: error, queue, job: envelope.id }, "telling of a failed job failed"),
      );
    return { kind: "failed", error: cause ?? new UnrecoverableError(message) };
  }
}

function botOf(data: unknown): { botId?: string } {
  if (typeof data !== "object" || data === null || !("botId" in data)) return {};
  return typeof data.botId === "string" ? { botId: data.botId } : {};
}

function tenantOf(data: unknown): string | undefined {
  if (typeof data !== "object" || data === null || !("tenantId" in data)) return undefined;
  const { tenantId } = data;
  return typeof tenantId === "string" && /^[A-Za-z0-9_-]{1,128}$/.test(tenantId) ? tenantId : undefined;
}
