import { ValidationError } from "@whatsdex/core";
import busboy from "busboy";
import type { Request } from "express";

/** A refused part of a multipart upload, named as the client sent it (`body.file`). */
export function invalidUpload(path: string, message: string): ValidationError {
  return new ValidationError(`Invalid upload: ${path}: ${message}`, [{ path, message }]);
}

/**
 * A busboy parser for a `multipart/form-data` request with `limits`; anything else (another content
 * type, a broken boundary) is a 400 saying what to send (`expected`).
 */
export function openMultipart(req: Request, limits: busboy.Limits, expected: string): busboy.Busboy {
  if (!req.is("multipart/form-data")) throw invalidUpload("body", `send multipart/form-data with ${expected}`);
  try {
    return busboy({ headers: req.headers, limits });
  } catch (error) {
    throw invalidUpload("body", error instanceof Error ? error.message : "is not valid multipart/form-data");
  }
}

/**
 * Feeds the request's body to the parser: under Cloud Functions the platform has already read it
 * into `req.rawBody` (the stream is spent); served by plain Express, from the stream.
 */
export function feedMultipart(req: Request, parser: busboy.Busboy): void {
  const raw: unknown = Reflect.get(req, "rawBody");
  if (Buffer.isBuffer(raw)) parser.end(raw);
  else req.pipe(parser);
}
