import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
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
 * pino-http with one line per request, bound to the request id; `req.log` carries the request id
 * only, so a handler's own lines stay short. The error handler puts an unexpected failure on
 * `res.err`, so the request's line is the one that tells it.
 */
export function requestLogger(logger: Logger): RequestHandler {
  return pinoHttp({
    logger,
    genReqId: (req) => req.id,
    quietReqLogger: true,
    quietResLogger: true,
    customAttributeKeys: { reqId: 'request_id', responseTime: 'duration_ms' },
    customLogLevel: levelOf,
    customSuccessObject: (req, res, base: { duration_ms: number }) => fieldsOf(req, res, base.duration_ms),
    customErrorObject: (req, res, _error, base: { duration_ms: number }) => {
      const cause = (res as ServerResponse & { err?: unknown }).err;
      return { ...fieldsOf(req, res, base.duration_ms), ...(cause !== undefined && { err: cause }) };
    },
    customSuccessMessage: summaryOf,
    customErrorMessage: summaryOf,
  });
}
