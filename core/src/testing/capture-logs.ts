import { Writable } from "node:stream";

export interface CapturedLogs {
  stream: Writable;
  /** Every JSON line written so far, parsed. */
  lines(): Record<string, unknown>[];
  text(): string;
}

/** A pino destination that keeps what was logged, for asserting on the JSON a logger really wrote. */
export function captureLogs(): CapturedLogs {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString("utf8"));
      callback();
    },
  });
  const text = () => chunks.join("");
  return {
    stream,
    text,
    lines: () =>
      text()
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
