import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { BufferJSON } from "baileys";
import type { Logger } from "pino";
import type { LocalWhatsApp } from "../server/local-whatsapp.ts";
import { type ServerSnapshot, snapshotSchema } from "./snapshot.ts";

const SAVE_EVERY_MS = 2_000;

/** The saved state, or undefined when the file does not exist yet; a clear error when it is not one. */
export function loadState(path: string): ServerSnapshot | undefined {
  if (!existsSync(path)) return undefined;
  const parsed = snapshotSchema.safeParse(JSON.parse(readFileSync(path, "utf8"), BufferJSON.reviver));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${path} is not a local WhatsApp state file: ${issue?.path.join(".")}: ${issue?.message}`);
  }
  return parsed.data;
}

function save(server: LocalWhatsApp, path: string, last: string | undefined): string {
  const text = JSON.stringify(server.snapshot(), BufferJSON.replacer);
  if (text === last) return text;
  // Whole or not at all: a crash mid-write leaves the previous state.
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
  return text;
}

/** Saves the server's state every 2 s when it changed; the returned stop saves a last time. */
export function saveStateOnChange(server: LocalWhatsApp, path: string, logger: Logger): () => Promise<void> {
  let last: string | undefined;
  const tick = () => {
    try {
      last = save(server, path, last);
    } catch (error) {
      logger.error({ err: error, path }, "could not save the local WhatsApp state");
    }
  };
  tick();
  const timer = setInterval(tick, SAVE_EVERY_MS);
  return async () => {
    clearInterval(timer);
    tick();
  };
}
