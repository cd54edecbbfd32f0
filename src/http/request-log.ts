import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, RequestHandler } from 'express';
import type { Logger } from './logger';
import { operationOf } from './operation';

/** Probes answer every few seconds from every orchestrator: worth a line only when debugging. */
const PROBES = new Set(['getHealth', 'getReadiness']);

type Level = 'debug' | 'info' | 'error';

function levelOf(req: IncomingMessage, res: ServerResponse): Level {
  if (res.statusCode >= 500) return 'error';
  if (req.method === 'OPTIONS' || PROBES.has(operationOf(req as Request).operationId)) return 'debug';
  return 'info';
}

/**
 * The one line a request leaves: what it was in bounded terms (the route template, never the URL,
 * which may hold an ingest token; no header, which may hold a key), how it ended and how long it
 * took. A 5xx carries the error that caused it, stack included.
 */
function fieldsOf(req: IncomingMessage, res: ServerResponse, durationMs: number) {
  const { operationId, route } = operationOf(req as Request);
  return {
    method: req.method,
    route: route ?? null,
    operation_id: operationId,
    status: res.statusCode,
    duration_ms: durationMs,
    client_ip: (req as Request).ip,
    ...(!res.writableEnded && { aborted: true }),
  };
}

function summaryOf(req: IncomingMessage, res: ServerResponse): string {
  const { route } = operationOf(req as Request);
  return `${req.method} ${route ?? '(no route)'} ${res.writableEnded ? res.statusCode : 'aborted'}`;
}

/**
 * One line per request, bound to the request id, logged when the response finishes (or the
 * connection closes first: `aborted`). `req.log` carries the request id only, so a handler's own
 * lines stay short; it is made on first use, as most requests never log anything of their own.
 * The error handler puts an unexpected failure on `res.err`, so the request's line is the one that
 * tells it. (pino-http did this before, at ~0.1 ms of CPU per request: it bound a child logger to
 * the whole request, serialised and redacted, even with nothing to log; bench/ measures it.)
 */
export function requestLogger(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = Date.now();
    let child: Logger | undefined;
    Object.defineProperty(req, 'log', {
      configurable: true,
      enumerable: false,
      get: () => (child ??= logger.child({ request_id: req.id })),
    });
    const done = () => {
      res.removeListener('close', done);
      res.removeListener('finish', done);
      const level = levelOf(req, res);
      if (!logger.isLevelEnabled(level)) return;
      const cause = res.err;
      req.log[level]({ ...fieldsOf(req, res, Date.now() - started), ...(cause !== undefined && { err: cause }) }, summaryOf(req, res));
    };
    res.on('close', done);
    res.on('finish', done);
    next();
  };
}
