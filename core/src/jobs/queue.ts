import { ValidationError } from "../errors/domain-error.ts";
import { fieldIssues, parseOrThrow } from "../errors/zod-issues.ts";
import { type JobDefinitions, type JobInput, type JobName, jobScope } from "./definitions.ts";
import { createEnvelope, type Envelope, transportId } from "./envelope.ts";
import { type JobsOptions, jobsOptionsSchema } from "./job.ts";

/**
 * One job for the transport: when it may run, and its transport id (a hash of the caller's jobId
 * within the job's scope, its tenant and bot) when the caller gave one — only then is deduplication asked for; otherwise the transport names it.
 */
export interface TransportEntry {
  transportId: string | undefined;
  envelope: Envelope;
  delayMs: number;
}

/**
 * The driver's enqueue side. An entry whose transport id exists already is not added again, and
 * that is no error. Returns the id each job is known by: its jobId, or the one the transport gave.
 */
export interface QueueTransport {
  enqueue(entries: readonly TransportEntry[]): Promise<string[]>;
  close(): Promise<void>;
}

export interface AddedJob {
  id: string;
  name: string;
}

/**
 * A queue shaped like BullMQ's: `add(name, data, {jobId, delay, attempts, backoff})` and `addBulk`.
 * Names and payloads are checked against the queue's job catalog before anything is enqueued: a
 * bad one is a ValidationError naming every bad field, and nothing is added. The caller's trace
 * context travels with the job.
 */
export class JobQueue<D extends JobDefinitions> {
  readonly name: string;
  readonly #definitions: D;
  readonly #transport: QueueTransport;

  constructor(options: { name: string; definitions: D; transport: QueueTransport }) {
    this.name = options.name;
    this.#definitions = options.definitions;
    this.#transport = options.transport;
  }

  async add<N extends JobName<D>>(name: N, data: JobInput<D, N>, opts: JobsOptions = {}): Promise<AddedJob> {
    const [added] = await this.addBulk([{ name, data, opts }]);
    if (!added) throw new Error("addBulk returned nothing for one job");
    return added;
  }

  /** All or nothing at validation: one bad job and none is added. */
  async addBulk<N extends JobName<D>>(
    jobs: ReadonlyArray<{ name: N; data: JobInput<D, N>; opts?: JobsOptions }>,
  ): Promise<AddedJob[]> {
    const entries = jobs.map(({ name, data, opts }, index) =>
      this.#entry(name, data, opts ?? {}, jobs.length > 1 ? index : undefined),
    );
    const ids = await this.#transport.enqueue(entries);
    return entries.map(({ envelope }, index) => ({ id: ids[index] ?? "", name: envelope.name }));
  }

  #entry(name: string, data: unknown, opts: JobsOptions, index: number | undefined): TransportEntry {
    const at = index === undefined ? "" : `jobs[${index}].`;
    const schema = Object.hasOwn(this.#definitions, name) ? this.#definitions[name] : undefined;
    if (!schema) {
      throw new ValidationError(`Queue ${this.name} has no job named "${name}".`, [
        { path: `${at}name`, message: `must be one of ${Object.keys(this.#definitions).join(", ")}` },
      ]);
    }
    const parsedOpts = parseOrThrow(jobsOptionsSchema, opts, `${name} job options`);
    const payload = schema.safeParse(data);
    if (!payload.success) {
      const issues = fieldIssues(payload.error).map((issue) => ({
        path: `${at}data${issue.path ? `.${issue.path}` : ""}`,
        message: issue.message,
      }));
      const summary = issues.map((issue) => `${issue.path}: ${issue.message}`).join("; ");
      throw new ValidationError(`Invalid ${name} job: ${summary}`, issues, { cause: payload.error });
    }
    const envelope = createEnvelope(name, payload.data, parsedOpts);
    return {
      transportId:
        parsedOpts.jobId === undefined
          ? undefined
          : transportId(this.name, `${jobScope(payload.data)}\u0000${parsedOpts.jobId}`),
      envelope,
      delayMs: parsedOpts.delay ?? 0,
    };
  }

  close(): Promise<void> {
    return this.#transport.close();
  }
}
