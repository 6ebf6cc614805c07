import { once } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Agent, createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { Account, Device } from "../accounts/directory.ts";
import { createMediaCertificates } from "./certificates.ts";
import { serveDownload } from "./download.ts";
import { sendMediaError } from "./media-errors.ts";
import { MediaStore } from "./media-store.ts";
import { receiveUpload } from "./upload.ts";
import { UploadAuth } from "./upload-auth.ts";

/** How much the media server holds and for how long its grants last. */
export interface MediaLimits {
  /** Encrypted bytes held in memory at most; past it uploads fail with 507. Default 256 MiB. */
  storeBytes?: number;
  /** One upload's size at most (media_conn's `maxContentLengthBytes`); past it 413. Default 64 MiB. */
  maxFileBytes?: number;
  /** How long a media_conn answer (and its upload token) lives. Default one hour. */
  ttlSeconds?: number;
}

export interface MediaServerOptions extends MediaLimits {
  /** The address to listen on (an IP address or `localhost`); the certificate is made for it. */
  host: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  logger: Logger;
}

/** A media_conn answer's content. */
export interface MediaGrant {
  auth: string;
  /** How long the answer may be cached (Baileys asks again after it). */
  ttlSeconds: number;
  /** How long `auth` is accepted. */
  authTtlSeconds: number;
  hosts: Array<{ hostname: string; maxContentLengthBytes: number }>;
}

const MiB = 1024 * 1024;
const URL_LIFETIME_MS = 14 * 24 * 60 * 60 * 1_000;

/**
 * WhatsApp's media host (`mmg.whatsapp.net`), locally: HTTPS with a certificate from a CA made at
 * start, uploads of encrypted files with a media_conn token, downloads by path. It holds only
 * ciphertext: the keys travel inside Signal-encrypted messages it never sees.
 */
export class MediaServer {
  readonly store: MediaStore;
  readonly auth: UploadAuth;
  readonly maxFileBytes: number;
  /** `https://host:port`: where direct paths resolve. */
  readonly origin: string;
  /** `host:port`, as media_conn announces a host (Baileys prefixes `https://`). */
  readonly hostname: string;
  /** The CA that issued this server's certificate. Trust it per client, never process-wide. */
  readonly caPem: string;

  readonly #https: Server;
  readonly #logger: Logger;

  private constructor(https: Server, address: AddressInfo, caPem: string, options: MediaServerOptions) {
    this.#https = https;
    this.#logger = options.logger;
    this.caPem = caPem;
    const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
    this.hostname = `${host}:${address.port}`;
    this.origin = `https://${this.hostname}`;
    this.store = new MediaStore(options.storeBytes ?? 256 * MiB);
    this.auth = new UploadAuth(options.ttlSeconds ?? 3_600);
    this.maxFileBytes = options.maxFileBytes ?? 64 * MiB;
    https.on("request", (request, response) => {
      this.#handle(request, response).catch((error: unknown) => {
        this.#logger.error({ err: error, url: request.url }, "media request failed");
        if (!response.headersSent) response.writeHead(500).end();
        else response.destroy();
      });
    });
  }

  static async start(options: MediaServerOptions): Promise<MediaServer> {
    const names = [options.host, "localhost", "127.0.0.1", "::1"];
    const { caPem, certPem, keyPem } = createMediaCertificates(names);
    const https = createServer({ key: keyPem, cert: certPem });
    https.listen(options.port ?? 0, options.host);
    await once(https, "listening");
    const address = https.address();
    if (address === null || typeof address === "string") throw new Error("the media host has no TCP address");
    return new MediaServer(https, address, caPem, options);
  }

  /**
   * What a media_conn answer tells `device`: a new upload token, how long it lives, and this host.
   * The phones, which are not on the wire, are told the same directly.
   */
  grant(account: Account, device: Device): MediaGrant {
    return {
      auth: this.auth.issue(account, device),
      ttlSeconds: this.auth.ttlSeconds,
      authTtlSeconds: this.auth.authTtlSeconds,
      hosts: [{ hostname: this.hostname, maxContentLengthBytes: this.maxFileBytes }],
    };
  }

  /**
   * An `https.Agent` that trusts this server's CA and nothing else extra: for in-process clients
   * (the simulated phones) and Baileys' `fetchAgent`, which its uploads go through.
   */
  agent(): Agent {
    return new Agent({ ca: this.caPem });
  }

  async close(): Promise<void> {
    this.#https.closeAllConnections();
    await new Promise<void>((resolve) => this.#https.close(() => resolve()));
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", this.origin);
    if (request.method === "POST") {
      return receiveUpload(request, response, url, {
        origin: this.origin,
        store: this.store,
        auth: this.auth,
        maxFileBytes: this.maxFileBytes,
        urlLifetimeMs: URL_LIFETIME_MS,
        logger: this.#logger,
      });
    }
    if (request.method === "GET" || request.method === "HEAD") return serveDownload(request, response, url, this.store);
    request.resume();
    sendMediaError(response, "method_not_allowed", undefined, { allow: "GET, HEAD, POST" });
  }
}
