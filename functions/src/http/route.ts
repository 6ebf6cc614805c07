import { once } from "node:events";
import { trace } from "@opentelemetry/api";
import {
  type FieldIssue,
  fieldIssues,
  type Logger,
  type Permission,
  type Principal,
  type TenantAccess,
  ValidationError,
} from "@whatsdex/core";
import type { Request, Response, Router } from "express";
import { z } from "zod";
import type { ApiRateLimiter } from "../rate-limit/rate-limiter.ts";
import { type AuthMode, authenticate } from "./authenticate.ts";
import type { ApiServices } from "./services.ts";

type AnyObject = z.ZodObject;
const noParams = z.strictObject({});

export interface RouteContext<P extends AnyObject, Q extends AnyObject, B extends z.ZodType, H extends AnyObject, A> {
  params: z.output<P>;
  query: z.output<Q>;
  body: z.output<B>;
  headers: z.output<H>;
  principal: Principal;
  /** Present when the route names a permission: the caller's verified standing in the tenant. */
  access: A extends Permission ? TenantAccess : undefined;
  services: ApiServices;
  logger: Logger;
  /** The request's id (`X-Request-Id`, ours or the caller's): what audit entries and logs name it by. */
  requestId: string;
  /** The request itself: only routes with a `rawBody` read it (to stream a file upload). */
  request: Request;
}

export interface RouteResult {
  status: number;
  body?: unknown;
  /** Bytes sent as they are (a media download), with their Content-Type in `headers`; instead of `body`. */
  binary?: Buffer;
  /**
   * A body written as it is produced (an export), instead of `body`: nothing is sent until its first
   * piece is ready, so a failure before then is still an ordinary problem answer; one after that
   * aborts the response, so a client never takes a cut-off body for a whole one.
   */
  stream?: AsyncIterable<string>;
  headers?: Record<string, string>;
}

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  /** Not JSON: the media range the body is sent as (e.g. any type, for a file), described by `schema`. */
  contentType?: string;
}

/**
 * One API operation, described once: Express mounts it with this validation and access check, and
 * the OpenAPI document is generated from the same schemas (src/openapi), so the two cannot drift.
 */
export interface RouteDefinition<
  P extends AnyObject = AnyObject,
  Q extends AnyObject = AnyObject,
  B extends z.ZodType = z.ZodType,
  H extends AnyObject = AnyObject,
  A extends Permission | undefined = Permission | undefined,
> {
  method: "get" | "post" | "patch" | "delete";
  /** OpenAPI-style path under /v1, e.g. `/tenants/{tenantId}/bots`. */
  path: `/${string}`;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  auth: AuthMode;
  /** Checked against the `tenantId` path parameter before anything else is read. */
  permission?: A;
  params?: P;
  query?: Q;
  body?: B;
  /**
   * A body that is not JSON (a file upload): the handler reads it from `context.request`, and the
   * OpenAPI document describes it as `contentType` with `schema`. Mutually exclusive with `body`.
   */
  rawBody?: { contentType: string; schema: z.ZodType };
  headers?: H;
  responses: Record<number, ResponseSpec>;
  handle(context: RouteContext<P, Q, B, H, A>): Promise<RouteResult>;
}

/** Identity, for inference: `defineRoute({...})` types the handler's context from the schemas. */
export function defineRoute<
  P extends AnyObject = typeof noParams,
  Q extends AnyObject = typeof noParams,
  B extends z.ZodType = z.ZodUndefined,
  H extends AnyObject = typeof noParams,
  A extends Permission | undefined = undefined,
>(definition: RouteDefinition<P, Q, B, H, A>): RouteDefinition<P, Q, B, H, A> {
  return definition;
}

export function expressPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ":$1");
}

function parsePart<S extends z.ZodType>(schema: S, value: unknown, location: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues: FieldIssue[] = fieldIssues(result.error).map((issue) => ({
    path: issue.path ? `${location}.${issue.path}` : location,
    message: issue.message,
  }));
  const summary = issues.map((issue) => `${issue.path}: ${issue.message}`).join("; ");
  throw new ValidationError(`Invalid request: ${summary}`, issues);
}

/** Header values Express has lowercased; only the ones the route declares are passed on. */
function declaredHeaders(req: Request, schema: AnyObject | undefined): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const name of Object.keys(schema?.shape ?? {})) out[name] = req.get(name);
  return out;
}

export function mountRoute(
  router: Router,
  route: RouteDefinition,
  services: ApiServices,
  limiter: ApiRateLimiter,
): void {
  router[route.method](expressPath(route.path), async (req: Request, res: Response) => {
    // Ids first: nothing is read from Firestore with an id that failed its schema.
    const params = parsePart(route.params ?? noParams, req.params, "path");
    const tenantId = typeof params.tenantId === "string" ? params.tenantId : undefined;
    if (tenantId) trace.getActiveSpan()?.setAttribute("whatsdex.tenant_id", tenantId);

    let principal: Principal;
    let access: TenantAccess | undefined;
    try {
      principal = await authenticate(req, services, route.auth, tenantId);
      if (route.permission) {
        if (!tenantId) throw new Error(`${route.operationId} names a permission but has no tenantId parameter`);
        access = await services.access.require(principal, tenantId, route.permission);
      }
    } catch (error) {
      // Refused credentials or access cost the address, so probing keys or tenants runs out.
      limiter.chargeAddress(req, res);
      throw error;
    }
    // Only now is the tenant known to be real and the caller's: its plan sizes the budget.
    limiter.chargePrincipal(principal, access, res);

    const query = parsePart(route.query ?? noParams, req.query, "query");
    const headers = parsePart(route.headers ?? z.object({}), declaredHeaders(req, route.headers), "header");
    let body: unknown;
    if (route.body) {
      if (req.body === undefined) {
        throw new ValidationError("Send a JSON body with Content-Type: application/json.", [
          { path: "body", message: "is required" },
        ]);
      }
      body = parsePart(route.body, req.body, "body");
    } else if (route.rawBody) {
      // Read by the handler, as a stream or (under Cloud Functions) from the raw bytes the platform kept.
    } else if (req.body !== undefined && !isEmptyObject(req.body)) {
      throw new ValidationError("This operation takes no request body.", [{ path: "body", message: "must be empty" }]);
    }

    const result = await route.handle({
      params,
      query,
      body,
      headers,
      principal,
      access,
      services,
      logger: res.locals.logger,
      requestId: res.locals.requestId,
      request: req,
    });
    if (result.stream) {
      await sendStream(res, result.status, result.headers ?? {}, result.stream);
      return;
    }
    res.status(result.status).set(result.headers ?? {});
    if (result.binary) res.end(result.binary);
    else if (result.body === undefined) res.end();
    else res.json(result.body);
  });
}

async function sendStream(
  res: Response,
  status: number,
  headers: Record<string, string>,
  stream: AsyncIterable<string>,
): Promise<void> {
  const pieces = stream[Symbol.asyncIterator]();
  let next = await pieces.next();
  res.status(status).set(headers);
  try {
    while (!next.done) {
      // Backpressure: a slow client holds the reads back instead of filling memory.
      if (!res.write(next.value)) await Promise.race([once(res, "drain"), once(res, "close")]);
      // The client went away: stop reading.
      if (res.destroyed) {
        await pieces.return?.();
        return;
      }
      next = await pieces.next();
    }
    res.end();
  } catch (error) {
    res.locals.logger.error({ err: error }, "streamed response failed");
    res.destroy(error instanceof Error ? error : new Error(String(error)));
  }
}

function isEmptyObject(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length === 0;
}
