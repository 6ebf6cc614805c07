import { readdirSync, readFileSync } from "node:fs";

/** Linux /proc: a process's parent and state, or undefined once it is gone. */
function stat(pid: number): { ppid: number; state: string } | undefined {
  try {
    // The command name (field 2) is in parentheses and may hold spaces: split after the last ')'.
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const [state = "", ppid = "0"] = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { ppid: Number(ppid), state };
  } catch {
    return undefined;
  }
}

/** `pid` and every process below it, now. */
export function processTree(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const info = stat(Number(entry));
    if (info) parents.set(info.ppid, [...(parents.get(info.ppid) ?? []), Number(entry)]);
  }
  const tree: number[] = [];
  const visit = (p: number) => {
    tree.push(p);
    for (const child of parents.get(p) ?? []) visit(child);
  };
  visit(pid);
  return tree;
}

/** Still running (a zombie has exited; only its parent's bookkeeping is left). */
export function isAlive(pid: number): boolean {
  const info = stat(pid);
  return info !== undefined && info.state !== "Z";
}

/** Resident memory in bytes (VmRSS), 0 for a process that is gone. */
export function residentBytes(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
  } catch {
    return "";
  }
}
