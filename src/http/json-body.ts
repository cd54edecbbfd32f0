import type { IncomingMessage } from 'node:http';
import { parse as parseContentType } from 'content-type';
import type { RequestHandler } from 'express';
import getRawBody from 'raw-body';

type BodyError = NonNullable<Express.Request['bodyError']>;

function bodyError(message: string, type: string, status: number): BodyError {
  return Object.assign(new Error(message), { type, status });
}

function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/**
 * Reads JSON bodies (objects and arrays, UTF-8, at most `limitBytes`) into `req.body`. Failures
 * (malformed JSON, too large, other charset or encoding) are held on the request instead of
 * answered at once, so that authentication answers first: an unauthenticated caller learns
 * nothing about its body. `rejectHeldBodyError` raises them afterwards.
 *
 * raw-body refuses a body whose Content-Length is over the limit without reading it, and stops
 * reading a chunked one at the limit; the connection is then closed after the response instead of
 * the rest being read and discarded, as body-parser would.
 */
export function jsonBody(limitBytes: number): RequestHandler {
  return (req, res, next) => {
    if (!hasBody(req)) return next();
    let charset: string;
    try {
      const contentType = parseContentType(req.headers['content-type'] ?? '');
      if (contentType.type !== 'application/json') return next();
      charset = (contentType.parameters.charset ?? 'utf-8').toLowerCase();
    } catch {
      // No or an unparseable Content-Type: the contract validator answers 415 for it.
      return next();
    }
    if (charset !== 'utf-8' && charset !== 'utf8') {
      req.bodyError = bodyError(`unsupported charset "${charset.toUpperCase()}"`, 'charset.unsupported', 415);
      return next();
    }
    const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding !== 'identity') {
      req.bodyError = bodyError(`unsupported content encoding "${encoding}"`, 'encoding.unsupported', 415);
      res.setHeader('Connection', 'close');
      return next();
    }
    getRawBody(req, { limit: limitBytes, length: req.headers['content-length'] ?? null, encoding: 'utf-8' }, (error, text) => {
      if (error) {
        req.bodyError = error as BodyError;
        res.setHeader('Connection', 'close');
        return next();
      }
      try {
        const value: unknown = JSON.parse(text);
        if (typeof value !== 'object' || value === null) throw new SyntaxError('the body must be a JSON object or array');
        req.body = value;
      } catch (parseError) {
        req.bodyError = bodyError((parseError as Error).message, 'entity.parse.failed', 400);
      }
      next();
    });
  };
}

export const rejectHeldBodyError: RequestHandler = (req, _res, next) => {
  next(req.bodyError);
};
