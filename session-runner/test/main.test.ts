import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { MediaStore } from "@whatsdex/core";
import { JobQueue, mediaJobs, queueNames } from "@whatsdex/core/jobs";
import { bullmqTransport } from "@whatsdex/core/jobs/bullmq";
import { requireEnv, testBucket, testFirebase, uniqueId, waitFor } from "@whatsdex/core/testing";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { runnerEnv, runnerMain, tenantWithBots } from "./support/fleet.ts";

const firebase = testFirebase();
afterAll(() => firebase.close());

/** The real entry point, as Cloud Run starts it (from source: Node 24 strips the types). */
function start(env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, ["--conditions=@whatsdex/source", runnerMain], {
    env: runnerEnv(env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk) => (output += chunk));
  child.stderr?.on("data", (chunk) => (output += chunk));
  return { child, output: () => output };
}

describe("session-runner main", () => {
  it("lists every bad variable and exits 1 before serving", async () => {
    const { child, output } = start({
      PORT: "eighty",
      LOG_LEVEL: "chatty",
      SHUTDOWN_GRACE_MS: "60000",
      RUNNER_TENANTS: "tenant-one,not an id",
    });
    const [code] = await once(child, "exit");
    expect(code).toBe(1);
    for (const variable of ["PORT", "LOG_LEVEL", "SHUTDOWN_GRACE_MS", "RUNNER_TENANTS"])
      expect(output()).toContain(`- ${variable}:`);
    // A list names the entry that is wrong.
    expect(output()).toContain('"not an id"');
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

  it("connects this instance's bots and gives them back on SIGTERM", async () => {
    const {
      tenantId,
      botIds: [botId],
    } = await tenantWithBots(firebase.firestore, 1);
    const instance = uniqueId("runner");

    const { child, output } = start({
      PORT: "0",
      HOST: "127.0.0.1",
      RUNNER_INSTANCE_ID: instance,
      LEASE_TTL_MS: "5000",
      RUNNER_TENANTS: tenantId,
    });
    const lease = firebase.firestore.doc(`tenants/${tenantId}/bots/${botId}/lease/current`);
    const bot = firebase.firestore.doc(`tenants/${tenantId}/bots/${botId}`);
    await waitFor("the runner to claim the bot and show a QR code", async () =>
      (await lease.get()).get("owner") === instance && (await bot.get()).get("status.state") === "qr"
        ? true
        : undefined,
    );
    const outbox = firebase.firestore.collection(`tenants/${tenantId}/bots/${botId}/outbox`);
    await waitFor("the queued connect command to be done", async () =>
      (await outbox.get()).docs.every((doc) => doc.get("status") === "done") ? true : undefined,
    );
    const url = /"url":"(http:[^"]+)"/.exec(output())?.[1];
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/session_runner_leases_held\{[^}]*\} 1/);
    expect(metrics).toMatch(/session_runner_bots\{state="qr"[^}]*\} 1/);
    // The connect command queued with the bot was picked up from its outbox.
    expect(metrics).toMatch(/session_runner_outbox_lag_seconds_count\{[^}]*kind="connect"[^}]*\} 1/);
    expect(metrics).toMatch(/session_runner_decrypt_failures_total\{[^}]*\} 0/);
    const status = await (await fetch(`${url}/status`)).json();
    expect(status).toEqual({
      instanceId: instance,
      bots: [{ tenantId, botId, state: "qr", generation: 1, msSinceServerFrame: expect.any(Number) }],
    });
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    expect((await exited)[0]).toBe(0);
    expect((await lease.get()).get("owner")).toBeNull();
    expect((await bot.get()).get("status.state")).toBe("stopped");
  });

  it("runs the job workers on the configured driver: a QR code job queued in Redis lands in the outbox", async () => {
    const {
      tenantId,
      botIds: [botId = ""],
    } = await tenantWithBots(firebase.firestore, 1);
    const prefix = uniqueId("jobs");
    const { child, output } = start({ PORT: "0", HOST: "127.0.0.1", JOBS_DRIVER: "bullmq", BULLMQ_PREFIX: prefix });
    await waitFor("the runner to serve", async () => (/"url":"(http:[^"]+)"/.test(output()) ? true : undefined));
    const transport = bullmqTransport({ redisUrl: requireEnv("REDIS_URL"), queue: queueNames.media, prefix });
    try {
      const queue = new JobQueue({ name: queueNames.media, definitions: mediaJobs, transport });
      const to = "6289999999999@s.whatsapp.net";
      await queue.add("media.qr", { tenantId, botId, to, text: "https://example.com", language: "en" });
      const outbox = firebase.firestore.collection(`tenants/${tenantId}/bots/${botId}/outbox`);
      const sent = await waitFor("the QR code in the outbox", async () => {
        const docs = (await outbox.where("kind", "==", "send").get()).docs;
        return docs[0];
      });
      expect(sent.get("requestedBy")).toBe("job:media.qr");
      expect(sent.get("to")).toBe(to);
      const content = z.object({ type: z.literal("image"), mediaId: z.string() }).parse(sent.get("content"));
      // The worker made the image: it is in the media store, a PNG.
      const image = await new MediaStore(testBucket()).get({ tenantId, botId }, content.mediaId);
      expect(image?.mimetype).toBe("image/png");
    } finally {
      await transport.close();
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      expect((await exited)[0]).toBe(0);
    }
  });

  it("refuses to start without what its jobs driver needs", async () => {
    const { child, output } = start({ JOBS_DRIVER: "cloudtasks" });
    const [code] = await once(child, "exit");
    expect(code).toBe(1);
    for (const variable of ["CLOUD_TASKS_LOCATION", "CLOUD_TASKS_SERVICE_ACCOUNT", "TASKS_BASE_URL"]) {
      expect(output()).toContain(`- ${variable}:`);
    }
  });
});
