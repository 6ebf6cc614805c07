import { spawn } from "node:child_process";
import { once } from "node:events";
import { createWriteStream, existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { z } from "zod";

/**
 * The ready line `local-whatsapp/src/main.ts` prints once it listens: what a runner needs to trust
 * the server (URL, Noise root key, media origin and CA) and where its phone API is.
 */
export const localWhatsAppReadySchema = z.object({
  event: z.literal("ready"),
  url: z.string().regex(/^wss?:\/\//, "must be a ws:// or wss:// URL"),
  rootKey: z
    .base64()
    .transform((key) => new Uint8Array(Buffer.from(key, "base64")))
    .refine((key) => key.length === 32, "must be a 32-byte key"),
  phonesUrl: z.url(),
  mediaOrigin: z.url(),
  mediaCaPem: z.string().includes("-----BEGIN CERTIFICATE-----"),
});
export type LocalWhatsAppReady = z.output<typeof localWhatsAppReadySchema>;

export interface LocalWhatsAppProcess {
  ready: LocalWhatsAppReady;
  pid: number;
  /** SIGTERM (the server saves nothing here and closes its sockets), SIGKILL if it is not gone in 10 s. */
  stop(): Promise<void>;
}

/** The server's entry point, found through its package (the source condition resolves to src/index.ts). */
function mainPath(): string {
  const entry = fileURLToPath(import.meta.resolve("@whatsdex/local-whatsapp"));
  const main = join(dirname(entry), "main.ts");
  if (!existsSync(main)) throw new Error(`the local WhatsApp server's main.ts is not beside ${entry}`);
  return main;
}

/**
 * Runs the local WhatsApp server as a child process, so that its CPU and memory (the phones' Signal
 * work, every device's queue) stay out of the process being measured. Resolves on its ready line —
 * never on a timer — and rejects with its last output if it exits first. Everything it prints after
 * that line (its warnings) goes to `logFile`, read continuously so a full pipe never stalls it.
 */
export async function startLocalWhatsAppProcess(options: { logFile: string }): Promise<LocalWhatsAppProcess> {
  mkdirSync(dirname(options.logFile), { recursive: true });
  const log = createWriteStream(options.logFile);
  const child = spawn(
    process.execPath,
    ["--conditions=@whatsdex/source", mainPath(), "--port", "0", "--phones-port", "0", "--log-level", "warn"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const { pid } = child;
  if (pid === undefined) throw new Error("the local WhatsApp server did not start (no pid)");
  const exited = once(child, "exit");
  const tail: string[] = [];
  const keep = (line: string) => {
    tail.push(line);
    if (tail.length > 20) tail.shift();
    log.write(`${line}\n`);
  };
  createInterface({ input: child.stderr }).on("line", keep);
  const lines = createInterface({ input: child.stdout });

  const ready = await new Promise<LocalWhatsAppReady>((resolve, reject) => {
    const onLine = (line: string) => {
      keep(line);
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch {
        return;
      }
      const parsed = localWhatsAppReadySchema.safeParse(json);
      if (!parsed.success) return;
      lines.off("line", onLine);
      lines.on("line", keep);
      resolve(parsed.data);
    };
    lines.on("line", onLine);
    exited.then(
      ([code, signal]) =>
        reject(
          new Error(
            `the local WhatsApp server exited (${signal ?? code}) before it was ready; its last output:\n${tail.join("\n")}`,
          ),
        ),
      reject,
    );
  });

  return {
    ready,
    pid,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      process.kill(pid, "SIGTERM");
      const killer = setTimeout(() => process.kill(pid, "SIGKILL"), 10_000);
      await exited;
      clearTimeout(killer);
      log.end();
    },
  };
}
