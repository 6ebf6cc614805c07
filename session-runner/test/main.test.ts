import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { waitFor } from "@whatsdex/core/testing";
import { describe, expect, it } from "vitest";

const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));

/** The real entry point, as Cloud Run starts it (from source: Node 24 strips the types). */
function start(env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, ["--conditions=@whatsdex/source", main], {
    env: { PATH: process.env.PATH ?? "", NODE_ENV: "test", TRACE_EXPORTER: "none", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk) => (output += chunk));
  child.stderr?.on("data", (chunk) => (output += chunk));
  return { child, output: () => output };
}

describe("session-runner main", () => {
  it("lists every bad variable and exits 1 before serving", async () => {
    const { child, output } = start({ PORT: "eighty", LOG_LEVEL: "chatty", SHUTDOWN_GRACE_MS: "60000" });
    const [code] = await once(child, "exit");
    expect(code).toBe(1);
    for (const variable of ["PORT", "LOG_LEVEL", "SHUTDOWN_GRACE_MS"]) expect(output()).toContain(`- ${variable}:`);
  });

  it("serves /healthz, then drains and exits 0 on SIGTERM", async () => {
    const { child, output } = start({ PORT: "0", HOST: "127.0.0.1", RUNNER_INSTANCE_ID: "main-test" });
    const url = await waitFor("the runner to log its URL", async () => /"url":"(http:[^"]+)"/.exec(output())?.[1]);
    const health = await fetch(`${url}/healthz`);
    expect(await health.json()).toMatchObject({ status: "serving", instanceId: "main-test" });
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    const [code] = await exited;
    expect(code).toBe(0);
    expect(output()).toContain("session-runner stopped");
  });
});
