import { createHash, randomBytes } from "node:crypto";

/**
 * Where Baileys posts an upload: `MEDIA_PATH_MAP[type]/<encFileHash>` (baileys/lib/Defaults), the
 * hash being the encrypted file's SHA-256 in unpadded base64url. History and app-state uploads
 * (phones only) are not served.
 */
const UPLOAD_PATH = /^\/(mms\/[a-z-]+|product\/image|pps\/biz-cover-photo)\/([A-Za-z0-9_-]{43})$/;

export interface UploadTarget {
  /** `mms/image`, `mms/video`, … as the path names it. */
  type: string;
  /** What the client says the body's SHA-256 is, unpadded base64url. */
  encFileHash: string;
}

export function parseUploadPath(pathname: string): UploadTarget | undefined {
  const match = UPLOAD_PATH.exec(pathname);
  return match?.[1] && match[2] ? { type: match[1], encFileHash: match[2] } : undefined;
}

/** The SHA-256 of `bytes` as an upload path names it (Baileys' `encodeBase64EncodedStringForUpload`). */
export function uploadHashOf(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("base64url");
}

/** A new file's place on the media host: its path (what it is stored by) and its direct path. */
export interface MediaLocation {
  path: string;
  directPath: string;
}

/**
 * A fresh, unguessable media path in WhatsApp's shape (`/o1/v/t62.7118-24/f2/m232/<id>`), and the
 * direct path a message carries: the path with the query WhatsApp appends. Its signature (`oh`) is
 * left out because nothing here would check it: the random id is what keeps a file private.
 */
export function newMediaLocation(expiresAt: Date): MediaLocation {
  const path = `/o1/v/t62.7118-24/f2/m232/${randomBytes(24).toString("base64url")}`;
  const oe = Math.floor(expiresAt.getTime() / 1_000)
    .toString(16)
    .toUpperCase();
  return { path, directPath: `${path}?ccb=9-4&oe=${oe}&_nc_sid=e6ed6c` };
}
