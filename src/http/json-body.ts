import express, { type RequestHandler } from 'express';

/**
 * Parses JSON bodies but holds a parsing failure (malformed JSON, too large, unknown charset) on
 * the request instead of failing at once, so that authentication answers first: an
 * unauthenticated caller learns nothing about its body. `rejectHeldBodyError` raises it after.
 */
export function jsonBody(limitBytes: number): RequestHandler {
  const parse = express.json({ limit: limitBytes });
  return (req, res, next) => {
    parse(req, res, (error?: unknown) => {
      if (error) req.bodyError = error as NonNullable<typeof req.bodyError>;
      next();
    });
  };
}

export const rejectHeldBodyError: RequestHandler = (req, _res, next) => {
  next(req.bodyError);
};
