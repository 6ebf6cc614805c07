import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Storage } from "@google-cloud/storage";

/** An object as the local server holds it. */
export interface LocalObject {
  bucket: string;
  name: string;
  data: Buffer;
  generation: string;
  contentType: string;
  created: string;
  updated: string;
  customTime?: string;
  metadata?: Record<string, string>;
  contentDisposition?: string;
  cacheControl?: string;
}

export interface LocalStorageOptions {
  /** Buckets that exist from the start (more can be made with `storage.createBucket`). */
  buckets?: readonly string[];
  /** Bytes held at most, objects and unfinished uploads together; past it writes get 507. */
  maxBytes?: number;
  /** Default 0: a free port. */
  port?: number;
  host?: string;
}

export interface LocalStorage {
  port: number;
  /** `http://host:port`: what `STORAGE_EMULATOR_HOST` or `apiEndpoint` should say. */
  url: string;
  /** The real @google-cloud/storage client, pointed at this server (no credentials are sent). */
  client(): Storage;
  /** What is stored, by bucket and name (read it; tests check that nothing was left behind). */
  objects(bucket: string, prefix?: string): LocalObject[];
  close(): Promise<void>;
}

/** A resumable upload in progress: the session URI names it. */
interface Session {
  bucket: string;
  name: string;
  fields: WritableFields;
  ifGenerationMatch: string | undefined;
  chunks: Buffer[];
  received: number;
  done: LocalObject | undefined;
}

interface WritableFields {
  contentType?: string;
  customTime?: string;
  metadata?: Record<string, string>;
  contentDisposition?: string;
  cacheControl?: string;
}

class HttpError extends Error {
  readonly status: number;
  readonly reason: string;

  constructor(status: number, reason: string, message: string) {
    super(message);
    this.status = status;
    this.reason = reason;
  }
}

const MAX_SESSIONS = 1_000;

/**
 * A local stand-in for Cloud Storage that speaks the part of its JSON API that
 * @google-cloud/storage uses for our media (the Firebase Storage emulator needs a jar these offline
 * machines cannot download): uploads (`uploadType=multipart`, `media` and `resumable`, whole or in
 * chunks), downloads (`alt=media`, with ranges), metadata get and patch, delete, rewrite/copy, list
 * with prefix and delimiter, bucket get and insert. The real client reaches it through
 * `STORAGE_EMULATOR_HOST` or `apiEndpoint`, and then sends no credentials. Objects live in memory,
 * bounded by `maxBytes`; CRC32C and MD5 are real, so the client's integrity checks run. Lifecycle
 * rules are not enforced here: objects stay until deleted or the server stops.
 */
