import path from 'node:path';
import { Router, static as serveStatic } from 'express';
import type { ApiOperation } from '../../http/api-operation';
import { buildOpenApiDocument } from './openapi-document';

const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>auditflow API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>`;

/**
 * The package's folder of static assets. Not its `getAbsoluteFSPath()`: requiring the package's index
 * evaluates its 1.5 MB browser bundle in Node, about 0.3 s of every process start, to serve files.
 */
const SWAGGER_UI_ASSETS = path.dirname(require.resolve('swagger-ui-dist/package.json'));

const INIT_SCRIPT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true });`;

/** /openapi.json, and a browsable page of it at /docs (Swagger UI, served from the swagger-ui-dist package). */
export function openApiRoutes(operations: ApiOperation[], version: string): Router {
  const router = Router();
  const document = buildOpenApiDocument(operations, { version });
  router.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  router.get('/docs', (_req, res) => {
    // The page loads only its own scripts; nothing inline, nothing from elsewhere.
    res.set('Content-Security-Policy', "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'").type('html').send(DOCS_PAGE);
  });
  router.get('/docs/init.js', (_req, res) => {
    res.type('application/javascript').send(INIT_SCRIPT);
  });
  router.use('/docs/assets', serveStatic(SWAGGER_UI_ASSETS, { index: false, maxAge: '1h' }));
  return router;
}
