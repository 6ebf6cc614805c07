import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { ROOT } from "./prerequisites.ts";

/**
 * Where a running `npm run dev` put everything, written to `<home>/endpoints.json` once it is
 * ready: how `npm run chat` and `npm run tui` find the stack (ports can be free ones) and the demo.
 */
export const devEndpointsSchema = z.object({
  pid: z.number().int(),
  apiUrl: z.url(),
  runnerUrl: z.url(),
  phonesUrl: z.url(),
  firestoreHost: z.string(),
  authHost: z.string(),
  projectId: z.string(),
  redisUrl: z.string(),
  logDir: z.string(),
  demo: z.object({ tenantId: z.string(), botId: z.string(), botNumber: z.string(), apiKey: z.string() }),
});
export type DevEndpoints = z.output<typeof devEndpointsSchema>;

export const DEFAULT_DEV_HOME = join(ROOT, ".dev");

export function writeDevEndpoints(home: string, endpoints: DevEndpoints): void {
  writeFileSync(join(home, "endpoints.json"), `${JSON.stringify(endpoints, null, 2)}\n`, { mode: 0o600 });
}

/** The endpoints of the `npm run dev` whose home is `home`, if it is running. */
export function readDevEndpoints(home = DEFAULT_DEV_HOME): DevEndpoints {
  const file = join(home, "endpoints.json");
  if (!existsSync(file)) throw new Error(`no ${file}: start the platform first with \`npm run dev\``);
  const endpoints = devEndpointsSchema.parse(JSON.parse(readFileSync(file, "utf8")));
  try {
    process.kill(endpoints.pid, 0);
  } catch {
    throw new Error(`npm run dev (pid ${endpoints.pid}) is not running: start it with \`npm run dev\``);
  }
  return endpoints;
}
