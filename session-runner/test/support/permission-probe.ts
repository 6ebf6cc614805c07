/**
 * Loaded with `--import` in front of the production start flags (permission.test.ts): before the
 * runner starts, it tries, inside the same process and under the same permissions, what the runner
 * must be able to do and what it must be refused, prints each outcome ("ok" or the error's code)
 * as one line on stdout, `permission-probe {…}`, and then lets the runner start.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { encryptedStream } from "baileys";
import { applicationDefault } from "firebase-admin/app";

function outcomeOf(error: unknown): string {
  if (typeof error === "object" && error !== null && "code" in error && typeof error.code === "string") {
    return error.code;
  }
  return error instanceof Error ? error.message : String(error);
}

async function attempt(action: () => unknown): Promise<string> {
  try {
    await action();
    return "ok";
  } catch (error) {
    return outcomeOf(error);
  }
}

const probeFile = `permission-probe-${process.pid}.txt`;
const writeInto = (folder: string) =>
  attempt(() => {
    writeFileSync(`${folder}/${probeFile}`, "probe");
    rmSync(`${folder}/${probeFile}`);
  });

const outcomes = {
  writeLogs: await writeInto("Logs"),
  writeBackups: await writeInto("backups"),
  // os.tmpdir(): the image's TMPDIR, tmp/ in the app folder; the system's /tmp is not writable.
  writeTmpdir: await writeInto(process.env.TMPDIR ?? "(TMPDIR unset)"),
  writeSystemTmp: await writeInto("/tmp"),
  writeAppFolder: await writeInto("."),
  writeAboveAppFolder: await writeInto(".."),
  readAboveAppFolder: await attempt(() => readFileSync("../package.json")),
  readEtc: await attempt(() => readFileSync("/etc/passwd")),
  childProcess: await attempt(() => {
    const result = spawnSync(process.execPath, ["--version"]);
    if (result.error) throw result.error;
  }),
  worker: await attempt(() => new Worker("0", { eval: true }).terminate()),
  // Sending media: Baileys encrypts it into a file in os.tmpdir(), uploads it from there, deletes it.
  baileysMediaUpload: await attempt(async () => {
    const { encFilePath } = await encryptedStream(Buffer.from("probe"), "image");
    rmSync(encFilePath);
  }),
  // How every Google client finds its credentials: here there are none (no metadata server), which
  // must be said as such, not as a refused read of a credentials file.
  googleCredentials: await attempt(() => applicationDefault().getAccessToken()),
};
process.stdout.write(`permission-probe ${JSON.stringify(outcomes)}\n`);
