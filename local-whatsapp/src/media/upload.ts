import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { sendMediaError } from "./media-errors.ts";
import { newMediaLocation, parseUploadPath, uploadHashOf } from "./media-paths.ts";
import { type MediaStore, MediaStoreFullError } from "./media-store.ts";
import type { UploadAuth } from "./upload-auth.ts";

export interface UploadContext {
  origin: string;
  store: MediaStore;
  auth: UploadAuth;
  maxFileBytes: number;
  /** How long a file's URL claims to live (its `oe`); files are kept while the server runs. */
  urlLifetimeMs: number;
  logger: Logger;
}

/**
 * `POST /mms/<type>/<encFileHash>?auth=…&token=…`, as Baileys' `getWAUploadToServer` sends it:
 * the auth must be a live media_conn token, the body the encrypted file whose hash the path names.
 * Answers what WhatsApp answers, `{url, direct_path}` as JSON.
 */
export async function receiveUpload(
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  ctx: UploadContext,
): Promise<void> {
  const target = parseUploadPath(url.pathname);
  if (!target) return refuse(request, response, "bad_upload_path");
  const holder = ctx.auth.holder(url.searchParams.get("auth"));
  if (!holder) return refuse(request, response, "unauthorized");
  const announced = Number(request.headers["content-length"] ?? 0);
  if (announced > ctx.maxFileBytes) return refuse(request, response, "too_large", `${announced} bytes`);

  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    // Without an encoding set, a request yields Buffers.
    const part: Buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += part.length;
    // A client that lied about (or left out) its length is cut off at the limit, not buffered.
    if (size > ctx.maxFileBytes) {
      sendMediaError(response, "too_large", `more than ${ctx.maxFileBytes} bytes`, { connection: "close" });
      request.destroy();
      return;
    }
    chunks.push(part);
  }
  const bytes = Buffer.concat(chunks, size);
  if (uploadHashOf(bytes) !== target.encFileHash) return void sendMediaError(response, "hash_mismatch");

  const location = newMediaLocation(new Date(Date.now() + ctx.urlLifetimeMs));
  const uploader = `${holder.account.pn}:${holder.device.id}`;
  try {
    ctx.store.put(location.path, { bytes, type: target.type, uploader, at: Date.now() });
  } catch (error) {
    if (!(error instanceof MediaStoreFullError)) throw error;
    ctx.logger.warn({ size, held: ctx.store.heldBytes, capacity: ctx.store.capacity }, error.message);
    return void sendMediaError(response, "store_full", error.message);
  }
  ctx.logger.debug({ type: target.type, size, uploader, path: location.path }, "media uploaded");
  const body = JSON.stringify({
    url: `${ctx.origin}${location.directPath}&mms3=true`,
    direct_path: location.directPath,
  });
  response.writeHead(200, { "content-type": "application/json" }).end(body);
}

/**
 * Refuses before reading the body, but still drains it (up to a point) so the client's write does
 * not fail with a reset before it reads the answer, which is what tells it why.
 */
function refuse(
  request: IncomingMessage,
  response: ServerResponse,
  code: "bad_upload_path" | "unauthorized" | "too_large",
  detail?: string,
): void {
  sendMediaError(response, code, detail, { connection: "close" });
  request.resume();
}
