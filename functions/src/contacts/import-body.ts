import type { Readable } from "node:stream";
import { formatBytes, PayloadTooLargeError } from "@whatsdex/core";
import type { Request } from "express";
import { feedMultipart, invalidUpload, openMultipart } from "../http/multipart.ts";

/** A CSV import's file: at most this many bytes (about 200,000 rows of a few columns). */
export const MAX_IMPORT_BYTES = 20 * 1024 * 1024;

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
    throw invalidUpload("body", "send multipart/form-data with one `file` part (the CSV)");
  }
  // The multipart envelope adds a few hundred bytes around the file.
  const envelope = 16 * 1024;
  const declared = Number(req.get("content-length") ?? Number.NaN);
  const raw: unknown = Reflect.get(req, "rawBody");
  const size = Buffer.isBuffer(raw) ? raw.length : declared;
  if (Number.isFinite(size) && size > limitBytes + envelope) throw importTooLarge(limitBytes);

  const parser = openMultipart(req, { files: 1, fields: 0, fileSize: limitBytes }, "one `file` part (the CSV)");
  return new Promise<T>((resolve, reject) => {
    let seen = false;
    parser.on("file", (name, stream, info) => {
      if (name !== "file" || seen) {
        stream.resume();
        reject(invalidUpload(`body.${name}`, seen ? "send one file" : "the file part is named `file`"));
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
    parser.on("field", (name) => reject(invalidUpload(`body.${name}`, "is not part of an import (send only `file`)")));
    parser.on("filesLimit", () => reject(invalidUpload("body.file", "send one file")));
    parser.on("fieldsLimit", () => reject(invalidUpload("body", "is not part of an import (send only `file`)")));
    parser.on("error", (error: unknown) =>
      reject(invalidUpload("body", error instanceof Error ? error.message : "is not valid multipart/form-data")),
    );
    parser.on("close", () => {
      if (!seen) reject(invalidUpload("body.file", "is required: one file part named `file`"));
    });
    feedMultipart(req, parser);
  });
}
