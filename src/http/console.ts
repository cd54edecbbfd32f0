import path from 'node:path';
import express, { Router, type RequestHandler } from 'express';
import { AppError } from './errors';
import { tagOperation } from './operation';

/**
 * The console's page may load and call only this service: no inline script or style, no other
 * host, no frames, no form posts (sign-in never leaves the page). Vite builds it that way
 * (console/vite.config.mts); test/console checks that Chromium reports no violation.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'Content-Security-Policy': CONSOLE_CSP,
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

/**
 * The web console built into `dir` (build/console) at /console: its page revalidated on every
 * load (a deploy changes it under the same URL), its hashed assets cached for a year. Static
 * files only; while it is not built, /console says how to build it.
 */
export function consoleRouter(dir: string): Router {
  const router = Router();
  router.use('/console', (req, res, next) => {
    tagOperation(req, { operationId: 'console', route: '/console' });
    res.set(SECURITY_HEADERS);
    next();
  });
  const index = path.join(dir, 'index.html');
  // Looked for on every load, so that a build made while the service runs is served at once.
  const page: RequestHandler = (_req, res, next) => {
    res.set('Cache-Control', 'no-cache');
    res.sendFile(index, (error?: NodeJS.ErrnoException) => {
      if (!error || res.headersSent) return;
      next(error.code === 'ENOENT' ? new AppError(404, 'NOT_FOUND', 'the console is not built: run `npm run build` (npm start does it when sources changed)') : error);
    });
  };
  // Routes live in the fragment (#/endpoints/...): /console and /console/ are the only pages.
  router.get(['/console', '/console/'], page);
  router.use('/console/assets', express.static(path.join(dir, 'assets'), { immutable: true, maxAge: '365d', index: false, redirect: false, fallthrough: true }));
  router.use('/console', express.static(dir, { index: false, redirect: false, maxAge: 0, setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache') }));
  return router;
}
