import { createSign, generateKeyPairSync, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { CloudTasksClient } from "@google-cloud/tasks";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

/** What a task looked like when created, and what happened to it. */
export interface LocalTask {
  name: string;
  queue: string;
  url: string;
  headers: Record<string, string>;
  body: Buffer;
  scheduleTimeMs: number;
  oidc: { serviceAccountEmail: string; audience: string } | null;
  /** HTTP statuses of each dispatch, in order. */
  responses: number[];
  state: "scheduled" | "dispatching" | "succeeded" | "dropped";
}

export interface LocalCloudTasksOptions {
  /** The queue's retry config, as Cloud Tasks has it. */
  retry?: { maxAttempts: number; minBackoffMs: number; maxBackoffMs: number };
  /** Sign tokens as this issuer (tests of a forged issuer change it). */
  issuer?: string;
  /** false: record tasks without delivering them (to measure the enqueue side alone). */
  dispatch?: boolean;
}

export interface LocalCloudTasks {
  port: number;
  /** The real @google-cloud/tasks client, pointed at this server over plaintext gRPC. */
  client(): CloudTasksClient;
  tasks: LocalTask[];
  /** The public key the OIDC tokens are signed with, by key id (what the receiver's verifier gets). */
  certs(): Promise<Record<string, string>>;
  /** A token as Cloud Tasks would mint it, for tests that call the receiver directly. */
  mintToken(claims: { email: string; audience: string; emailVerified?: boolean; issuer?: string }): string;
  /** Settles when no task is scheduled or in flight. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

// The protos ship inside the packages, under <root>/build/protos; neither exports its package.json,
// so the root is found from the resolved entry point.
const require = createRequire(import.meta.url);
function packageRoot(entry: string): string {
  let dir = dirname(entry);
  while (!existsSync(join(dir, "build", "protos"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no build/protos above ${entry}`);
    dir = parent;
  }
  return dir;
}
const tasksMain = require.resolve("@google-cloud/tasks");
const tasksRoot = packageRoot(tasksMain);
const gaxRoot = packageRoot(createRequire(tasksMain).resolve("google-gax"));

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString("base64url");
}

/**
 * A local stand-in for Cloud Tasks that speaks its gRPC API (the protos shipped in
 * @google-cloud/tasks), so the real client library is exercised: CreateTask with names
 * (ALREADY_EXISTS on reuse), scheduleTime, HTTP targets with OIDC tokens (RS256, signed by a local
 * key whose certificate the receiver is given), the X-CloudTasks-* headers, and retries with the
 * queue's backoff until maxAttempts.
 */
export async function startLocalCloudTasks(options: LocalCloudTasksOptions = {}): Promise<LocalCloudTasks> {
  const retry = options.retry ?? { maxAttempts: 3, minBackoffMs: 50, maxBackoffMs: 400 };
  const keyId = randomUUID();
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const publicPem = publicKey.export({ type: "spki", format: "pem" }).toString();
  const definition = protoLoader.loadSync("google/cloud/tasks/v2/cloudtasks.proto", {
    includeDirs: [join(tasksRoot, "build", "protos"), join(gaxRoot, "build", "protos")],
    keepCase: false,
    longs: String,
    enums: String,
    defaults: false,
    oneofs: true,
  });
  const loaded = grpc.loadPackageDefinition(definition);
  const service = resolveService(loaded);
  const tasks: LocalTask[] = [];
  const byName = new Map<string, LocalTask>();
  const timers = new Set<NodeJS.Timeout>();
  let inflight = 0;
  let waiters: Array<() => void> = [];
  const settle = () => {
    if (timers.size > 0 || inflight > 0) return;
    for (const wake of waiters.splice(0)) wake();
  };

  function mintToken(claims: { email: string; audience: string; emailVerified?: boolean; issuer?: string }): string {
    const now = Math.floor(Date.now() / 1000);
    const header = base64url(JSON.stringify({ alg: "RS256", typ: "JWT", kid: keyId }));
    const payload = base64url(
      JSON.stringify({
        iss: claims.issuer ?? options.issuer ?? "https://accounts.google.com",
        aud: claims.audience,
        sub: "100000000000000000000",
        email: claims.email,
        email_verified: claims.emailVerified ?? true,
        iat: now,
        exp: now + 3_600,
      }),
    );
    const signature = createSign("RSA-SHA256").update(`${header}.${payload}`).sign(privateKey);
    return `${header}.${payload}.${base64url(signature)}`;
  }

  function schedule(task: LocalTask, atMs: number): void {
    const timer = setTimeout(
      () => {
        timers.delete(timer);
        void dispatch(task);
      },
      Math.max(0, atMs - Date.now()),
    );
    timers.add(timer);
  }

  async function dispatch(task: LocalTask): Promise<void> {
    inflight++;
    task.state = "dispatching";
    const retryCount = task.responses.length;
    let status = 0;
    let retryAfterMs: number | undefined;
    try {
      const response = await fetch(task.url, {
        method: "POST",
        headers: {
          ...task.headers,
          "X-CloudTasks-QueueName": task.queue,
          "X-CloudTasks-TaskName": task.name.split("/").at(-1) ?? task.name,
          "X-CloudTasks-TaskRetryCount": String(retryCount),
          "X-CloudTasks-TaskExecutionCount": String(task.responses.filter((s) => s > 0).length),
          "X-CloudTasks-TaskETA": String(task.scheduleTimeMs / 1000),
          ...(task.oidc
            ? {
                Authorization: `Bearer ${mintToken({ email: task.oidc.serviceAccountEmail, audience: task.oidc.audience })}`,
              }
            : {}),
        },
        body: new Uint8Array(task.body),
      });
      status = response.status;
      const retryAfter = Number.parseInt(response.headers.get("retry-after") ?? "", 10);
      if (Number.isFinite(retryAfter)) retryAfterMs = retryAfter * 1000;
      await response.arrayBuffer();
    } catch {
      status = 0; // unreachable target: counts as an attempt, as in Cloud Tasks
    }
    task.responses.push(status);
    if (status >= 200 && status < 300) {
      task.state = "succeeded";
    } else if (task.responses.length >= retry.maxAttempts) {
      task.state = "dropped";
    } else {
      task.state = "scheduled";
      const backoff = Math.min(retry.maxBackoffMs, retry.minBackoffMs * 2 ** (task.responses.length - 1));
      schedule(task, Date.now() + Math.max(backoff, Math.min(retryAfterMs ?? 0, retry.maxBackoffMs)));
    }
    inflight--;
    settle();
  }

  const server = new grpc.Server();
  server.addService(service, {
    createTask(call: grpc.ServerUnaryCall<CreateTaskRequest, unknown>, callback: grpc.sendUnaryData<unknown>) {
      const { parent, task } = call.request;
      const queue = /^projects\/[^/]+\/locations\/[^/]+\/queues\/([^/]+)$/.exec(parent ?? "")?.[1];
      if (!queue) {
        callback({ code: grpc.status.INVALID_ARGUMENT, details: `bad parent ${parent}` });
        return;
      }
      const http = task?.httpRequest;
      if (!http?.url) {
        callback({ code: grpc.status.INVALID_ARGUMENT, details: "only HTTP tasks are supported here" });
        return;
      }
      const name = task?.name || `${parent}/tasks/${randomUUID().replaceAll("-", "")}`;
      if (!name.startsWith(`${parent}/tasks/`) || !/^[A-Za-z0-9_-]{1,500}$/.test(name.slice(parent.length + 7))) {
        callback({ code: grpc.status.INVALID_ARGUMENT, details: `bad task name ${name}` });
        return;
      }
      if (byName.has(name)) {
        callback({ code: grpc.status.ALREADY_EXISTS, details: `Requested entity already exists: ${name}` });
        return;
      }
      const seconds = Number(task?.scheduleTime?.seconds ?? 0);
      const nanos = task?.scheduleTime?.nanos ?? 0;
      const scheduleTimeMs = seconds > 0 ? seconds * 1000 + Math.floor(nanos / 1e6) : Date.now();
      const created: LocalTask = {
        name,
        queue,
        url: http.url,
        headers: http.headers ?? {},
        body: Buffer.from(http.body ?? []),
        scheduleTimeMs,
        oidc: http.oidcToken?.serviceAccountEmail
          ? { serviceAccountEmail: http.oidcToken.serviceAccountEmail, audience: http.oidcToken.audience ?? http.url }
          : null,
        responses: [],
        state: "scheduled",
      };
      tasks.push(created);
      byName.set(name, created);
      if (options.dispatch !== false) schedule(created, scheduleTimeMs);
      callback(null, {
        name,
        httpRequest: http,
        scheduleTime: task?.scheduleTime ?? { seconds: Math.floor(scheduleTimeMs / 1000) },
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  const clients: CloudTasksClient[] = [];

  return {
    port,
    tasks,
    client() {
      const client = new CloudTasksClient({
        apiEndpoint: "127.0.0.1",
        port,
        sslCreds: grpc.credentials.createInsecure(),
      });
      clients.push(client);
      return client;
    },
    async certs() {
      return { [keyId]: publicPem };
    },
    mintToken,
    idle() {
      return new Promise<void>((resolve) => {
        waiters.push(resolve);
        settle();
      });
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      waiters = [];
      await Promise.all(clients.map((client) => client.close()));
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
  };
}

interface CreateTaskRequest {
  parent: string;
  task?: {
    name?: string;
    scheduleTime?: { seconds?: string; nanos?: number };
    httpRequest?: {
      url?: string;
      headers?: Record<string, string>;
      body?: Buffer;
      oidcToken?: { serviceAccountEmail?: string; audience?: string };
    };
  };
}

type GrpcNode = grpc.GrpcObject | grpc.ServiceClientConstructor | grpc.ProtobufTypeDefinition;

function resolveService(loaded: grpc.GrpcObject): grpc.ServiceDefinition {
  let node: GrpcNode | undefined = loaded;
  for (const part of ["google", "cloud", "tasks", "v2", "CloudTasks"]) {
    // Only namespaces (plain objects without a protobuf `format`) have children.
    node = node && typeof node !== "function" && !("format" in node) ? node[part] : undefined;
  }
  if (typeof node !== "function") throw new Error("CloudTasks service not found in the protos");
  return node.service;
}
