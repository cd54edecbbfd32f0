import type { IncomingHttpHeaders } from 'node:http';
import { parse as parseContentType } from 'content-type';
import type { Request, RequestHandler } from 'express';
import getRawBody from 'raw-body';
import { AppError } from './errors';

type BodyError = NonNullable<Express.Request['bodyError']>;

/** Deeper than any real webhook; deeper still would exhaust the stack of code walking the body. */
export const MAX_JSON_DEPTH = 200;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function bodyError(message: string, type: string, status: number): BodyError {
  return Object.assign(new Error(message), { type, status });
}

export function hasBody(headers: IncomingHttpHeaders): boolean {
  return headers['transfer-encoding'] !== undefined || Number(headers['content-length'] ?? 0) > 0;
}

/**
 * What PostgreSQL or our own code cannot take even in valid JSON: nesting deeper than
 * MAX_JSON_DEPTH, and NUL characters, which neither text nor jsonb columns store. Walks the value
 * without recursion, so the check itself cannot exhaust the stack.
 */
export function unstorableJson(value: unknown): string | undefined {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (typeof item === 'string') {
      if (item.includes('\u0000')) return 'strings must not contain NUL (\\u0000) characters';
    } else if (item !== null && typeof item === 'object') {
      if (depth > MAX_JSON_DEPTH) return `JSON must not nest deeper than ${MAX_JSON_DEPTH} levels`;
      for (const [key, child] of Object.entries(item)) {
        if (key.includes('\u0000')) return 'keys must not contain NUL (\\u0000) characters';
        stack.push([child, depth + 1]);
      }
    }
  }
  return undefined;
}

/**
 * False when the text cannot hold what unstorableJson looks for, which spares walking the value:
 * a NUL can only be written `\u0000` in JSON, and nesting deeper than MAX_JSON_DEPTH takes more
 * than that many brackets.
 */
function mayBeUnstorable(text: string): boolean {
  if (text.includes('\\u0000')) return true;
  let brackets = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if ((code === 0x7b || code === 0x5b) && ++brackets > MAX_JSON_DEPTH) return true;
  }
  return false;
}

/**
 * Reads JSON bodies (objects and arrays, strict UTF-8, at most `limitBytes`) into `req.body`.
 * Failures (malformed JSON or UTF-8, too large, other charset or encoding, unstorable content)
 * are held on the request instead of answered at once, so that authentication answers first: an
 * unauthenticated caller learns nothing about its body. `rejectHeldBodyError` raises them after.
 *
 * raw-body refuses a body whose Content-Length is over the limit without reading it, and stops
 * reading a chunked one at the limit; the error answer then deals with the unread rest
 * (`discardUnreadBody`: read and dropped up to a limit, else the connection closes after it).
 */
export function jsonBody(limitBytes: number): RequestHandler {
  return (req, res, next) => {
    if (!hasBody(req.headers)) return next();
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
      return next();
    }
    getRawBody(req, { limit: limitBytes, length: req.headers['content-length'] ?? null }, (error, raw) => {
      if (error) {
        req.bodyError = error as BodyError;
        // Cut short or malformed: the connection is not reused. Over the limit: the error answer
        // drops the unread rest (error-handler.ts).
        if (req.bodyError.type !== 'entity.too.large') res.setHeader('Connection', 'close');
        return next();
      }
      let text: string;
      try {
        text = utf8.decode(raw);
      } catch {
        req.bodyError = bodyError('request body is not valid UTF-8', 'entity.parse.failed', 400);
        return next();
      }
      try {
        const value: unknown = JSON.parse(text);
        if (typeof value !== 'object' || value === null) throw new SyntaxError('the body must be a JSON object or array');
        const unstorable = mayBeUnstorable(text) ? unstorableJson(value) : undefined;
        if (unstorable) {
          req.bodyError = Object.assign(AppError.invalidRequest(`request body cannot be stored: ${unstorable}`), { type: 'app' });
        } else {
          req.body = value;
        }
      } catch (parseError) {
        req.bodyError = bodyError((parseError as Error).message, 'entity.parse.failed', 400);
      }
      next();
    });
  };
}

/** The request body the operation the contract matched declares, if any. */
function declaredBody(req: Request): { required?: boolean } | undefined {
  // express-openapi-validator attaches the matched operation; it does not type it.
  return (req as unknown as { openapi?: { schema?: { requestBody?: { required?: boolean } } } }).openapi?.schema?.requestBody;
}

/**
 * Raises a held body error once authentication and validation ran, and what the validator lets
 * through: an empty body where the operation requires one, NUL characters in query parameters.
 */
export const rejectHeldBodyError: RequestHandler = (req, _res, next) => {
  if (req.bodyError) return next(req.bodyError);
  const declared = declaredBody(req);
  // A body the JSON reader left alone (no or another Content-Type) where the operation takes one:
  // the validator lets it pass when the body is optional, and it would be silently ignored.
  if (req.body === undefined && declared && hasBody(req.headers)) {
    const contentType = req.headers['content-type'];
    return next(
      new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', contentType ? `unsupported Content-Type "${contentType}": send application/json` : 'missing Content-Type header: send application/json'),
    );
  }
  if (req.body === undefined && declared?.required === true) {
    return next(AppError.invalidRequest('request body is required: send a JSON object'));
  }
  if (Object.values(req.query).some((value) => typeof value === 'string' && value.includes('\u0000'))) {
    return next(AppError.invalidRequest('query parameters must not contain NUL characters'));
  }
  next();
};
