import type { Request } from 'express';
import type { Database } from '../db/prisma';
import type { RateLimiter } from '../http/rate-limit';
import { findLiveApiKey } from '../projects/repository';
import { hashApiKey } from './api-keys';
import type { FailedAuthGuard } from './failed-auth';
import { bearerCredential } from './secrets';

/**
 * Runs a security handler's check so that express-openapi-validator sees only true/false/throw,
 * while the real reason (a 429, a database failure) is kept on the request for the error mapper.
 */
export async function guarded(req: Request, check: () => Promise<boolean>): Promise<boolean> {
  try {
    return await check();
  } catch (error) {
    req.authFailure = error;
    throw Object.assign(new Error('authentication could not be completed'), { status: 500 });
  }
}

/**
 * The security handler for the spec's `ApiKeyAuth` scheme: false (401) for a missing, unknown or
 * revoked key, and a 429 without looking the key up while the client's address has failed too
 * often (see failed-auth.ts); then one request of the key's budget is spent.
 */
export function apiKeyAuth(db: Database, limiter: RateLimiter, failedAuth: FailedAuthGuard) {
  return (req: Request): Promise<boolean> =>
    guarded(req, async () => {
      const key = bearerCredential(req.headers.authorization);
      // No key guesses nothing and costs no look-up: it is not counted as a failed attempt.
      if (!key) return false;
      const keyHash = hashApiKey(key);
      const found = await failedAuth.attempt(req.ip ?? req.socket.remoteAddress ?? '', keyHash, () => findLiveApiKey(db, keyHash));
      if (!found) return false;
      await limiter.consume(found.apiKeyId);
      req.auth = found;
      return true;
    });
}
