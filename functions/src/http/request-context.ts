import { randomUUID } from "node:crypto";
import { context, propagation, SpanKind, SpanStatusCode, type Tracer, trace } from "@opentelemetry/api";
import type { Logger } from "@whatsdex/core";
import type { NextFunction, Request, RequestHandler, Response } from "express";

declare module "express-serve-static-core" {
  interface Locals {
    requestId: string;
    logger: Logger;
  }
}

const requestIdPattern = /^[\w.:-]{1,128}$/;

/**
 * Per request: a server span (continuing an incoming `traceparent`), a request id echoed in
 * `X-Request-Id`, a child logger bound to both, and one access-log line when the response is done.
 * Everything after this middleware runs inside the span, so log lines carry its trace id.
 */
export function requestContext(deps: { tracer: Tracer; logger: Logger }): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const incoming = req.get("x-request-id");
    const requestId = incoming && requestIdPattern.test(incoming) ? incoming : randomUUID();
    const parent = propagation.extract(context.active(), req.headers);
    const span = deps.tracer.startSpan(
      `${req.method} ${req.path}`,
      { kind: SpanKind.SERVER, attributes: { "http.request.method": req.method, "url.path": req.path } },
      parent,
    );
    const started = performance.now();
    res.locals.requestId = requestId;
    res.locals.logger = deps.logger.child({ requestId });
    res.setHeader("X-Request-Id", requestId);

    res.once("finish", () => {
      // The matched route template (`/v1/tenants/:tenantId`), known only once routing has run.
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : undefined;
      if (route) {
        span.updateName(`${req.method} ${route}`);
        span.setAttribute("http.route", route);
      }
      span.setAttribute("http.response.status_code", res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      const durationMs = Math.round((performance.now() - started) * 10) / 10;
      context.with(trace.setSpan(context.active(), span), () => {
        res.locals.logger.info(
          { http: { method: req.method, path: req.path, route, status: res.statusCode, durationMs } },
          `${req.method} ${req.path} ${res.statusCode}`,
        );
      });
      span.end();
    });
    context.with(trace.setSpan(parent, span), next);
  };
}
