import { lookup as dnsLookup } from "node:dns/promises";
import type { LookupFunction } from "node:net";
import ipaddr from "ipaddr.js";
import { Agent, request } from "undici";
import { type AddressPolicy, refusedAddress, refusedHostName } from "./address-policy.ts";

/**
 * The one way to call a URL a tenant gave us (webhook endpoints, media to fetch). Every address the
 * name resolves to is checked (address-policy.ts), then the connection is made to one of those
 * checked addresses — the socket's lookup is pinned to them — so a DNS answer that changes between
 * check and connect (rebinding) cannot steer it elsewhere. The Host header and TLS SNI stay the
 * name. Redirects are never followed: a 3xx comes back as is, because its Location is another
 * URL the tenant did not give us and we did not check.
 */

export const outboundErrorCodes = [
  "invalid_url",
  "blocked_address",
  "dns_failure",
  "connection_failed",
  "timeout",
] as const;
export type OutboundErrorCode = (typeof outboundErrorCodes)[number];

export class OutboundRequestError extends Error {
  readonly code: OutboundErrorCode;
  constructor(code: OutboundErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "OutboundRequestError";
    this.code = code;
  }
}

/** Resolves a name to every address it has (the outside world; tests may pass their own). */
export type ResolveHost = (hostname: string) => Promise<readonly string[]>;

export interface OutboundHttpOptions extends Partial<AddressPolicy> {
  resolve?: ResolveHost;
  /** Default for requests that do not say: 15 s. */
  timeoutMs?: number;
  /** Default response body cap: 1 MB. */
  maxResponseBytes?: number;
}

export interface OutboundRequest {
  url: string;
  method?: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** The whole exchange, from lookup to the last body byte read. */
  timeoutMs?: number;
  /** At most this many bytes of the response body are read; the rest is cancelled. */
  maxResponseBytes?: number;
}

export interface OutboundResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The response had more than `maxResponseBytes` and was cut. */
  truncated: boolean;
  /** The address the connection went to. */
  address: string;
}

const defaultResolve: ResolveHost = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);

export class OutboundHttp {
  private readonly policy: AddressPolicy;
  private readonly resolve: ResolveHost;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;

  constructor(options: OutboundHttpOptions = {}) {
    this.policy = { allowPrivate: options.allowPrivate ?? false };
    this.resolve = options.resolve ?? defaultResolve;
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.maxResponseBytes = options.maxResponseBytes ?? 1_048_576;
  }

  /** Throws OutboundRequestError when the URL is refused or no response came; any HTTP status is a response. */
  async request(req: OutboundRequest): Promise<OutboundResponse> {
    const url = parseTarget(req.url);
    const timeoutMs = req.timeoutMs ?? this.timeoutMs;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    const timedOut = () =>
      new OutboundRequestError("timeout", `${url.host} did not answer within ${timeoutMs / 1000} s`);
    try {
      const addresses = await raceAbort(this.checkedAddresses(url), abort.signal, timedOut);
      const [first] = addresses;
      if (first === undefined) throw new OutboundRequestError("dns_failure", `${url.hostname} has no address`);
      const agent = new Agent({ connect: { lookup: pinnedLookup(addresses) }, pipelining: 0 });
      try {
        const response = await request(url, {
          dispatcher: agent,
          method: req.method ?? "GET",
          ...(req.headers ? { headers: req.headers } : {}),
          ...(req.body === undefined ? {} : { body: req.body }),
          signal: abort.signal,
        }).catch((error: unknown) => {
          if (abort.signal.aborted) throw timedOut();
          throw new OutboundRequestError(
            "connection_failed",
            `could not reach ${url.host} (${addresses.join(", ")}): ${errorText(error)}`,
            { cause: error },
          );
        });
        const { body, truncated } = await readCapped(
          response.body,
          req.maxResponseBytes ?? this.maxResponseBytes,
        ).catch((error: unknown) => {
          if (abort.signal.aborted) throw timedOut();
          throw new OutboundRequestError(
            "connection_failed",
            `${url.host} broke off its response: ${errorText(error)}`,
            {
              cause: error,
            },
          );
        });
        return { status: response.statusCode, headers: response.headers, body, truncated, address: first };
      } finally {
        // Nothing is reused across requests (each one's lookup is pinned), so sockets go now.
        void agent.destroy().catch(() => undefined);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** Every address the URL's host stands for, each allowed by the policy; else why not. */
  private async checkedAddresses(url: URL): Promise<string[]> {
    const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
    const refusedName = refusedHostName(host);
    if (refusedName) throw new OutboundRequestError("blocked_address", refusedName);
    let addresses: readonly string[];
    if (ipaddr.isValid(host)) {
      addresses = [host];
    } else {
      try {
        addresses = await this.resolve(host);
      } catch (error) {
        throw new OutboundRequestError("dns_failure", `${host} could not be resolved: ${errorText(error)}`, {
          cause: error,
        });
      }
    }
    for (const address of addresses) {
      const why = refusedAddress(address, this.policy);
      if (why) {
        const via = address === host ? "" : ` (${host} resolves to it)`;
        throw new OutboundRequestError("blocked_address", `refused: ${why}${via}`);
      }
    }
    return [...addresses];
  }
}

/** http(s) only, and no credentials in the URL (they would be sent to whoever answers). */
export function parseTarget(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OutboundRequestError("invalid_url", "is not a valid URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new OutboundRequestError("invalid_url", `must be http or https, not ${url.protocol.replace(/:$/, "")}`);
  }
  if (url.username !== "" || url.password !== "") {
    throw new OutboundRequestError("invalid_url", "must not carry a user name or password");
  }
  return url;
}

/** A socket lookup that only ever answers with the addresses already checked. */
function pinnedLookup(addresses: readonly string[]): LookupFunction {
  const entries = addresses.map((address) => ({ address, family: ipaddr.parse(address).kind() === "ipv6" ? 6 : 4 }));
  return (_hostname, options, callback) => {
    const wanted = options.family === 4 || options.family === 6 ? options.family : 0;
    const matching = entries.filter((entry) => wanted === 0 || entry.family === wanted);
    const [first] = matching;
    if (first === undefined) {
      const error: NodeJS.ErrnoException = new Error(`no checked IPv${wanted} address`);
      error.code = "ENOTFOUND";
      callback(error, "", 0);
      return;
    }
    if (options.all) callback(null, matching);
    else callback(null, first.address, first.family);
  };
}

async function readCapped(
  body: AsyncIterable<Buffer> & { destroy(): unknown },
  max: number,
): Promise<{ body: Buffer; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const room = max - size;
    if (chunk.length > room) {
      // Over the cap: keep what fits, stop reading and drop the connection.
      chunks.push(chunk.subarray(0, room));
      size += room;
      body.destroy();
      return { body: Buffer.concat(chunks, size), truncated: true };
    }
    chunks.push(chunk);
    size += chunk.length;
  }
  return { body: Buffer.concat(chunks, size), truncated: false };
}

function raceAbort<T>(work: Promise<T>, signal: AbortSignal, onAbort: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(onAbort());
    if (signal.aborted) abort();
    signal.addEventListener("abort", abort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", abort));
  });
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const code = "code" in error && typeof error.code === "string" ? `${error.code}: ` : "";
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : "";
    return `${code}${error.message}${cause}`;
  }
  return String(error);
}
