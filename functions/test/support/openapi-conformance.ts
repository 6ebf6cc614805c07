import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { z } from "zod";
import { apiRoutes } from "../../src/http/routes.ts";
import { buildOpenApiDocument } from "../../src/openapi/document.ts";

/**
 * Checks responses against the published OpenAPI document: the status must be documented for the
 * operation, the content type must be one it lists, the body must match its schema (problem+json
 * bodies included) and its required headers must be there. An answer outside the document is a
 * broken promise to every client generated from it, so the test API runs every response through this.
 */

/** What the server sent, as the test server saw it leave. */
export interface ObservedResponse {
  method: string;
  /** The URL path as requested, e.g. `/v1/tenants/abc` (no query). */
  path: string;
  status: number;
  headers: Record<string, string | undefined>;
  body: Buffer;
}

const responseSchema = z.object({
  content: z.record(z.string(), z.object({ schema: z.unknown().optional() }).loose()).optional(),
  headers: z
    .record(
      z.string(),
      z.object({ required: z.boolean().optional(), schema: z.object({ type: z.string() }).loose().optional() }).loose(),
    )
    .optional(),
});
const operationSchema = z.object({ responses: z.record(z.string(), responseSchema) }).loose();
const documentSchema = z
  .object({
    openapi: z.string(),
    servers: z.array(z.object({ url: z.string() })).min(1),
    paths: z.record(z.string(), z.record(z.string(), z.unknown())),
    components: z.object({ schemas: z.object({ Problem: z.unknown() }).loose() }).loose(),
  })
  .loose();
export type OpenApiDocument = z.output<typeof documentSchema>;

const methods = new Set(["get", "put", "post", "delete", "options", "head", "patch", "trace"]);

/** Paths served for people, not part of the API contract. */
const outsideContract = [/^\/docs(\/|$)/];

// ajv-formats is CommonJS with a default export that TypeScript sees under `.default`.
const addFormats = "default" in addFormatsModule ? addFormatsModule.default : addFormatsModule;

function pointer(...segments: string[]): string {
  return segments.map((s) => s.replaceAll("~", "~0").replaceAll("/", "~1")).join("/");
}

function mediaType(contentType: string | undefined): string | undefined {
  return contentType?.split(";")[0]?.trim().toLowerCase() || undefined;
}

export type ResponseValidator = (response: ObservedResponse) => string[];

