import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";

/**
 * Where a running `npm run dev` put everything, written to `<home>/endpoints.json` once it is
 * ready: how `npm run chat` and `npm run tui` find the stack (ports can be free ones) and the demo.
 */
export const devEndpointsSchema = z.object({
  pid: z.number().int(),
  apiUrl: z.url(),
  runnerUrl: z.url(),
  phonesUrl: z.url(),
  firestoreHost: z.string().min(1),
  authHost: z.string().min(1),
  projectId: z.string().min(1),
  redisUrl: z.url(),
  logDir: z.string().min(1),
  demo: z.object({ tenantId: z.string(), botId: z.string(), botNumber: z.string(), apiKey: z.string() }),
});
export type DevEndpoints = z.output<typeof devEndpointsSchema>;

export const DEFAULT_DEV_HOME = fileURLToPath(new URL("../../../.dev", import.meta.url));

export function writeDevEndpoints(home: string, endpoints: DevEndpoints): void {
  writeFileSync(join(home, "endpoints.json"), `${JSON.stringify(endpoints, null, 2)}\n`, { mode: 0o600 });
}

/** The endpoints of the `npm run dev` whose home is `home`, when one is running there. */
export function runningDevEndpoints(home = DEFAULT_DEV_HOME): DevEndpoints | undefined {
  const file = join(home, "endpoints.json");
  if (!existsSync(file)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
  const endpoints = devEndpointsSchema.safeParse(json);
  if (!endpoints.success) return undefined;
  try {
    process.kill(endpoints.data.pid, 0);
    return endpoints.data;
  } catch (error) {
    // EPERM: running, as another user. Otherwise the file was left by a dev run that has ended.
    return error instanceof Error && "code" in error && error.code === "EPERM" ? endpoints.data : undefined;
  }
}

/** As runningDevEndpoints, for a tool that cannot work without the stack: says how to start it. */
export function readDevEndpoints(home = DEFAULT_DEV_HOME): DevEndpoints {
  const endpoints = runningDevEndpoints(home);
  if (endpoints) return endpoints;
  const file = join(home, "endpoints.json");
  throw new Error(
    existsSync(file)
      ? `the npm run dev that wrote ${file} is not running: start it with \`npm run dev\``
      : `no ${file}: start the platform first with \`npm run dev\``,
  );
}
