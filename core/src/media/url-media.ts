import { ValidationError } from "../errors/domain-error.ts";
import { type OutboundHttp, parseTarget } from "../net/ssrf-guard.ts";
import { checkMedia, mediaTooLarge } from "./media-check.ts";
import { type MediaKind, mediaLimits } from "./media-kinds.ts";

/** A URL's media, fetched and checked as an upload is: nothing is stored yet. */
export interface FetchedMedia {
  kind: MediaKind;
  mimetype: string;
  bytes: number;
  data: Buffer;
  /** The URL path's last segment, for documents. */
  fileName: string | null;
}

export interface UrlMediaOptions {
  /** The SSRF guard every tenant-supplied URL goes through. */
  guard: OutboundHttp;
  /** Plain http too: local development only (with private targets allowed); https otherwise. */
  allowHttp?: boolean;
  /** The whole fetch; default 30 s. */
  timeoutMs?: number;
}

const FIELD = "url";

function refused(message: string): ValidationError {
  return new ValidationError(message, [{ path: FIELD, message }]);
}

function fileNameOf(url: URL): string | null {
  const last = url.pathname.split("/").filter(Boolean).at(-1);
  if (!last) return null;
  try {
    return decodeURIComponent(last).slice(0, 255) || null;
  } catch {
    return null;
  }
}

/**
 * Fetches media a send names by URL, once: https only, through the SSRF guard (checked public
 * addresses, no redirects), read no further than the kind's limit plus one byte (over it:
 * PayloadTooLargeError naming the limit), the type read from the bytes (checkMedia: a type the kind
 * does not take is a ValidationError naming what was found). The caller stores the result.
 */
export async function fetchMediaFromUrl(url: string, kind: MediaKind, options: UrlMediaOptions): Promise<FetchedMedia> {
  let target: URL;
  try {
    target = parseTarget(url);
  } catch (error) {
    throw refused(error instanceof Error ? error.message : "is not a valid URL");
  }
  if (target.protocol !== "https:" && !options.allowHttp) throw refused("must be an https URL");
  const limit = mediaLimits[kind].maxBytes;
  const response = await options.guard.request({
    url: target.href,
    method: "GET",
    headers: { accept: "*/*", "user-agent": "WhatsDeX media fetcher" },
    maxResponseBytes: limit + 1,
    timeoutMs: options.timeoutMs ?? 30_000,
  });
  if (response.status >= 300 && response.status < 400) {
    throw refused(`answered ${response.status} (a redirect): give the media's final URL`);
  }
  if (response.status < 200 || response.status >= 300) throw refused(`answered ${response.status}`);
  if (response.truncated || response.body.length > limit) throw mediaTooLarge(kind);
  if (response.body.length === 0) throw refused("answered with an empty body");
  const header = response.headers["content-type"];
  const declaredType = Array.isArray(header) ? header[0] : header;
  const checked = await checkMedia(response.body, { kind, declaredType, field: FIELD });
  return { ...checked, data: response.body, fileName: fileNameOf(target) };
}
