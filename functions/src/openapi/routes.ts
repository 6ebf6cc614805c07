import { createRequire } from "node:module";
import { dirname } from "node:path";
import express, { Router } from "express";
import type { RouteDefinition } from "../http/route.ts";
import { buildOpenApiDocument } from "./document.ts";

/**
 * `GET /v1/openapi.json` and the rendered reference at `GET /v1/docs` (Swagger UI, served from the
 * swagger-ui-dist package, so the page needs nothing from a CDN).
 */
export function openApiRouter(routes: readonly RouteDefinition[], version: string): Router {
  const router = Router();
  let document: string | undefined;
  router.get("/openapi.json", (_req, res) => {
    document ??= JSON.stringify(buildOpenApiDocument(routes, version));
    res.type("application/json").set("Cache-Control", "public, max-age=300").send(document);
  });

  router.get("/docs", (req, res, next) => {
    // Relative asset URLs need the trailing slash: /v1/docs/ is where the page lives.
    if (!req.originalUrl.split("?")[0]?.endsWith("/")) return res.redirect(301, `${req.originalUrl.split("?")[0]}/`);
    return next();
  });
  router.get("/docs/", (_req, res) => {
    res.type("html").set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:").send(docsPage);
  });
  router.get("/docs/init.js", (_req, res) => {
    res.type("application/javascript").send(initScript);
  });
  router.use("/docs", express.static(swaggerUiDir(), { index: false, maxAge: "1d" }));
  return router;
}

function swaggerUiDir(): string {
  return dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
}

const docsPage = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>WhatsDeX API reference</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link rel="stylesheet" href="swagger-ui.css">
</head>
<body>
  <div id="reference"></div>
  <script src="swagger-ui-bundle.js"></script>
  <script src="init.js"></script>
</body>
</html>
`;

const initScript = `window.ui = SwaggerUIBundle({ url: "../openapi.json", dom_id: "#reference", deepLinking: true });\n`;