export async function startLocalStorage(options: LocalStorageOptions = {}): Promise<LocalStorage> {
  const maxBytes = options.maxBytes ?? 512 * 1024 * 1024;
  const buckets = new Map<string, Map<string, LocalObject>>();
  for (const name of options.buckets ?? []) buckets.set(name, new Map());
  const sessions = new Map<string, Session>();
  let generation = Date.now() * 1000;

  const heldBytes = () => {
    let total = 0;
    for (const objects of buckets.values()) for (const object of objects.values()) total += object.data.length;
    for (const session of sessions.values()) total += session.received;
    return total;
  };
  const reserve = (bytes: number) => {
    if (heldBytes() + bytes > maxBytes) {
      throw new HttpError(507, "insufficientStorage", `The local storage server holds at most ${maxBytes} bytes.`);
    }
  };
  const bucketOf = (name: string) => {
    const objects = buckets.get(name);
    if (!objects) throw new HttpError(404, "notFound", "The specified bucket does not exist.");
    return objects;
  };
  const objectOf = (bucket: string, name: string) => {
    const object = bucketOf(bucket).get(name);
    if (!object) throw new HttpError(404, "notFound", `No such object: ${bucket}/${name}`);
    return object;
  };
  const checkGeneration = (bucket: string, name: string, expected: string | undefined) => {
    if (expected === undefined) return;
    const current = bucketOf(bucket).get(name)?.generation ?? "0";
    if (current !== expected) {
      throw new HttpError(412, "conditionNotMet", "At least one of the pre-conditions you specified did not hold.");
    }
  };
  const store = (bucket: string, name: string, data: Buffer, fields: WritableFields, ifGenerationMatch?: string) => {
    validName(name);
    checkGeneration(bucket, name, ifGenerationMatch);
    const now = new Date().toISOString();
    const object: LocalObject = {
      bucket,
      name,
      data,
      generation: String(++generation),
      contentType: fields.contentType ?? "application/octet-stream",
      created: now,
      updated: now,
      ...writable(fields),
    };
    bucketOf(bucket).set(name, object);
    return object;
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://local");
    const query = url.searchParams;
    const origin = `http://${req.headers.host ?? "127.0.0.1"}`;
    // Segments are split before decoding: an object name's `/` arrives as %2F.
    const raw = url.pathname.split("/").slice(1);
    const upload = raw[0] === "upload";
    let segments = upload ? raw.slice(1) : raw;
    // STORAGE_EMULATOR_HOST makes the client call `<host>/b/…`; apiEndpoint makes it `<host>/storage/v1/b/…`.
    if (segments[0] === "storage" && segments[1] === "v1") segments = segments.slice(2);
    segments = segments.map((s) => decodeURIComponent(s));
    const method = req.method ?? "GET";

    if (upload) return handleUpload(req, res, method, segments, query, origin);

    // /b
    if (segments[0] === "b" && segments.length === 1) {
      if (method !== "POST") throw new HttpError(405, "methodNotAllowed", `${method} /b is not supported here.`);
      const body = jsonObject(await readBody(req, 64 * 1024));
      const name = typeof body.name === "string" ? body.name : "";
      if (!/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/.test(name))
        throw new HttpError(400, "invalid", "Invalid bucket name");
      if (buckets.has(name))
        throw new HttpError(
          409,
          "conflict",
          "Your previous request to create the named bucket succeeded and you already own it.",
        );
      buckets.set(name, new Map());
      return json(res, 200, bucketResource(name));
    }
    const bucket = segments[1] ?? "";
    if (segments[0] !== "b" || !bucket) throw new HttpError(404, "notFound", `No route for ${url.pathname}`);
    // /b/{bucket}
    if (segments.length === 2) {
      if (method !== "GET")
        throw new HttpError(405, "methodNotAllowed", `${method} on a bucket is not supported here.`);
      bucketOf(bucket);
      return json(res, 200, bucketResource(bucket));
    }
    if (segments[2] !== "o") throw new HttpError(404, "notFound", `No route for ${url.pathname}`);
    // /b/{bucket}/o
    if (segments.length === 3) {
      if (method !== "GET") throw new HttpError(405, "methodNotAllowed", `${method} on objects is not supported here.`);
      return json(res, 200, list(bucketOf(bucket), query, origin));
    }
    const name = segments[3] ?? "";
    // /b/{bucket}/o/{object}
    if (segments.length === 4) {
      if (method === "GET") {
        const object = objectOf(bucket, name);
        if (query.get("alt") === "media") return sendMedia(req, res, object);
        return json(res, 200, resource(object, origin));
      }
      if (method === "DELETE") {
        const object = objectOf(bucket, name);
        checkGeneration(bucket, name, query.get("ifGenerationMatch") ?? undefined);
        bucketOf(bucket).delete(object.name);
        res.writeHead(204).end();
        return;
      }
      if (method === "PATCH") {
        const object = objectOf(bucket, name);
        const patch = fieldsOf(jsonObject(await readBody(req, 64 * 1024)));
        Object.assign(object, writable(patch));
        if (patch.contentType) object.contentType = patch.contentType;
        object.updated = new Date().toISOString();
        return json(res, 200, resource(object, origin));
      }
      throw new HttpError(405, "methodNotAllowed", `${method} on an object is not supported here.`);
    }
    // /b/{src}/o/{object}/rewriteTo|copyTo/b/{dst}/o/{name}
    const verb = segments[4];
    if (
      method === "POST" &&
      (verb === "rewriteTo" || verb === "copyTo") &&
      segments[5] === "b" &&
      segments[7] === "o" &&
      segments.length === 9
    ) {
      const source = objectOf(bucket, name);
      const overrides = fieldsOf(jsonObject(await readBody(req, 64 * 1024)));
      reserve(source.data.length);
      const copied = store(
        segments[6] ?? "",
        segments[8] ?? "",
        Buffer.from(source.data),
        { ...fieldsFrom(source), ...overrides },
        query.get("ifGenerationMatch") ?? undefined,
      );
      if (verb === "copyTo") return json(res, 200, resource(copied, origin));
      const size = String(copied.data.length);
      return json(res, 200, {
        kind: "storage#rewriteResponse",
        totalBytesRewritten: size,
        objectSize: size,
        done: true,
        resource: resource(copied, origin),
      });
    }
    throw new HttpError(404, "notFound", `No route for ${method} ${url.pathname}`);
  }

  async function handleUpload(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    segments: string[],
    query: URLSearchParams,
    origin: string,
  ): Promise<void> {
    const bucket = segments[1] ?? "";
    if (segments[0] !== "b" || segments[2] !== "o" || segments.length !== 3) {
      throw new HttpError(404, "notFound", "No such upload route.");
    }
    const uploadType = query.get("uploadType");
    const ifGenerationMatch = query.get("ifGenerationMatch") ?? undefined;
    if (method === "POST" && uploadType === "multipart") {
      bucketOf(bucket);
      const body = await readBody(req, maxBytes);
      reserve(body.length);
      const [metaPart, mediaPart] = multipartRelated(body, req.headers["content-type"]);
      const fields = fieldsOf(jsonObject(metaPart.body));
      const name = query.get("name") ?? stringField(jsonObject(metaPart.body), "name");
      const contentType = fields.contentType ?? mediaPart.contentType;
      const object = store(
        bucket,
        name,
        mediaPart.body,
        { ...fields, ...(contentType ? { contentType } : {}) },
        ifGenerationMatch,
      );
      return json(res, 200, resource(object, origin));
    }
    if (method === "POST" && uploadType === "media") {
      bucketOf(bucket);
      const body = await readBody(req, maxBytes);
      reserve(body.length);
      const name = query.get("name") ?? "";
      const type = req.headers["content-type"];
      const object = store(bucket, name, body, type ? { contentType: type } : {}, ifGenerationMatch);
      return json(res, 200, resource(object, origin));
    }
    if (method === "POST" && uploadType === "resumable") {
      bucketOf(bucket);
      const metadata = jsonObject(await readBody(req, 64 * 1024));
      const name = query.get("name") ?? stringField(metadata, "name");
      validName(name);
      const fields = fieldsOf(metadata);
      const announced = req.headers["x-upload-content-type"];
      if (!fields.contentType && typeof announced === "string") fields.contentType = announced;
      if (sessions.size >= MAX_SESSIONS) {
        throw new HttpError(429, "rateLimitExceeded", "Too many unfinished uploads on the local storage server.");
      }
      const id = randomUUID().replaceAll("-", "");
      sessions.set(id, { bucket, name, fields, ifGenerationMatch, chunks: [], received: 0, done: undefined });
      const location = `${origin}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?uploadType=resumable&name=${encodeURIComponent(name)}&upload_id=${id}`;
      res.writeHead(200, { location, "content-length": "0" }).end();
      return;
    }
    const id = query.get("upload_id");
    const session = id ? sessions.get(id) : undefined;
    if (!id || !session) throw new HttpError(404, "notFound", "No such upload session.");
    if (method === "DELETE") {
      sessions.delete(id);
      res.writeHead(499).end();
      return;
    }
    if (method !== "PUT")
      throw new HttpError(405, "methodNotAllowed", `${method} on an upload session is not supported.`);
    const range = parseContentRange(req.headers["content-range"]);
    const body = await readBody(req, maxBytes);
    if (session.done) return json(res, 200, resource(session.done, origin));
    if (range.start !== undefined) {
      // Bytes the server already has are skipped, as Cloud Storage does when a client resends.
      if (range.start > session.received) {
        throw new HttpError(400, "invalid", `Expected the upload to continue at byte ${session.received}.`);
      }
      const fresh = body.subarray(session.received - range.start);
      reserve(fresh.length);
      session.chunks.push(fresh);
      session.received += fresh.length;
    }
    // Complete when the total is reached, or when the client sent "the rest" (`a-*/*`) in one request.
    const complete =
      (range.total !== undefined && session.received >= range.total) ||
      (range.start !== undefined && range.end === undefined && range.total === undefined);
    if (!complete) {
      const headers: Record<string, string> = { "content-length": "0" };
      if (session.received > 0) headers.range = `bytes=0-${session.received - 1}`;
      res.writeHead(308, headers).end();
      return;
    }
    const data = Buffer.concat(session.chunks);
    session.chunks = [];
    session.received = 0;
    const object = store(session.bucket, session.name, data, session.fields, session.ifGenerationMatch);
    session.done = object;
    // Kept briefly so that a retried final request gets the same answer, then forgotten.
    setTimeout(() => sessions.delete(id), 60_000).unref();
    return json(res, 200, resource(object, origin));
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      const reason = error instanceof HttpError ? error.reason : "backendError";
      const message = error instanceof Error ? error.message : String(error);
      if (!res.headersSent) {
        json(res, status, { error: { code: status, message, errors: [{ message, domain: "global", reason }] } });
      } else {
        res.destroy();
      }
    });
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () =>
      resolve((server.address() as AddressInfo).port),
    );
  });
  const url = `http://${options.host ?? "127.0.0.1"}:${port}`;

  return {
    port,
    url,
    client: () => new Storage({ apiEndpoint: url, projectId: "local" }),
    objects(bucket, prefix = "") {
      return [...(buckets.get(bucket)?.values() ?? [])].filter((object) => object.name.startsWith(prefix));
    },
    close() {
      return new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}

function validName(name: string): void {
  if (!name || Buffer.byteLength(name) > 1024 || /[\r\n]/.test(name)) {
    throw new HttpError(400, "invalid", "Object name must be 1-1024 bytes of UTF-8 without CR or LF.");
  }
  if (name === "." || name === "..") throw new HttpError(400, "invalid", "Object name cannot be . or ..");
}

function writable(fields: WritableFields): Partial<LocalObject> {
  const out: Partial<LocalObject> = {};
  if (fields.customTime !== undefined) out.customTime = fields.customTime;
  if (fields.metadata !== undefined) out.metadata = fields.metadata;
  if (fields.contentDisposition !== undefined) out.contentDisposition = fields.contentDisposition;
  if (fields.cacheControl !== undefined) out.cacheControl = fields.cacheControl;
  return out;
}

function fieldsFrom(object: LocalObject): WritableFields {
  return { contentType: object.contentType, ...writable(object) };
}

/** The object fields a client may set, from a JSON resource; anything else is ignored, as by the real API. */
function fieldsOf(body: Record<string, unknown>): WritableFields {
  const fields: WritableFields = {};
  if (typeof body.contentType === "string") fields.contentType = body.contentType;
  if (typeof body.customTime === "string") {
    if (Number.isNaN(Date.parse(body.customTime))) throw new HttpError(400, "invalid", "Invalid customTime");
    fields.customTime = new Date(body.customTime).toISOString();
  }
  if (typeof body.contentDisposition === "string") fields.contentDisposition = body.contentDisposition;
  if (typeof body.cacheControl === "string") fields.cacheControl = body.cacheControl;
  if (body.metadata && typeof body.metadata === "object") {
    const metadata: Record<string, string> = {};
    for (const [key, value] of Object.entries(body.metadata)) {
      if (value !== null && value !== undefined) metadata[key] = String(value);
    }
    fields.metadata = metadata;
  }
  return fields;
}

function resource(object: LocalObject, origin: string): Record<string, unknown> {
  const path = `b/${encodeURIComponent(object.bucket)}/o/${encodeURIComponent(object.name)}`;
  return {
    kind: "storage#object",
    id: `${object.bucket}/${object.name}/${object.generation}`,
    selfLink: `${origin}/storage/v1/${path}`,
    mediaLink: `${origin}/download/storage/v1/${path}?generation=${object.generation}&alt=media`,
    name: object.name,
    bucket: object.bucket,
    generation: object.generation,
    metageneration: "1",
    contentType: object.contentType,
    storageClass: "STANDARD",
    size: String(object.data.length),
    md5Hash: createHash("md5").update(object.data).digest("base64"),
    crc32c: crc32cBase64(object.data),
    etag: `${object.generation}`,
    timeCreated: object.created,
    updated: object.updated,
    timeStorageClassUpdated: object.created,
    ...writable(object),
  };
}

function bucketResource(name: string): Record<string, unknown> {
  return {
    kind: "storage#bucket",
    id: name,
    name,
    projectNumber: "0",
    metageneration: "1",
    location: "US",
    storageClass: "STANDARD",
    etag: "CAE=",
    timeCreated: new Date(0).toISOString(),
    updated: new Date(0).toISOString(),
  };
}

function list(objects: Map<string, LocalObject>, query: URLSearchParams, origin: string): Record<string, unknown> {
  const prefix = query.get("prefix") ?? "";
  const delimiter = query.get("delimiter") ?? "";
  const maxResults = Math.min(Number(query.get("maxResults") ?? 1000) || 1000, 1000);
  const after = query.get("pageToken") ?? "";
  const names = [...objects.keys()].filter((name) => name.startsWith(prefix) && name > after).sort();
  const items: Record<string, unknown>[] = [];
  const prefixes = new Set<string>();
  let last = "";
  for (const name of names) {
    if (items.length + prefixes.size >= maxResults) {
      return {
        kind: "storage#objects",
        items,
        ...(prefixes.size ? { prefixes: [...prefixes] } : {}),
        nextPageToken: last,
      };
    }
    last = name;
    const cut = delimiter ? name.indexOf(delimiter, prefix.length) : -1;
    if (cut >= 0) {
      prefixes.add(name.slice(0, cut + delimiter.length));
      continue;
    }
    const object = objects.get(name);
    if (object) items.push(resource(object, origin));
  }
  return { kind: "storage#objects", items, ...(prefixes.size ? { prefixes: [...prefixes] } : {}) };
}

function sendMedia(req: IncomingMessage, res: ServerResponse, object: LocalObject): void {
  const headers: Record<string, string> = {
    "content-type": object.contentType,
    "x-goog-generation": object.generation,
    "x-goog-metageneration": "1",
    "x-goog-stored-content-encoding": "identity",
    "x-goog-stored-content-length": String(object.data.length),
    "x-goog-hash": `crc32c=${crc32cBase64(object.data)},md5=${createHash("md5").update(object.data).digest("base64")}`,
    "accept-ranges": "bytes",
  };
  const size = object.data.length;
  const asked = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? "");
  if (!asked) {
    res.writeHead(200, { ...headers, "content-length": String(size) }).end(object.data);
    return;
  }
  let start: number;
  let end: number;
  if (asked[1] === "") {
    // A suffix range: the last N bytes.
    start = Math.max(0, size - Number(asked[2]));
    end = size - 1;
  } else {
    start = Number(asked[1]);
    end = asked[2] === "" ? size - 1 : Math.min(Number(asked[2]), size - 1);
  }
  if (start >= size || start > end) {
    throw new HttpError(416, "requestedRangeNotSatisfiable", "The requested range cannot be satisfied.");
  }
  const part = object.data.subarray(start, end + 1);
  res
    .writeHead(206, {
      ...headers,
      "content-range": `bytes ${start}-${end}/${size}`,
      "content-length": String(part.length),
    })
    .end(part);
}

