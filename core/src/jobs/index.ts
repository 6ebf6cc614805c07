/**
 * The job queue, driver-free: what producers and workers share. The drivers are separate entry
 * points (`@whatsdex/core/jobs/bullmq`, `@whatsdex/core/jobs/cloud-tasks`) so that a deployable
 * loads only the client library of the driver it uses.
 */

export { type DeadLetter, DeadLetterStore, deadLetterId, deadLetterSchema } from "./dead-letters.ts";
export { defineJobs, type JobData, type JobDefinitions, type JobInput, type JobName, jobScope } from "./definitions.ts";
export { type Envelope, envelopeSchema, transportId } from "./envelope.ts";
export { DelayedError, UnrecoverableError } from "./errors.ts";
export {
  type BackoffOptions,
  backoffDelay,
  type Job,
  type JobsOptions,
  jobsOptionsSchema,
  type Processor,
} from "./job.ts";
export { aiJobs, mediaJobs, type QueueKind, queueNames, webhookJobs } from "./job-catalog.ts";
export {
  type Delivery,
  type FailedJob,
  JobHandler,
  type JobHandlerOptions,
  type Outcome,
  type Processors,
} from "./job-handler.ts";
export { type AddedJob, JobQueue, type QueueTransport, type TransportEntry } from "./queue.ts";