/** A validator for `document`: returns what is wrong with a response, or nothing. */
export function responseValidator(rawDocument: unknown): ResponseValidator {
  // A plain JSON copy: what clients download, without zod-openapi's in-memory extras.
  const json: unknown = JSON.parse(JSON.stringify(rawDocument));
  const document = documentSchema.parse(json);
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  addFormats(ajv);
  // The document's own keys and OpenAPI's schema keywords are not JSON Schema validation keywords.
  ajv.addVocabulary([...Object.keys(document), "example", "discriminator", "xml", "externalDocs"]);
  ajv.addSchema(document, "openapi.json");
  const base = document.servers[0]?.url ?? "";

  const compiled = new Map<string, ValidateFunction>();
  function schemaAt(ref: string): ValidateFunction {
    let validate = compiled.get(ref);
    if (!validate) {
      validate = ajv.getSchema(`openapi.json#/${ref}`);
      if (!validate) throw new Error(`the document has no schema at ${ref}`);
      compiled.set(ref, validate);
    }
    return validate;
  }

  const templates = Object.keys(document.paths)
    .map((template) => ({
      template,
      pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\\?\{\w+\}/g, "[^/]+")}$`),
      params: (template.match(/\{/g) ?? []).length,
    }))
    // A literal segment wins over a parameter (`/tenants/me` before `/tenants/{id}`).
    .sort((a, b) => a.params - b.params);

  function checkBody(response: ObservedResponse, ref: string, spec: z.output<typeof responseSchema>): string[] {
    const problems: string[] = [];
    const type = mediaType(response.headers["content-type"]);
    if (response.body.length === 0) {
      if (spec.content && Object.keys(spec.content).length > 0) problems.push("documents a body but none was sent");
      return problems;
    }
    // The most specific documented range wins: `image/png`, then `image/*`, then `*/*`.
    const range = type && [type, `${type.split("/")[0]}/*`, "*/*"].find((candidate) => spec.content?.[candidate]);
    const media = range && spec.content?.[range];
    if (!type || !range || !media) {
      const listed = Object.keys(spec.content ?? {});
      problems.push(
        `content type ${type ?? "(none)"} is not documented (${listed.length ? listed.join(", ") : "no body is"})`,
      );
      return problems;
    }
    // A schema describes a JSON body; a file's (a binary string) has nothing to parse.
    if (media.schema === undefined || !/^application\/(.+\+)?json$/.test(type)) return problems;
    let body: unknown;
    try {
      body = JSON.parse(response.body.toString("utf8"));
    } catch {
      return [`the ${type} body is not JSON`];
    }
    const validate = schemaAt(pointer(...ref.split("\u0000"), "content", range, "schema"));
    if (!validate(body)) {
      for (const error of validate.errors ?? []) {
        const extra = "additionalProperty" in error.params ? ` (${String(error.params.additionalProperty)})` : "";
        problems.push(`body${error.instancePath} ${error.message ?? "is invalid"}${extra}`);
      }
    }
    return problems;
  }

  function checkHeaders(response: ObservedResponse, spec: z.output<typeof responseSchema>): string[] {
    const problems: string[] = [];
    for (const [name, header] of Object.entries(spec.headers ?? {})) {
      const value = response.headers[name.toLowerCase()];
      if (value === undefined) {
        if (header.required) problems.push(`required header ${name} is missing`);
      } else if (header.schema?.type === "integer" && !/^\d+$/.test(value)) {
        problems.push(`header ${name} is not an integer: ${value}`);
      }
    }
    return problems;
  }

  return (response) => {
    // Express routes `/tenants/` as `/tenants` (non-strict routing), and so does this.
    const path = response.path.startsWith(base) ? response.path.slice(base.length).replace(/(.)\/$/, "$1") : undefined;
    if (path !== undefined && outsideContract.some((pattern) => pattern.test(path))) return [];
    const method = response.method.toLowerCase();
    const match = path === undefined ? undefined : templates.find(({ pattern }) => pattern.test(path));
    const item = match ? document.paths[match.template] : undefined;
    const rawOperation = item && methods.has(method) ? item[method] : undefined;
    if (!match || rawOperation === undefined) {
      // No operation: the app's own answer for an unknown route (or a body refused before routing)
      // is a problem, and every problem has the documented Problem shape.
      if (response.status < 400 || response.status >= 500)
        return [`undocumented operation answered ${response.status}`];
      const problems =
        mediaType(response.headers["content-type"]) === "application/problem+json" ? [] : ["not problem+json"];
      const validate = schemaAt(pointer("components", "schemas", "Problem"));
      let body: unknown;
      try {
        body = JSON.parse(response.body.toString("utf8"));
      } catch {
        return [...problems, "the body is not JSON"];
      }
      if (!validate(body)) problems.push(...(validate.errors ?? []).map((e) => `body${e.instancePath} ${e.message}`));
      return problems;
    }
    const operation = operationSchema.parse(rawOperation);
    const status = String(response.status);
    const spec = operation.responses[status] ?? operation.responses.default;
    if (!spec) {
      return [`status ${status} is not documented (documented: ${Object.keys(operation.responses).join(", ")})`];
    }
    const key = operation.responses[status] ? status : "default";
    const ref = ["paths", match.template, method, "responses", key].join("\u0000");
    return [...checkBody(response, ref, spec), ...checkHeaders(response, spec)];
  };
}

/** The document `GET /v1/openapi.json` serves, from the same generator. */
export function publishedDocument(version = "9.9.9"): unknown {
  return buildOpenApiDocument(apiRoutes, version);
}

/** Everything that did not match, in order, until taken. */
export class ConformanceLog {
  readonly #violations: string[] = [];

  record(response: ObservedResponse, problems: readonly string[]): void {
    if (problems.length === 0) return;
    this.#violations.push(
      `${response.method} ${response.path} -> ${response.status}:\n  ${problems.join("\n  ")}\n  body: ${response.body.toString("utf8").slice(0, 500)}`,
    );
  }

  take(): string[] {
    return this.#violations.splice(0);
  }
}

/**
 * Wraps a request listener (the Express app) so that every response it sends is checked just
 * before its last byte leaves: by the time a test reads an answer, its violations are logged.
 */
export function checkingResponses(
  app: RequestListener,
  validate: ResponseValidator,
  log: ConformanceLog,
): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    // Read before Express routes it: its routers rewrite `req.url` on the way.
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const chunks: Buffer[] = [];
    const keep = (chunk: unknown, encoding: unknown) => {
      if (chunk === undefined || chunk === null || typeof chunk === "function") return;
      if (Buffer.isBuffer(chunk)) chunks.push(chunk);
      else if (chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk));
      else
        chunks.push(
          Buffer.from(String(chunk), typeof encoding === "string" && Buffer.isEncoding(encoding) ? encoding : "utf8"),
        );
    };
    const write = res.write.bind(res);
    const end = res.end.bind(res);
    Reflect.set(res, "write", (chunk: unknown, ...rest: unknown[]) => {
      keep(chunk, rest[0]);
      return Reflect.apply(write, res, [chunk, ...rest]);
    });
    Reflect.set(res, "end", (...args: unknown[]) => {
      keep(args[0], args[1]);
      const headers: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(res.getHeaders())) {
        headers[name] = Array.isArray(value) ? value.join(", ") : value === undefined ? undefined : String(value);
      }
      const observed: ObservedResponse = {
        method: req.method ?? "GET",
        path,
        status: res.statusCode,
        headers,
        body: Buffer.concat(chunks),
      };
      log.record(observed, validate(observed));
      return Reflect.apply(end, res, args);
    });
    app(req, res);
  };
}