function parseContentRange(header: string | undefined): { start?: number; end?: number; total?: number } {
  const match = /^bytes (?:(\d+)-(\d+|\*)|\*)\/(\d+|\*)$/.exec(header?.trim() ?? "");
  if (!match) throw new HttpError(400, "invalid", `Bad Content-Range: ${header ?? "(none)"}`);
  const [, start, end, total] = match;
  return {
    ...(start !== undefined ? { start: Number(start) } : {}),
    ...(end !== undefined && end !== "*" ? { end: Number(end) } : {}),
    ...(total !== undefined && total !== "*" ? { total: Number(total) } : {}),
  };
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > limit)
      throw new HttpError(507, "insufficientStorage", `The request body is larger than ${limit} bytes.`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

function jsonObject(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    throw new HttpError(400, "parseError", "Parse Error");
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new HttpError(400, "invalid", "Expected a JSON object.");
  }
  return Object.fromEntries(Object.entries(parsed));
}

function stringField(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== "string") throw new HttpError(400, "required", `Required: ${field}`);
  return value;
}

/** The two parts of a `multipart/related` upload: the JSON resource, then the media. */
function multipartRelated(
  body: Buffer,
  contentType: string | undefined,
): [{ body: Buffer; contentType?: string }, { body: Buffer; contentType?: string }] {
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType ?? "")?.[1];
  if (!contentType?.toLowerCase().startsWith("multipart/related") || !boundary) {
    throw new HttpError(400, "invalid", "A multipart upload needs Content-Type multipart/related with a boundary.");
  }
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Array<{ body: Buffer; contentType?: string }> = [];
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    let start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === "--") break;
    if (body.subarray(start, start + 2).toString() === "\r\n") start += 2;
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    // The part ends with the CRLF before the next delimiter.
    const part = body.subarray(start, next - 2);
    const split = part.indexOf("\r\n\r\n");
    if (split < 0) throw new HttpError(400, "invalid", "A multipart part has no header end.");
    const headerText = part.subarray(0, split).toString("latin1");
    const type = /^content-type:\s*(.+)$/im.exec(headerText)?.[1]?.trim();
    parts.push({ body: part.subarray(split + 4), ...(type ? { contentType: type } : {}) });
    at = next;
  }
  const [meta, media] = parts;
  if (!meta || !media || parts.length !== 2) {
    throw new HttpError(400, "invalid", "A multipart upload has exactly two parts: the resource and the media.");
  }
  return [meta, media];
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=UTF-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC32C (Castagnoli), big-endian and base64 as Cloud Storage reports it. */
function crc32cBase64(data: Buffer): string {
  let crc = 0xffffffff;
  for (const byte of data) crc = (CRC32C_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  const out = Buffer.alloc(4);
  out.writeUInt32BE((crc ^ 0xffffffff) >>> 0);
  return out.toString("base64");
}
