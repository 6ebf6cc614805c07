import { once } from "node:events";
import type { Server } from "node:http";
import { trace } from "@opentelemetry/api";
import express from "express";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { startTracing, type Tracing, ValidationError } from "../src/index.ts";
import { bullmqTransport, startBullmqWorker } from "../src/jobs/bullmq/index.ts";
import { cloudTasksReceiver, cloudTasksTransport, oidcVerifier } from "../src/jobs/cloud-tasks/index.ts";
import {
  DeadLetterStore,
  DelayedError,
  deadLetterId,
  defineJobs,
  type Envelope,
  JobHandler,
  JobQueue,
  type Processors,
  UnrecoverableError,
} from "../src/jobs/index.ts";
import {
  type LocalCloudTasks,
  requireEnv,
  startLocalCloudTasks,
  testFirebase,
  uniqueId,
  waitFor,
} from "../src/testing/index.ts";

const definitions = defineJobs({
  echo: z.object({ tenantId: z.string(), botId: z.string().optional(), text: z.string().min(1) }),
});
type Defs = typeof definitions;

const firebase = testFirebase();
const deadLetters = new DeadLetterStore(firebase.firestore);
const logger = pino({ level: "silent" });
let tracing: Tracing;
beforeAll(async () => {
  tracing = await startTracing({ serviceName: "jobs-test", version: "0", exporter: "memory" });
});
afterAll(async () => {
  await tracing.shutdown();
  await firebase.close();
});

interface Running {
  queueName: string;
  queue: JobQueue<Defs>;
  /** Puts an envelope on the transport as-is, bypassing `add`'s checks (what a buggy or old producer could do). */
  enqueueRaw(envelope: unknown): Promise<void>;
  stop(): Promise<void>;
}

interface Harness {
  name: string;
  start(processors: Processors<Defs>): Promise<Running>;
}

const SERVICE_ACCOUNT = "tasks@demo-whatsdex.iam.gserviceaccount.com";

const bullmq: Harness = {
  name: "bullmq (Redis)",
  async start(processors) {
    const redisUrl = requireEnv("REDIS_URL");
    const queueName = uniqueId("q");
    const transport = bullmqTransport({ redisUrl, queue: queueName });
    const handler = new JobHandler({
      queue: queueName,
      definitions,
      processors,
      deadLetters,
      tracer: tracing.tracer,
      logger,
    });
    const worker = startBullmqWorker(handler, { redisUrl, concurrency: 4, logger });
    return {
      queueName,
      queue: new JobQueue({ name: queueName, definitions, transport }),
      enqueueRaw: async (envelope) => {
        await transport.queue.add("raw", envelope);
      },
      async stop() {
        await worker.close();
        await transport.close();
      },
    };
  },
};

/** The receiver on a real HTTP server, fed by the local Cloud Tasks server through the real client. */
async function cloudTasksSetup(processors: Processors<Defs>, local: LocalCloudTasks, concurrency = 4) {
  const queueName = uniqueId("q");
  const app = express();
  const server: Server = app.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  const url = `http://127.0.0.1:${address.port}/tasks`;
  const target = {
    project: "demo-whatsdex",
    location: "local",
    queue: queueName,
    url,
    serviceAccountEmail: SERVICE_ACCOUNT,
    audience: url,
  };
  const transport = cloudTasksTransport(local.client(), target);
  const handler = new JobHandler({
    queue: queueName,
    definitions,
    processors,
    deadLetters,
    tracer: tracing.tracer,
    logger,
  });
  app.use(
    "/tasks",
    cloudTasksReceiver({
      handler,
      verify: oidcVerifier({ audience: url, serviceAccountEmail: SERVICE_ACCOUNT, certs: local.certs }),
      queueId: queueName,
      concurrency,
      requeue: transport,
      logger,
    }),
  );
  return { queueName, url, target, transport, server };
}

const cloudTasks: Harness = {
  name: "cloudtasks (local Cloud Tasks server, real client)",
  async start(processors) {
    const local = await startLocalCloudTasks({ retry: { maxAttempts: 10, minBackoffMs: 20, maxBackoffMs: 200 } });
    const { queueName, target, transport, server } = await cloudTasksSetup(processors, local);
    const client = local.client();
    return {
      queueName,
      queue: new JobQueue({ name: queueName, definitions, transport }),
      async enqueueRaw(envelope) {
        await client.createTask({
          parent: client.queuePath(target.project, target.location, target.queue),
          task: {
            httpRequest: {
              httpMethod: "POST",
              url: target.url,
              body: Buffer.from(JSON.stringify(envelope)),
              oidcToken: { serviceAccountEmail: SERVICE_ACCOUNT, audience: target.audience },
            },
          },
        });
      },
      async stop() {
        server.close();
        await local.close();
      },
    };
  },
};

