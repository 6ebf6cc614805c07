import type { ServerResponse } from "node:http";

/** Every refusal the media server answers, with what the client should do instead. */
export const MEDIA_ERRORS = {
  unauthorized: {
    status: 401,
    message:
      "the upload's auth is not a token this server's media_conn gave a linked device, or it has expired: ask media_conn again",
  },
  bad_upload_path: {
    status: 400,
    message: "uploads go to /mms/<type>/<encFileHash>?auth=<media_conn auth>&token=<encFileHash>",
  },
  hash_mismatch: {
    status: 400,
    message:
      "the uploaded body's SHA-256 is not the encFileHash its path names: upload the encrypted file it was hashed from",
  },
  too_large: { status: 413, message: "the upload is larger than media_conn's maxContentLengthBytes" },
  store_full: { status: 507, message: "the local media store is full" },
  not_found: {
    status: 404,
    message: "no media at this path: it was never uploaded to this server, or the server was restarted",
  },
  range_not_satisfiable: { status: 416, message: "the requested range starts past the end of the file" },
  method_not_allowed: { status: 405, message: "the media host takes POST uploads and GET or HEAD downloads" },
} as const satisfies Record<string, { status: number; message: string }>;

export type MediaErrorCode = keyof typeof MEDIA_ERRORS;

/** Answers `code` as JSON (`{error: {code, message}}`), with `detail` appended to the table's message. */
export function sendMediaError(
  response: ServerResponse,
  code: MediaErrorCode,
  detail?: string,
  headers: Record<string, string> = {},
): void {
  const { status, message } = MEDIA_ERRORS[code];
  const body = JSON.stringify({ error: { code, message: detail ? `${message} (${detail})` : message } });
  response.writeHead(status, { "content-type": "application/json", ...headers }).end(body);
}
