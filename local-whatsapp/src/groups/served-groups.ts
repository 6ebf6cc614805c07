import type { Directory } from "../accounts/directory.ts";
import type { GroupOperations } from "./group-operations.ts";

/**
 * The groups a server keeps, found from its directory. A query's context names the server's
 * directory (not the server), so the `w:g2` handlers find the groups through it; the server attaches
 * them once at start.
 */
const served = new WeakMap<Directory, GroupOperations>();

export function serveGroups(directory: Directory, groups: GroupOperations): void {
  served.set(directory, groups);
}

export function groupsOf(directory: Directory): GroupOperations {
  const groups = served.get(directory);
  if (!groups) throw new Error("no groups are served for this directory: LocalWhatsApp attaches them with serveGroups");
  return groups;
}
