import type { Tracer } from "@opentelemetry/api";
import { type Logger, PayloadTooLargeError } from "@whatsdex/core";
import express, { type ErrorRequestHandler, type Express, type RequestHandler, Router } from "express";
import type { Firestore } from "firebase-admin/firestore";
import { healthRouter } from "../health/routes.ts";
import { openApiRouter } from "../openapi/routes.ts";
import { planPolicy, type RateLimitPolicy } from "../rate-limit/policy.ts";
import { ApiRateLimiter } from "../rate-limit/rate-limiter.ts";
import { problem, problemFromError } from "./problem.ts";
import { requestContext } from "./request-context.ts";
import { mountRoute } from "./route.ts";
import { apiRoutes } from "./routes.ts";
import type { ApiServices } from "./services.ts";

export interface ApiDeps {
  logger: Logger;
  tracer: Tracer;
  version: string;
  firestore: Firestore;
  services: ApiServices;
  healthFirestoreTimeoutMs: number;
  bodyLimitBytes: number;
  /** Request budgets; the plan catalog's, on the wall clock, unless a test says otherwise. */
  rateLimits?: Partial<RateLimitOptions>;
}

export interface RateLimitOptions {
  policy: RateLimitPolicy;
  now(): number;
  /** Callers whose buckets one instance keeps (lru-cache allocates for all of them up front). */
  maxCallers: number;
}

const defaultRateLimits: RateLimitOptions = {
  policy: planPolicy,
  now: Date.now,
  maxCallers: 5_000,
};

/** The tenant API as a plain Express app: the `api` function serves it, and tests serve it on a port. */
export function createApiApp(deps: ApiDeps): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", true);
  app.set("query parser", "simple");
  const limits = { ...defaultRateLimits, ...deps.rateLimits };
  const limiter = new ApiRateLimiter({
    policy: limits.policy,
    now: limits.now,
    maxCallers: limits.maxCallers,
  });
  const routePaths = apiRoutes.map((route) => new RegExp(`^/v1${route.path.replace(/\{\w+\}/g, "[^/]+")}/?$`, "i"));

  app.use(requestContext(deps));
  // Before any body is read: an anonymous caller over budget costs nothing more.
  app.use(limiter.addressBudget((path) => routePaths.some((pattern) => pattern.test(path))));
  app.use(rawBodyLimit(deps.bodyLimitBytes));
  app.use(express.json({ limit: deps.bodyLimitBytes, strict: true }));

  const v1 = Router();
  v1.use(healthRouter(deps));
  v1.use(openApiRouter(apiRoutes, deps.version));
  for (const route of apiRoutes) mountRoute(v1, route, deps.services, limiter);
  app.use("/v1", v1);

  app.use(notFound);
  app.use(errorHandler);
  return app;
}

/**
 * Cloud Functions parse the body before our app sees it (and then `express.json` skips it), under
 * the platform's far larger limit; the raw bytes it keeps are checked against ours here. File
 * uploads (multipart) have their own per-kind limits, checked by the upload route.
 */
function rawBodyLimit(limitBytes: number): RequestHandler {
  return (req, _res, next) => {
    const raw: unknown = Reflect.get(req, "rawBody");
    if (Buffer.isBuffer(raw) && raw.length > limitBytes && !req.is("multipart/form-data")) {
      next(new PayloadTooLargeError(`The request body is larger than ${limitBytes} bytes.`));
      return;
    }
    next();
  };
}

const notFound: RequestHandler = (req, res) => {
  sendProblem(res, problem("not_found", `No route for ${req.method} ${req.path}.`), {});
};

const errorHandler: ErrorRequestHandler = (error: unknown, _req, res, _next) => {
  const { problem: body, headers } = problemFromError(error);
  if (body.status >= 500) res.locals.logger.error({ err: error }, "request failed");
  else res.locals.logger.info({ code: body.code }, "request refused");
  sendProblem(res, body, headers);
};

function sendProblem(res: express.Response, body: ReturnType<typeof problem>, headers: Record<string, string>): void {
  res.status(body.status).set(headers).type("application/problem+json");
  res.send(JSON.stringify({ ...body, instance: res.req.originalUrl.split("?")[0], requestId: res.locals.requestId }));
}
