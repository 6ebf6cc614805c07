import type { IncomingMessage, ServerResponse } from "node:http";
import { sendMediaError } from "./media-errors.ts";
import type { MediaStore } from "./media-store.ts";

/**
 * `GET` (or `HEAD`) of a stored file by its path: a message's direct path and its full URL differ
 * only in the query, which is not looked at. Honours one byte range (`Range: bytes=a-b`, `a-`,
 * `-n`), as Baileys asks for when it downloads part of a file (`startByte`/`endByte`).
 */
export function serveDownload(request: IncomingMessage, response: ServerResponse, url: URL, store: MediaStore): void {
  const file = store.get(url.pathname);
  if (!file) {
    sendMediaError(response, "not_found");
    return;
  }
  const size = file.bytes.length;
  const range = byteRange(request.headers.range, size);
  if (range === "unsatisfiable") {
    sendMediaError(response, "range_not_satisfiable", `${size} bytes`, { "content-range": `bytes */${size}` });
    return;
  }
  const { start, end } = range ?? { start: 0, end: size - 1 };
  const headers: Record<string, string> = {
    "content-type": "application/octet-stream",
    "content-length": String(end - start + 1),
    "accept-ranges": "bytes",
  };
  if (range) headers["content-range"] = `bytes ${start}-${end}/${size}`;
  response.writeHead(range ? 206 : 200, headers);
  response.end(request.method === "HEAD" ? undefined : file.bytes.subarray(start, end + 1));
}

/**
 * The one range a `Range` header asks for, clamped to the file; undefined for the whole file
 * (no header, several ranges or one that does not parse: RFC 9110 lets a server ignore those).
 */
export function byteRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | "unsatisfiable" | undefined {
  const match = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!match || (match[1] === "" && match[2] === "")) return undefined;
  const [first, last] = [match[1] ?? "", match[2] ?? ""];
  if (first === "") {
    const suffix = Number(last);
    return suffix === 0 || size === 0 ? "unsatisfiable" : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (start >= size) return "unsatisfiable";
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  return end < start ? undefined : { start, end };
}
