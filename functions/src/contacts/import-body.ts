import type { Readable } from "node:stream";
import { formatBytes, PayloadTooLargeError, ValidationError } from "@whatsdex/core";
import busboy from "busboy";
import type { Request } from "express";

/** A CSV import's file: at most this many bytes (about 200,000 rows of a few columns). */
export const MAX_IMPORT_BYTES = 20 * 1024 * 1024;

function invalid(path: string, message: string): ValidationError {
  return new ValidationError(`Invalid upload: ${path}: ${message}`, [{ path, message }]);
}

export function importTooLarge(limitBytes: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`A contacts file may be at most ${formatBytes(limitBytes)}; split it.`, {
    details: { limitBytes },
  });
}

/**
 * Hands the `file` part of a `multipart/form-data` upload to `consume` as a stream while it
 * arrives (never the whole file at once; under Cloud Functions, where the platform has kept the
 * body in `req.rawBody`, from those bytes). A body declared larger than the limit is refused before
 * anything is read; one that turns out larger fails the stream at the limit.
 */
export function receiveCsvFile<T>(
  req: Request,
  limitBytes: number,
  consume: (file: Readable, fileName: string | null) => Promise<T>,
): Promise<T> {
  if (!req.is("multipart/form-data")) {
    throw invalid("body", "send multipart/form-data with one `file` part (the CSV)");
  }
  // The multipart envelope adds a few hundred bytes around the file.
  const envelope = 16 * 1024;
  const declared = Number(req.get("content-length") ?? Number.NaN);
  const raw: unknown = Reflect.get(req, "rawBody");
  const size = Buffer.isBuffer(raw) ? raw.length : declared;
  if (Number.isFinite(size) && size > limitBytes + envelope) throw importTooLarge(limitBytes);

  let parser: busboy.Busboy;
  try {
    parser = busboy({ headers: req.headers, limits: { files: 1, fields: 0, fileSize: limitBytes } });
  } catch (error) {
    throw invalid("body", error instanceof Error ? error.message : "is not valid multipart/form-data");
  }
  return new Promise<T>((resolve, reject) => {
    let seen = false;
    parser.on("file", (name, stream, info) => {
      if (name !== "file" || seen) {
        stream.resume();
        reject(invalid(`body.${name}`, seen ? "send one file" : "the file part is named `file`"));
        return;
      }
      seen = true;
      stream.once("limit", () => stream.destroy(importTooLarge(limitBytes)));
      consume(stream, info.filename ?? null).then(resolve, (error: unknown) => {
        // Whatever is left is read away, so the client hears the answer instead of a reset.
        if (!stream.destroyed) stream.resume();
        reject(error);
      });
    });
    parser.on("field", (name) => reject(invalid(`body.${name}`, "is not part of an import (send only `file`)")));
    parser.on("filesLimit", () => reject(invalid("body.file", "send one file")));
    parser.on("fieldsLimit", () => reject(invalid("body", "is not part of an import (send only `file`)")));
    parser.on("error", (error: unknown) =>
      reject(invalid("body", error instanceof Error ? error.message : "is not valid multipart/form-data")),
    );
    parser.on("close", () => {
      if (!seen) reject(invalid("body.file", "is required: one file part named `file`"));
    });
    if (Buffer.isBuffer(raw)) parser.end(raw);
    else req.pipe(parser);
  });
}
