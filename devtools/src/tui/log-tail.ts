import { type FileHandle, open, stat } from "node:fs/promises";
import { type LogEntry, parseLogLine } from "./log-line.ts";

export type LogFileStatus =
  | { kind: "opening"; path: string }
  /** Not there (yet): `npm run dev` creates it when the runner starts; it is picked up then. */
  | { kind: "missing"; path: string }
  | { kind: "reading"; path: string; size: number }
  | { kind: "error"; path: string; message: string };

export interface LogTailOptions {
  path: string;
  /** How many parsed lines are kept (the oldest fall off). */
  keep: number;
  /** At start, only the end of an existing file is read: this many bytes at most. */
  initialBytes: number;
  pollMs: number;
  onChange(entries: readonly LogEntry[], status: LogFileStatus): void;
}

const NEWLINE = 0x0a;

/**
 * Follows a log file like `tail -F`: what is appended is parsed line by line, a file that is not
 * there yet is waited for, and a truncated or replaced (rotated) file is read again from its start.
 * It polls `stat` rather than using fs.watch, whose events are lost across rotation and differ by
 * platform; at a few stats a second the cost is nothing.
 */
export function tailLog(options: LogTailOptions): { close(): void } {
  let entries: LogEntry[] = [];
  let status: LogFileStatus = { kind: "opening", path: options.path };
  let seq = 0;
  /**
   * The file being read (by inode), how far, the bytes of a line not yet ended, and whether the
   * first line read is a tail end to drop (reading started mid-file).
   */
  let current: { ino: number; position: number; partial: Buffer; dropFirstLine: boolean } | undefined;
  let seenAny = false;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let published = "";

  const publish = () => {
    const seen = `${seq} ${JSON.stringify(status)}`;
    if (seen === published) return;
    published = seen;
    options.onChange(entries, status);
  };
  // A new array on every change: the panes memoise on it.
  const add = (lines: readonly string[]) => {
    const parsed = lines.filter((line) => line.trim() !== "").map((line) => parseLogLine(line, seq++));
    if (parsed.length > 0) entries = [...entries, ...parsed].slice(-options.keep);
  };

  async function poll(): Promise<void> {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(options.path);
    } catch (error) {
      current = undefined;
      status = isNotFound(error)
        ? { kind: "missing", path: options.path }
        : { kind: "error", path: options.path, message: messageOf(error) };
      return;
    }
    if (!current || current.ino !== info.ino || info.size < current.position) {
      if (current)
        add([current.ino !== info.ino ? "(log file replaced: reading the new one)" : "(log file truncated)"]);
      // The first file seen is joined near its end; one that appears or replaces it later is new, read whole.
      const start = seenAny ? 0 : Math.max(0, info.size - options.initialBytes);
      current = { ino: info.ino, position: start, partial: Buffer.alloc(0), dropFirstLine: start > 0 };
      seenAny = true;
    }
    if (info.size > current.position) await readFrom(current, info.size);
    status = { kind: "reading", path: options.path, size: info.size };
  }

  async function readFrom(file: NonNullable<typeof current>, size: number): Promise<void> {
    // A burst bigger than what is kept is skipped to its end instead of parsed.
    if (size - file.position > options.initialBytes) {
      file.position = size - options.initialBytes;
      file.partial = Buffer.alloc(0);
      file.dropFirstLine = true;
    }
    let handle: FileHandle | undefined;
    try {
      handle = await open(options.path, "r");
      const buffer = Buffer.alloc(size - file.position);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, file.position);
      file.position += bytesRead;
      const data = Buffer.concat([file.partial, buffer.subarray(0, bytesRead)]);
      const lastNewline = data.lastIndexOf(NEWLINE);
      if (lastNewline < 0) {
        file.partial = data;
        return;
      }
      file.partial = data.subarray(lastNewline + 1);
      const lines = data.subarray(0, lastNewline).toString("utf8").split("\n");
      if (file.dropFirstLine) {
        lines.shift();
        file.dropFirstLine = false;
      }
      add(lines.map((line) => line.replace(/\r$/, "")));
    } finally {
      await handle?.close();
    }
  }

  const loop = () => {
    poll()
      .catch((error: unknown) => {
        status = { kind: "error", path: options.path, message: messageOf(error) };
      })
      .finally(() => {
        if (closed) return;
        publish();
        timer = setTimeout(loop, options.pollMs);
      });
  };
  loop();

  return {
    close() {
      closed = true;
      clearTimeout(timer);
    },
  };
}

function isNotFound(error: unknown): boolean {
  return error instanceof Error && "code" in error && (error.code === "ENOENT" || error.code === "ENOTDIR");
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
