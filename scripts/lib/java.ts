import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";

export interface Java {
  bin: string;
  home: string;
  major: number;
}

/** firebase-tools refuses to start its Java emulators on anything older. */
export const MIN_JAVA = 21;

/**
 * The newest Java >= 21 on this machine: JAVA_HOME, then `java` on PATH, then the usual JDK folders.
 * Machines often have an older default `java` beside a newer JDK, so every candidate is checked.
 */
export function findJava(): Java | undefined {
  const found = candidates()
    .filter((bin) => existsSync(bin))
    .map((bin) => ({ bin, home: dirname(dirname(bin)), major: javaMajor(bin) }))
    .filter((java) => java.major >= MIN_JAVA)
    .sort((a, b) => b.major - a.major);
  return found[0];
}

function candidates(): string[] {
  const list: string[] = [];
  if (process.env.JAVA_HOME) list.push(join(process.env.JAVA_HOME, "bin", "java"));
  for (const dir of (process.env.PATH ?? "").split(delimiter)) if (dir) list.push(join(dir, "java"));
  const roots: Array<[string, string[]]> = [
    ["/usr/lib/jvm", ["bin", "java"]],
    ["/Library/Java/JavaVirtualMachines", ["Contents", "Home", "bin", "java"]],
    ["/opt/homebrew/opt", ["bin", "java"]],
    ["/usr/local/opt", ["bin", "java"]],
  ];
  for (const [root, tail] of roots) {
    if (!existsSync(root)) continue;
    for (const entry of readdirSync(root)) list.push(join(root, entry, ...tail));
  }
  return [...new Set(list)];
}

function javaMajor(bin: string): number {
  const result = spawnSync(bin, ["-version"], { encoding: "utf8", timeout: 10_000 });
  const match = /version "(\d+)(?:\.(\d+))?/.exec(`${result.stderr}${result.stdout}`);
  if (!match) return 0;
  const first = Number(match[1]);
  // Java 8 and older report "1.8.0".
  return first === 1 ? Number(match[2] ?? 0) : first;
}
