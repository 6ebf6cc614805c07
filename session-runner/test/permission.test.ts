import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { existsSync, mkdirSync, readFileSync, rmdirSync } from "node:fs";
import { homedir } from "node:os";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { MediaStore } from "@whatsdex/core";
import { JobQueue, mediaJobs, queueNames } from "@whatsdex/core/jobs";
import { bullmqTransport } from "@whatsdex/core/jobs/bullmq";
import { requireEnv, testBucket, testFirebase, uniqueId, waitFor } from "@whatsdex/core/testing";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { runtimeStage } from "./support/dockerfile.ts";
import { runnerEnv, tenantWithBots } from "./support/fleet.ts";

/**
 * The production start, as the image runs it: the built runner (dist/, core resolved to its built
 * output) under the Node permission model with exactly the flags of session-runner/package.json's
 * "start" script, from the session-runner folder laid out as the image's /app/session-runner. A
 * probe module in front of it tries writes, reads, child processes and workers under the same flags.
 */
const runnerDir = fileURLToPath(new URL("..", import.meta.url));
const repoRoot = resolve(runnerDir, "..");
const firebase = testFirebase();

const startScript = z
  .object({ scripts: z.object({ start: z.string() }) })
  .parse(JSON.parse(readFileSync(join(runnerDir, "package.json"), "utf8"))).scripts.start;
const startArgv = startScript.split(" ");
const image = runtimeStage(readFileSync(join(repoRoot, "Dockerfile"), "utf8"));
/** The image keeps the repository's layout under /app. */
const IMAGE_ROOT = "/app";
const onThisMachine = (imagePath: string) => join(repoRoot, relative(IMAGE_ROOT, imagePath));

const made: string[] = [];
beforeAll(() => {
  // The image is built with tsc as below; so is what this test starts (it takes seconds).
  const tsc = join(repoRoot, "node_modules", "typescript", "bin", "tsc");
  for (const project of ["core/tsconfig.build.json", "session-runner/tsconfig.build.json"]) {
    const built = spawnSync(process.execPath, [tsc, "-p", project], { cwd: repoRoot, encoding: "utf8" });
    if (built.status !== 0) {
      throw new Error(
        `The production build (tsc -p ${project}) failed, so there is no built runner to start:\n${built.stdout}${built.stderr}`,
      );
    }
  }
  // The folders the image creates for the runner's writes.
  for (const folder of ["Logs", "backups", "tmp"]) {
    const path = join(runnerDir, folder);
    if (!existsSync(path)) {
      mkdirSync(path);
      made.push(path);
    }
  }
}, 60_000);
afterAll(async () => {
  for (const path of made) rmdirSync(path);
  await firebase.close();
});

