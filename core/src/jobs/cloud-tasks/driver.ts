import type { CloudTasksClient } from "@google-cloud/tasks";
import type { QueueTransport, TransportEntry } from "../queue.ts";

export interface CloudTasksTarget {
  project: string;
  location: string;
  /** The Cloud Tasks queue (its retry config stands in for BullMQ's backoff). */
  queue: string;
  /** Where tasks are delivered: the receiver's URL. */
  url: string;
  /** The identity tasks carry (an OIDC token minted by Cloud Tasks for this service account). */
  serviceAccountEmail: string;
  /** The OIDC token's audience; the receiver checks it. */
  audience: string;
}

/** gRPC's ALREADY_EXISTS: a task of that name exists or existed recently. */
const ALREADY_EXISTS = 6;
/** createTask calls in flight at once for one addBulk. */
const PARALLEL = 16;

function codeOf(error: unknown): unknown {
  return typeof error === "object" && error !== null && "code" in error ? error.code : undefined;
}

/**
 * The enqueue side over Cloud Tasks: each job is an HTTP task with an OIDC token; one added with a
 * jobId is named by its hash (so a duplicate add is ALREADY_EXISTS — the job is queued or ran
 * already — which is success), others are named by Cloud Tasks; `delay` becomes its scheduleTime.
 */
export function cloudTasksTransport(client: CloudTasksClient, target: CloudTasksTarget): QueueTransport {
  const parent = client.queuePath(target.project, target.location, target.queue);
  async function create({ transportId, envelope, delayMs }: TransportEntry): Promise<string> {
    const at = Date.now() + delayMs;
    try {
      const [task] = await client.createTask({
        parent,
        task: {
          ...(transportId === undefined ? {} : { name: `${parent}/tasks/${transportId}` }),
          ...(delayMs > 0 ? { scheduleTime: { seconds: Math.floor(at / 1000), nanos: (at % 1000) * 1e6 } } : {}),
          httpRequest: {
            httpMethod: "POST",
            url: target.url,
            headers: { "Content-Type": "application/json" },
            body: Buffer.from(JSON.stringify(envelope)),
            oidcToken: { serviceAccountEmail: target.serviceAccountEmail, audience: target.audience },
          },
        },
      });
      return envelope.id ?? task.name?.split("/").at(-1) ?? "";
    } catch (error) {
      // Only a named task can already exist, and only a job with an id is named.
      if (codeOf(error) !== ALREADY_EXISTS) throw error;
      return envelope.id ?? "";
    }
  }
  return {
    async enqueue(entries) {
      const ids: string[] = [];
      for (let start = 0; start < entries.length; start += PARALLEL) {
        ids.push(...(await Promise.all(entries.slice(start, start + PARALLEL).map(create))));
      }
      return ids;
    },
    async close() {
      await client.close();
    },
  };
}
