import { randomBytes } from 'node:crypto';
import type { RequestHandler } from 'express';

/** `req_` and 20 URL-safe random characters (120 bits). */
export function newRequestId(): string {
  return `req_${randomBytes(15).toString('base64url')}`;
}

/** Gives every request an id and echoes it in `X-Request-Id` on every response. */
export const requestId: RequestHandler = (req, res, next) => {
  req.id = newRequestId();
  res.setHeader('X-Request-Id', req.id);
  next();
};

export function meta(req: { id: unknown }) {
  return { request_id: String(req.id) };
}
