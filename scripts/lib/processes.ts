import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";
import { once } from "node:events";

/**
 * Children started by our scripts, each the leader of its own process group so that stopping it
 * also stops what it started (the Firestore emulator's java, a watcher's node) and nothing else.
 */
export interface Managed {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

export function startGroup(
  name: string,
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
): Managed {
  const child = spawn(command, args, { ...options, detached: true });
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 : null)));
    child.once("error", () => resolve(null));
  });
  return { name, child, exited };
}

function signalGroup(managed: Managed, signal: NodeJS.Signals): void {
  const pid = managed.child.pid;
  if (pid === undefined || managed.child.exitCode !== null || managed.child.signalCode !== null) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

/**
 * Stops a group: `leaderSignal` to the leader alone first when given (firebase-tools exports data
 * and stops its emulators itself on SIGINT, which a group-wide signal would pre-empt by killing
 * java under it), else SIGTERM to the whole group; SIGKILL to what is left after `graceMs`.
 */
export async function stopGroup(
  managed: Managed,
  { graceMs = 10_000, leaderSignal }: { graceMs?: number; leaderSignal?: NodeJS.Signals } = {},
): Promise<void> {
  const pid = managed.child.pid;
  if (leaderSignal && pid !== undefined && managed.child.exitCode === null && managed.child.signalCode === null) {
    try {
      process.kill(pid, leaderSignal);
    } catch {
      // Already gone.
    }
  } else {
    signalGroup(managed, "SIGTERM");
  }
  const timer = setTimeout(() => signalGroup(managed, "SIGKILL"), graceMs);
  await managed.exited;
  clearTimeout(timer);
  // The leader may exit before its children: make sure none of the group outlives it.
  if (pid !== undefined) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // Nothing left in the group.
    }
  }
}

/** Runs a command to completion in the foreground, inheriting stdio; resolves with its exit code. */
export async function run(command: string, args: readonly string[], options: SpawnOptions = {}): Promise<number> {
  const child = spawn(command, args, { stdio: "inherit", ...options });
  const [code, signal] = (await once(child, "exit")) as [number | null, NodeJS.Signals | null];
  return code ?? (signal ? 128 : 1);
}

/** Prefixes each line a child writes, so that several services can share one terminal. */
export function pipeWithPrefix(managed: Managed, write: (line: string) => void): void {
  for (const stream of [managed.child.stdout, managed.child.stderr]) {
    if (!stream) continue;
    let pending = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) write(`[${managed.name}] ${line}`);
    });
    stream.on("end", () => {
      if (pending) write(`[${managed.name}] ${pending}`);
    });
  }
}
