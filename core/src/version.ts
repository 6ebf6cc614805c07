import { readFileSync } from "node:fs";

/**
 * The `version` of the package.json one folder above `moduleUrl` (`src/` and `dist/`/`lib/` alike),
 * so each deployable reports its own release without a build step writing it in.
 */
export function packageVersion(moduleUrl: string): string {
  const raw: unknown = JSON.parse(readFileSync(new URL("../package.json", moduleUrl), "utf8"));
  if (typeof raw === "object" && raw !== null && "version" in raw && typeof raw.version === "string") {
    return raw.version;
  }
  throw new Error(`package.json next to ${moduleUrl} has no version`);
}
