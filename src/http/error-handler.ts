import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError } from './errors';
import { redactIngestToken } from './redact';
import { meta } from './request-id';
import { discardUnreadBody } from './unread-body';

interface ValidationIssue {
  path?: string;
  message?: string;
}

/** What express-openapi-validator and body-parser errors carry. */
interface HttpLikeError {
  status?: number;
  type?: string;
  message?: string;
  errors?: ValidationIssue[];
  expected?: number;
  limit?: number;
}


// `/body/message_ids/0` -> `message_ids[0]`, `/params/id` -> `path parameter id`.
function describeLocation(path: string | undefined): string | undefined {
  if (!path) return undefined;
  const [, where, ...rest] = path.split('/');
  const field = rest.map((part, i) => (/^\d+$/.test(part) ? `[${part}]` : `${i > 0 ? '.' : ''}${part}`)).join('');
  switch (where) {
    case 'body':
      return field || 'request body';
    case 'params':
      return `path parameter ${field}`;
    case 'query':
      return `query parameter ${field}`;
    case 'headers':
      return `header ${field}`;
    default:
      return path;
  }
}

function describeValidation(error: HttpLikeError): string {
  const issues = error.errors ?? [];
  if (issues.length === 0) return error.message ?? 'invalid request';
  return issues
    .map((issue) => {
      if (issue.path === '/body' && issue.message?.includes("required property 'body'")) {
        return 'request body is required: send a JSON object';
      }
      const location = describeLocation(issue.path);
      const message = issue.message ?? 'is invalid';
      // The validator already names unknown parameters in its message.
      return location && !message.startsWith('Unknown') ? `${location}: ${message}` : message;
    })
    .join('; ');
}

function toAppError(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;
  const e = (error ?? {}) as HttpLikeError;
  switch (e.type) {
    case 'entity.parse.failed':
      return AppError.invalidRequest(`request body is not valid JSON: ${e.message}`);
    case 'entity.too.large':
      return new AppError(413, 'PAYLOAD_TOO_LARGE', `request body is larger than ${e.limit} bytes`);
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', `${e.message}: send UTF-8 application/json`);
  }
  switch (e.status) {
    case 400:
      return AppError.invalidRequest(describeValidation(e));
    case 401:
    case 403:
      return new AppError(401, 'UNAUTHORIZED', 'Invalid or missing API key');
    case 404:
    case 405:
      return undefined;
    case 413:
      return new AppError(413, 'PAYLOAD_TOO_LARGE', 'request body is too large');
    case 415:
      return new AppError(
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        e.message?.endsWith('undefined')
          ? 'missing Content-Type header: send application/json'
          : `${e.message ?? 'unsupported media type'}: send application/json`,
      );
  }
  return undefined;
}

/** The one place every failure becomes the error envelope the spec declares. */
export const errorHandler: ErrorRequestHandler = (error: unknown, req, res, next) => {
  if (res.headersSent) return next(error);
  const status = (error as HttpLikeError | undefined)?.status;
  // A security handler's own verdict (e.g. rate limited) reaches us only as a message.
  const cause = req.authFailure instanceof AppError ? req.authFailure : undefined;
  // A body that could not be parsed also fails schema validation; the parse error is the cause.
  let appError = cause ?? toAppError(req.bodyError && status === 400 ? req.bodyError : error);
  if (!appError && (status === 404 || status === 405)) appError = noRoute(req);
  if (!appError) {
    // The request's own log line (http/request-log.ts) tells it, at error level with the stack.
    const failure = req.authFailure ?? error;
    res.err = failure instanceof Error ? failure : new Error(String(failure));
    appError = new AppError(500, 'INTERNAL_ERROR', 'An internal error occurred');
  }
  res.set(appError.headers);
  // Answered before the body was read whole (refused unread, or over the limit).
  discardUnreadBody(req, res);
  res.status(appError.status).json({ error: { code: appError.code, message: appError.message }, meta: meta(req) });
};

export function noRoute(req: { method: string; path: string }): AppError {
  return new AppError(404, 'NOT_FOUND', `no route for ${req.method} ${redactIngestToken(req.path)}`);
}

/** After every route: what nothing answered is a 404 through the one error mapper. */
export const notFound: RequestHandler = (req, _res, next) => next(noRoute(req));
