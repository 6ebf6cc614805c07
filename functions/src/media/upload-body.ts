import {
  type CheckedMedia,
  checkMedia,
  kindOfMimetype,
  MAX_MEDIA_BYTES,
  type MediaKind,
  mediaKindSchema,
  mediaLimits,
  mediaTooLarge,
  SNIFF_BYTES,
  sniffMimetype,
} from "@whatsdex/core";
import type { Request } from "express";
import { feedMultipart, invalidUpload, openMultipart } from "../http/multipart.ts";

/** A file upload as received and checked: nothing is stored yet. */
export interface ReceivedUpload {
  media: CheckedMedia;
  data: Buffer;
  fileName: string | null;
}

const FILE_FIELD = "file";
const KIND_FIELD = "kind";

/**
 * Reads a `multipart/form-data` upload: one `file` part and an optional `kind` field. The kind's
 * size limit holds while the bytes arrive (the kind named, or else the one the first bytes show),
 * so an oversized file is refused before it is all held; the type is then read from the bytes
 * (checkMedia). Under Cloud Functions the platform has kept the whole body in `req.rawBody` (the
 * stream is spent), and the same parser reads that instead.
 */
export async function receiveUpload(req: Request): Promise<ReceivedUpload> {
  const parser = openMultipart(
    req,
    { files: 1, fields: 4, parts: 6, fieldSize: 1_024, fileSize: MAX_MEDIA_BYTES + 1, headerPairs: 20 },
    "one `file` part (and an optional `kind` field)",
  );

  let failure: Error | undefined;
  const fail = (error: Error) => {
    failure ??= error;
  };
  let kind: MediaKind | undefined;
  let declaredType: string | undefined;
  let fileName: string | null = null;
  let fileSeen = false;
  const chunks: Buffer[] = [];
  let received = 0;
  let cap = MAX_MEDIA_BYTES;
  let capKind: MediaKind | undefined;

  parser.on("field", (name, value) => {
    if (name !== KIND_FIELD) return fail(invalidUpload(`body.${name}`, "is not a field of an upload (file, kind)"));
    const parsed = mediaKindSchema.safeParse(value);
    if (!parsed.success)
      return fail(invalidUpload("body.kind", `must be one of ${mediaKindSchema.options.join(", ")}`));
    kind = parsed.data;
    if (!fileSeen) {
      capKind = kind;
      cap = mediaLimits[kind].maxBytes;
    }
  });
  parser.on("file", (name, stream, info) => {
    if (name !== FILE_FIELD || fileSeen) {
      fail(invalidUpload(`body.${name}`, name === FILE_FIELD ? "send one file" : "the file part is named `file`"));
      stream.resume();
      return;
    }
    fileSeen = true;
    declaredType = info.mimeType;
    fileName = info.filename ?? null;
    let sniffing: Promise<void> | undefined;
    stream.on("data", (chunk: Buffer) => {
      // Refused already: the rest is read away (busboy stops at the largest limit), so the client hears why.
      if (failure) return;
      received += chunk.length;
      chunks.push(chunk);
      // Without a kind, the first bytes name one, and with it the limit the rest is held to.
      if (!capKind && !sniffing && received >= SNIFF_BYTES) {
        stream.pause();
        sniffing = sniffMimetype(Buffer.concat(chunks)).then((type) => {
          capKind ??= type ? kindOfMimetype(type) : "document";
          cap = mediaLimits[capKind].maxBytes;
          if (received > cap) fail(mediaTooLarge(capKind));
          stream.resume();
        });
        return;
      }
      if (received > cap) {
        fail(mediaTooLarge(capKind ?? "document", cap));
        chunks.length = 0;
      }
    });
  });
  parser.on("partsLimit", () => fail(invalidUpload("body", "has too many parts")));
  parser.on("fieldsLimit", () => fail(invalidUpload("body", "has too many fields")));
  parser.on("filesLimit", () => fail(invalidUpload("body.file", "send one file")));

  await new Promise<void>((resolve) => {
    parser.on("close", resolve);
    parser.on("error", (error: unknown) => {
      fail(invalidUpload("body", error instanceof Error ? error.message : "is not valid multipart/form-data"));
      resolve();
    });
    feedMultipart(req, parser);
  });
  if (failure) throw failure;
  if (!fileSeen) throw invalidUpload("body.file", "is required: one file part named `file`");
  const data = Buffer.concat(chunks);
  if (data.length === 0) throw invalidUpload("body.file", "is empty");
  const media = await checkMedia(data, { kind, declaredType, field: "body.file" });
  return { media, data, fileName };
}
