import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { Router, type RequestHandler } from 'express';
import { tagOperation } from './operation';
import { parse } from 'yaml';

/** Redoc's self-contained browser build: the page loads nothing from any other host. */
const REDOC_BUNDLE = require.resolve('redoc/bundles/redoc.standalone.js');
const REDOC_VERSION = (JSON.parse(fs.readFileSync(require.resolve('redoc/package.json'), 'utf8')) as { version: string }).version;

/** The bundle's URL names its version, so a browser may keep it for a year. */
export const REDOC_SCRIPT_PATH = `/docs/redoc-${REDOC_VERSION}.js`;

// The spec and the page change with each deploy under the same URL: revalidate them (ETag).
const REVALIDATE = 'no-cache';
const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * Only this origin, plus what Redoc itself needs (each refused otherwise, seen in Chromium):
 * styled-components writes <style> elements ('unsafe-inline' styles), its CSS draws icons as
 * data: SVGs, and the search index runs in a worker made from a blob: URL.
 */
const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  'worker-src blob:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Bytes known at startup, answered with a strong ETag (Express turns a match into a 304). */
function fixed(body: Buffer, contentType: string, cacheControl: string, headers: Record<string, string> = {}): RequestHandler {
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  return (_req, res) => {
    res.set({ ...headers, 'Content-Type': contentType, 'Cache-Control': cacheControl, ETag: etag });
    res.send(body);
  };
}

/**
 * Redoc 2's sidebar footer loads its logo from cdn.redoc.ly, and no option turns that off. With an
 * empty src the image fails without a request and Redoc hides it (its onError); the link stays.
 * Should an upgrade move the URL, test/docs sees the page ask another host again.
 */
function redocBundle(): Buffer {
  return Buffer.from(fs.readFileSync(REDOC_BUNDLE, 'utf8').replace('"https://cdn.redoc.ly/redoc/logo-mini.svg"', '""'));
}

let bundleHandler: RequestHandler | undefined;
/** The bundle is read, patched and hashed once per process, however many apps it makes. */
function serveBundle(): RequestHandler {
  return (bundleHandler ??= fixed(redocBundle(), 'text/javascript; charset=utf-8', IMMUTABLE));
}

/** The empty data: icon keeps the browser from asking for /favicon.ico (a 404 in its console). */
function docsPage(title: string): string {
  const text = title.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${text} reference</title>
<link rel="icon" href="data:,">
<style>body { margin: 0; }</style>
</head>
<body>
<noscript>This reference needs JavaScript. The contract it renders is at <a href="/openapi.yaml">/openapi.yaml</a>.</noscript>
<redoc spec-url="/openapi.json"></redoc>
<script src="${REDOC_SCRIPT_PATH}"></script>
</body>
</html>
`;
}

/**
 * The contract (openapi.yaml as it is, and as JSON), its reference page at /docs and `/` sending
 * people there. The spec file is read once, here, from the same path the validator loads.
 */
export function docsRouter(specPath: string): Router {
  const yaml = fs.readFileSync(specPath);
  const spec = parse(yaml.toString('utf8')) as { info: { title: string } };
  const router = Router();
  const tag: RequestHandler = (req, _res, next) => {
    tagOperation(req, { operationId: 'docs', route: req.route ? String((req.route as { path: unknown }).path) : undefined });
    next();
  };
  router.get(['/openapi.yaml', '/openapi.json', '/docs', REDOC_SCRIPT_PATH, '/'], tag);
  // RFC 9512 registers application/yaml; it defines no charset parameter (YAML is Unicode).
  router.get('/openapi.yaml', fixed(yaml, 'application/yaml', REVALIDATE));
  router.get('/openapi.json', fixed(Buffer.from(JSON.stringify(spec)), 'application/json; charset=utf-8', REVALIDATE));
  router.get('/docs', fixed(Buffer.from(docsPage(spec.info.title)), 'text/html; charset=utf-8', REVALIDATE, { 'Content-Security-Policy': DOCS_CSP }));
  router.get(REDOC_SCRIPT_PATH, serveBundle());
  // 302, not 301: browsers keep a 301 for good, and `/` may serve something else one day.
  router.get('/', (_req, res) => res.redirect(302, '/docs'));
  return router;
}