/** What processors saw, for assertions. */
function recorder() {
  const runs: Array<{ id: string; attemptsMade: number; text: string; traceId: string | undefined; at: number }> = [];
  return {
    runs,
    record(job: { id: string; attemptsMade: number; data: { text: string } }) {
      runs.push({
        id: job.id,
        attemptsMade: job.attemptsMade,
        text: job.data.text,
        traceId: trace.getActiveSpan()?.spanContext().traceId,
        at: Date.now(),
      });
    },
  };
}

const deadLetter = async (tenantId: string, queue: string, jobId: string, botId = "") =>
  (
    await firebase.firestore
      .doc(`tenants/${tenantId}/deadLetters/${deadLetterId(queue, `${tenantId}/${botId}`, jobId)}`)
      .get()
  ).data();

describe.each([bullmq, cloudTasks])("job queue conformance: $name", (harness) => {
  const tenantId = uniqueId("tenant");

  it("runs a job once with its data, id and name", async () => {
    const r = recorder();
    const running = await harness.start({ echo: async (job) => r.record(job) });
    try {
      const added = await running.queue.add("echo", { tenantId, text: "hello" }, { jobId: "order:42/confirm" });
      expect(added).toEqual({ id: "order:42/confirm", name: "echo" });
      await waitFor("the job to run", async () => (r.runs.length === 1 ? true : undefined));
      expect(r.runs[0]).toMatchObject({ id: "order:42/confirm", attemptsMade: 0, text: "hello" });
      // Without a jobId, the job is known by the id the transport gave it, on both sides.
      const anonymous = await running.queue.add("echo", { tenantId, text: "no id" });
      expect(anonymous.id).not.toBe("");
      await waitFor("the second job to run", async () => (r.runs.length === 2 ? true : undefined));
      expect(r.runs[1]).toMatchObject({ id: anonymous.id, text: "no id" });
    } finally {
      await running.stop();
    }
  });

  it("retries a failed attempt, then succeeds", async () => {
    const r = recorder();
    const running = await harness.start({
      echo: async (job) => {
        r.record(job);
        if (job.attemptsMade === 0) throw new Error("flaky upstream");
      },
    });
    try {
      await running.queue.add("echo", { tenantId, text: "again" }, { jobId: "retry-1", attempts: 3, backoff: 20 });
      await waitFor("the second attempt", async () => (r.runs.length === 2 ? true : undefined));
      expect(r.runs.map((run) => run.attemptsMade)).toEqual([0, 1]);
      expect(await deadLetter(tenantId, running.queueName, "retry-1")).toBeUndefined();
    } finally {
      await running.stop();
    }
  });

  it("records a dead letter once attempts are exhausted", async () => {
    const r = recorder();
    const running = await harness.start({
      echo: async (job) => {
        r.record(job);
        throw new Error("always down");
      },
    });
    try {
      await running.queue.add("echo", { tenantId, text: "doomed" }, { jobId: "doomed-1", attempts: 2, backoff: 20 });
      const dead = await waitFor("the dead letter", () => deadLetter(tenantId, running.queueName, "doomed-1"));
      expect(dead).toMatchObject({
        queue: running.queueName,
        jobId: "doomed-1",
        name: "echo",
        data: { tenantId, text: "doomed" },
        error: { code: "attempts_exhausted", message: "always down" },
        attemptsMade: 2,
      });
      expect(r.runs.map((run) => run.attemptsMade)).toEqual([0, 1]);
    } finally {
      await running.stop();
    }
  });

  it("fails an unrecoverable job at once, whatever attempts remain", async () => {
    const r = recorder();
    const running = await harness.start({
      echo: async (job) => {
        r.record(job);
        throw new UnrecoverableError("the image is corrupt");
      },
    });
    try {
      await running.queue.add("echo", { tenantId, text: "bad" }, { jobId: "unrecoverable-1", attempts: 5 });
      const dead = await waitFor("the dead letter", () => deadLetter(tenantId, running.queueName, "unrecoverable-1"));
      expect(dead?.error).toEqual({ code: "unrecoverable", message: "the image is corrupt" });
      expect(r.runs).toHaveLength(1);
    } finally {
      await running.stop();
    }
  });

  it("runs a duplicated jobId once", async () => {
    const r = recorder();
    const running = await harness.start({ echo: async (job) => r.record(job) });
    try {
      await Promise.all([
        running.queue.add("echo", { tenantId, text: "one" }, { jobId: "campaign-7:recipient-9" }),
        running.queue.add("echo", { tenantId, text: "one" }, { jobId: "campaign-7:recipient-9" }),
      ]);
      await waitFor("the job to run", async () => (r.runs.length >= 1 ? true : undefined));
      await running.queue.add("echo", { tenantId, text: "one" }, { jobId: "campaign-7:recipient-9" });
      // A marker job added after the duplicates and run after them: by then a duplicate would have run too.
      await running.queue.add("echo", { tenantId, text: "marker" }, { jobId: "marker", delay: 300 });
      await waitFor("the marker", async () => (r.runs.some((run) => run.text === "marker") ? true : undefined));
      expect(r.runs.filter((run) => run.id === "campaign-7:recipient-9")).toHaveLength(1);
    } finally {
      await running.stop();
    }
  });

  it("keeps the same jobId apart for two bots (both run) and gives each its own dead letter", async () => {
    const r = recorder();
    const running = await harness.start({
      echo: async (job) => {
        r.record(job);
        if (job.data.text.startsWith("doomed")) throw new UnrecoverableError(`${job.data.text} failed`);
      },
    });
    try {
      // Two bots in one group receive the same command: same chat, same message id, same natural key.
      const jobId = "qr:120363000000000077@g.us:3EB0ABCDEF";
      await running.queue.add("echo", { tenantId, botId: "bot-a", text: "for a" }, { jobId });
      await running.queue.add("echo", { tenantId, botId: "bot-b", text: "for b" }, { jobId });
      await waitFor("both jobs", async () => (r.runs.length === 2 ? true : undefined));
      expect(r.runs.map((run) => run.text).sort()).toEqual(["for a", "for b"]);

      const doomed = "doomed:same-key";
      await running.queue.add("echo", { tenantId, botId: "bot-a", text: "doomed a" }, { jobId: doomed });
      await running.queue.add("echo", { tenantId, botId: "bot-b", text: "doomed b" }, { jobId: doomed });
      const a = await waitFor("bot a's dead letter", () => deadLetter(tenantId, running.queueName, doomed, "bot-a"));
      const b = await waitFor("bot b's dead letter", () => deadLetter(tenantId, running.queueName, doomed, "bot-b"));
      expect(a?.error.message).toBe("doomed a failed");
      expect(b?.error.message).toBe("doomed b failed");
    } finally {
      await running.stop();
    }
  });

  it("holds a delayed job back, and re-runs a DelayedError'd job later without counting an attempt", async () => {
    const r = recorder();
    const running = await harness.start({
      echo: async (job) => {
        r.record(job);
        if (job.data.text === "not yet" && r.runs.filter((run) => run.text === "not yet").length === 1) {
          throw new DelayedError(300);
        }
      },
    });
    try {
      const addedAt = Date.now();
      await running.queue.add("echo", { tenantId, text: "later" }, { delay: 800 });
      await running.queue.add("echo", { tenantId, text: "not yet" }, { attempts: 1 });
      await waitFor("both jobs to have run", async () =>
        r.runs.some((run) => run.text === "later") && r.runs.filter((run) => run.text === "not yet").length === 2
          ? true
          : undefined,
      );
      const later = r.runs.find((run) => run.text === "later");
      // Never early (the lower bound is what a delay promises; lateness depends on the machine).
      expect((later?.at ?? 0) - addedAt).toBeGreaterThanOrEqual(750);
      const notYet = r.runs.filter((run) => run.text === "not yet");
      expect(notYet.map((run) => run.attemptsMade)).toEqual([0, 0]);
      expect((notYet[1]?.at ?? 0) - (notYet[0]?.at ?? 0)).toBeGreaterThanOrEqual(250);
    } finally {
      await running.stop();
    }
  });

  it("refuses a payload that breaks its schema on add, and dead-letters one that arrives anyway", async () => {
    const r = recorder();
    const running = await harness.start({ echo: async (job) => r.record(job) });
    try {
      const refused = await running.queue.add("echo", { tenantId, text: "" }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(ValidationError);
      expect((refused as ValidationError).issues).toEqual([{ path: "data.text", message: expect.any(String) }]);
      // @ts-expect-error: not a job of this queue
      const unknown = await running.queue.add("nope", { tenantId }).catch((error: unknown) => error);
      expect(unknown).toBeInstanceOf(ValidationError);

      const forged: Envelope = {
        v: 1,
        id: "forged-1",
        name: "echo",
        data: { tenantId, text: 42 },
        opts: {},
        attemptsBefore: 0,
        timestamp: Date.now(),
        trace: {},
      };
      await running.enqueueRaw(forged);
      const dead = await waitFor("the dead letter", () => deadLetter(tenantId, running.queueName, "forged-1"));
      expect(dead?.error.code).toBe("invalid_payload");
      expect(dead?.error.message).toMatch(/^Invalid echo payload: text: /);
      expect(r.runs).toEqual([]);
    } finally {
      await running.stop();
    }
  });

  it("continues the adder's trace in the processor", async () => {
    const r = recorder();
    const running = await harness.start({ echo: async (job) => r.record(job) });
    try {
      const traceId = await tracing.tracer.startActiveSpan("command sticker", async (span) => {
        await running.queue.add("echo", { tenantId, text: "traced" });
        span.end();
        return span.spanContext().traceId;
      });
      await waitFor("the job to run", async () => (r.runs.length === 1 ? true : undefined));
      expect(r.runs[0]?.traceId).toBe(traceId);
      const spans = tracing.memoryExporter?.getFinishedSpans() ?? [];
      expect(spans.some((s) => s.name === "job echo" && s.spanContext().traceId === traceId)).toBe(true);
    } finally {
      await running.stop();
    }
  });
});

describe("Cloud Tasks receiver", () => {
  it("refuses missing, forged and misaddressed tokens without running anything", async () => {
    const local = await startLocalCloudTasks();
    const other = await startLocalCloudTasks();
    const r = recorder();
    const { url, queueName, server } = await cloudTasksSetup({ echo: async (job) => r.record(job) }, local);
    const envelope: Envelope = {
      v: 1,
      id: "direct-1",
      name: "echo",
      data: { tenantId: "t1", text: "hi" },
      opts: {},
      attemptsBefore: 0,
      timestamp: Date.now(),
      trace: {},
    };
    const post = (headers: Record<string, string>) =>
      fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CloudTasks-QueueName": queueName, ...headers },
        body: JSON.stringify(envelope),
      }).then((res) => res.status);
    try {
      const good = { email: SERVICE_ACCOUNT, audience: url };
      expect(await post({})).toBe(401);
      expect(await post({ Authorization: `Bearer ${other.mintToken(good)}` })).toBe(401); // another key
      expect(
        await post({
          Authorization: `Bearer ${local.mintToken({ ...good, email: "evil@x.iam.gserviceaccount.com" })}`,
        }),
      ).toBe(401);
      expect(
        await post({ Authorization: `Bearer ${local.mintToken({ ...good, audience: "https://elsewhere" })}` }),
      ).toBe(401);
      expect(await post({ Authorization: `Bearer ${local.mintToken({ ...good, emailVerified: false })}` })).toBe(401);
      expect(
        await post({ Authorization: `Bearer ${local.mintToken({ ...good, issuer: "https://evil.example" })}` }),
      ).toBe(401);
      expect(
        await post({ Authorization: `Bearer ${local.mintToken(good)}`, "X-CloudTasks-QueueName": "another-queue" }),
      ).toBe(403);
      expect(r.runs).toEqual([]);
      expect(await post({ Authorization: `Bearer ${local.mintToken(good)}` })).toBe(200);
      expect(r.runs).toHaveLength(1);
    } finally {
      server.close();
      await local.close();
      await other.close();
    }
  });

  it("answers 429 with Retry-After when at capacity, and Cloud Tasks delivers it later", async () => {
    const local = await startLocalCloudTasks({ retry: { maxAttempts: 20, minBackoffMs: 20, maxBackoffMs: 100 } });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const r = recorder();
    const { transport, queueName, server } = await cloudTasksSetup(
      {
        echo: async (job) => {
          r.record(job);
          if (job.data.text === "slow") await gate;
        },
      },
      local,
      1,
    );
    const queue = new JobQueue({ name: queueName, definitions, transport });
    try {
      await queue.add("echo", { tenantId: "t1", text: "slow" });
      await waitFor("the slow job to start", async () => (r.runs.length === 1 ? true : undefined));
      await queue.add("echo", { tenantId: "t1", text: "queued" });
      await waitFor("a 429 for the second", async () =>
        local.tasks.some((task) => task.responses.includes(429)) ? true : undefined,
      );
      release();
      await waitFor("the second to run", async () => (r.runs.length === 2 ? true : undefined));
      expect(local.tasks.every((task) => task.state === "succeeded")).toBe(true);
    } finally {
      release();
      server.close();
      await local.close();
    }
  });
});
