import { randomBytes } from 'node:crypto';
import type { RequestHandler } from 'express';

const ID_BYTES = 15;
/** Random bytes for 256 ids, drawn at once: one call into the CSPRNG per 256 requests, not per request. */
let pool = Buffer.alloc(0);
let offset = 0;

/** `req_` and 20 URL-safe random characters (120 bits). */
export function newRequestId(): string {
  if (offset + ID_BYTES > pool.length) {
    pool = randomBytes(ID_BYTES * 256);
    offset = 0;
  }
  const id = pool.toString('base64url', offset, offset + ID_BYTES);
  offset += ID_BYTES;
  return `req_${id}`;
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