describe("the production image's start command", () => {
  it("is the start script, run by node itself as PID 1, as an unprivileged user", () => {
    // Exec form has no shell: the script must be plain words to be the same argv in the image.
    expect(startScript).toMatch(/^node( [^\s"'`$\\|&;<>*?(){}]+)+$/);
    expect(image.cmd).toEqual(startArgv);
    expect(image.entrypoint).toEqual([]);
    expect(image.user).toBe("node");
    expect(image.workdir).toBe(`${IMAGE_ROOT}/session-runner`);
    // The same Node.js release as development and CI (root package.json's `node`).
    const root = z
      .object({ devDependencies: z.object({ node: z.string() }) })
      .parse(JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")));
    expect(image.nodeImage).toBe(`node:${root.devDependencies.node}-bookworm-slim`);
  });

  it("serves, connects a bot and makes images under --permission, and refuses writes outside Logs/, backups/ and tmp/", async () => {
    // A checkout inside a folder the flags let the runner write to would make "outside" writes look allowed.
    expect(startArgv.filter((arg) => arg.startsWith("--allow-fs-write=/"))).toEqual([]);
    const cloudsdkConfig = image.env.get("CLOUDSDK_CONFIG") ?? "";
    expect(cloudsdkConfig.startsWith(`${image.workdir}/`)).toBe(true);
    // os.tmpdir() is one of the writable folders.
    const tmpdir = image.env.get("TMPDIR") ?? "";
    expect(tmpdir).toBe(`${image.workdir}/tmp`);

    const {
      tenantId,
      botIds: [botId = ""],
    } = await tenantWithBots(firebase.firestore, 1);
    const instance = uniqueId("runner");
    const prefix = uniqueId("jobs");
    const child = spawn(process.execPath, ["--import", "./test/support/permission-probe.ts", ...startArgv.slice(1)], {
      cwd: runnerDir,
      env: runnerEnv({
        NODE_ENV: "production",
        AUTH_STATE_KEYS: `k1:${randomBytes(32).toString("base64")}`,
        JOBS_DRIVER: "bullmq",
        BULLMQ_PREFIX: prefix,
        ALLOW_SIMULATOR: "true",
        TRACE_EXPORTER: "none",
        PORT: "0",
        HOST: "127.0.0.1",
        RUNNER_INSTANCE_ID: instance,
        RUNNER_TENANTS: tenantId,
        LEASE_TTL_MS: "5000",
        CLOUDSDK_CONFIG: onThisMachine(cloudsdkConfig),
        TMPDIR: onThisMachine(tmpdir),
        // A home the process may not read: credentials must be looked up without it.
        HOME: homedir(),
      }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    const exited = once(child, "exit");
    const transport = bullmqTransport({ redisUrl: requireEnv("REDIS_URL"), queue: queueNames.media, prefix });
    try {
      const probe = await waitFor("the probe's report", async () => /^permission-probe (.+)$/m.exec(output)?.[1]);
      expect(JSON.parse(probe)).toEqual({
        writeLogs: "ok",
        writeBackups: "ok",
        writeTmpdir: "ok",
        writeSystemTmp: "ERR_ACCESS_DENIED",
        writeAppFolder: "ERR_ACCESS_DENIED",
        writeAboveAppFolder: "ERR_ACCESS_DENIED",
        readAboveAppFolder: "ERR_ACCESS_DENIED",
        readEtc: "ERR_ACCESS_DENIED",
        childProcess: "ERR_ACCESS_DENIED",
        worker: "ERR_ACCESS_DENIED",
        baileysMediaUpload: "ok",
        googleCredentials: expect.stringContaining("Could not load the default credentials"),
      });

      const url = await waitFor("the runner to serve", async () => /"url":"(http:[^"]+)"/.exec(output)?.[1]);
      expect(await (await fetch(`${url}/healthz`)).json()).toMatchObject({ status: "serving", instanceId: instance });

      // Firestore (gRPC to the emulator), leases and the simulator transport: the bot shows a QR code.
      const bot = firebase.firestore.doc(`tenants/${tenantId}/bots/${botId}`);
      const lease = firebase.firestore.doc(`tenants/${tenantId}/bots/${botId}/lease/current`);
      await waitFor("the runner to claim the bot and show a QR code", async () =>
        (await lease.get()).get("owner") === instance && (await bot.get()).get("status.state") === "qr"
          ? true
          : undefined,
      );

      // sharp (a native addon) and its libvips, SVG text and fonts: a meme made by the media worker.
      const media = new MediaStore(testBucket());
      const grey = { r: 128, g: 128, b: 128 };
      const input = await sharp({ create: { width: 600, height: 400, channels: 3, background: grey } })
        .png()
        .toBuffer();
      await media.put({ tenantId, botId }, "permission-input", { mimetype: "image/png", data: input });
      const queue = new JobQueue({ name: queueNames.media, definitions: mediaJobs, transport });
      const job = {
        tenantId,
        botId,
        to: "6281234567890@s.whatsapp.net",
        inputMediaId: "permission-input",
        top: "permission model",
        bottom: "",
        language: "en" as const,
      };
      await queue.add("media.meme", job, { jobId: uniqueId("meme") });
      const outbox = firebase.firestore.collection(`tenants/${tenantId}/bots/${botId}/outbox`);
      const mediaId = await waitFor("the meme in the outbox", async () => {
        const sends = await outbox.where("kind", "==", "send").get();
        const content = sends.docs[0]?.get("content");
        return content?.type === "image" ? z.string().parse(content.mediaId) : undefined;
      });
      const meme = await media.get({ tenantId, botId }, mediaId);
      if (!meme) throw new Error(`the meme ${mediaId} is not in the media store`);
      const { data, info } = await sharp(meme.data).raw().toBuffer({ resolveWithObject: true });
      const changedIn = (fromRow: number, toRow: number) => {
        let changed = 0;
        for (let y = fromRow; y < toRow; y++) {
          for (let x = 0; x < info.width; x++) {
            const i = (y * info.width + x) * info.channels;
            if (Math.abs((data[i] ?? 0) - grey.r) > 40) changed++;
          }
        }
        return changed / ((toRow - fromRow) * info.width);
      };
      // White letters outlined in black across the top; the middle is the untouched picture.
      expect(changedIn(0, Math.round(info.height * 0.25))).toBeGreaterThan(0.03);
      expect(changedIn(Math.round(info.height * 0.4), Math.round(info.height * 0.6))).toBe(0);

      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/session_runner_bots\{state="qr"[^}]*\} 1/);
      expect(metrics).toMatch(/session_runner_leases_held\{[^}]*\} 1/);

      child.kill("SIGTERM");
      expect((await exited)[0]).toBe(0);
      expect(output).toContain("session-runner stopped");
    } catch (error) {
      if (error instanceof Error) error.message += `\n--- the runner's output ---\n${output}`;
      throw error;
    } finally {
      await transport.close();
      if (child.exitCode === null) {
        child.kill("SIGKILL");
        await exited;
      }
    }
  }, 60_000);
});
