import { spawnSync } from "node:child_process";
import { connect } from "node:net";
import { freePort } from "./ports.ts";
import { type Managed, startGroup, stopGroup } from "./processes.ts";
import { pollUntil } from "./wait.ts";

export interface RedisHandle {
  url: string;
  /** How we got it, for the start-up banner. */
  source: "REDIS_URL" | "127.0.0.1:6379" | "started";
  stop(): Promise<void>;
}

const missingRedis =
  "Redis is needed and none was found: REDIS_URL is not set, nothing answers on 127.0.0.1:6379, and " +
  "`redis-server` is not on PATH. Install it (Debian/Ubuntu: `apt-get install -y redis-server`; " +
  "macOS: `brew install redis`) or point REDIS_URL at a running Redis.";

/** Why no Redis can be had, or undefined when provideRedis will find or start one. */
export async function redisUnavailable(): Promise<string | undefined> {
  const fromEnv = process.env.REDIS_URL;
  if (fromEnv) {
    const { hostname, port } = new URL(fromEnv);
    const ok = await answersPing(hostname, Number(port || 6379));
    return ok ? undefined : `REDIS_URL is set to a Redis that does not answer (${hostname}:${port || 6379}).`;
  }
  if (hasRedisServer() || (await answersPing("127.0.0.1", 6379))) return undefined;
  return missingRedis;
}

/** REDIS_URL if set (it must answer), else a Redis on 127.0.0.1:6379, else our own `redis-server`. */
export async function provideRedis(): Promise<RedisHandle> {
  const fromEnv = process.env.REDIS_URL;
  if (fromEnv) {
    const { hostname, port } = new URL(fromEnv);
    if (!(await answersPing(hostname, Number(port || 6379)))) {
      throw new Error(`REDIS_URL is set to a Redis that does not answer (${hostname}:${port || 6379}).`);
    }
    return { url: fromEnv, source: "REDIS_URL", stop: async () => undefined };
  }
  if (await answersPing("127.0.0.1", 6379)) {
    return { url: "redis://127.0.0.1:6379", source: "127.0.0.1:6379", stop: async () => undefined };
  }
  if (!hasRedisServer()) throw new Error(missingRedis);
  return startRedisServer();
}

function hasRedisServer(): boolean {
  return spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;
}

async function startRedisServer(): Promise<RedisHandle> {
  const port = await freePort();
  // In memory only: tests and dev runs must leave no dump files behind.
  const managed: Managed = startGroup(
    "redis",
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: "ignore" },
  );
  try {
    await pollUntil("redis-server", () => answersPing("127.0.0.1", port), {
      timeoutMs: 10_000,
      gaveUp: managed.exited,
    });
  } catch (error) {
    await stopGroup(managed);
    throw error;
  }
  return { url: `redis://127.0.0.1:${port}`, source: "started", stop: () => stopGroup(managed) };
}

/** True when something on host:port speaks RESP (PONG, or NOAUTH from a password-protected Redis). */
export function answersPing(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => done(/^(\+PONG|-NOAUTH)/.test(data.toString("utf8"))));
  });
}
