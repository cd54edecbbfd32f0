import type { Request } from 'express';
import type { Database } from '../db/prisma';
import { findLiveApiKey } from '../projects/repository';
import { hashApiKey } from './api-keys';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * The security handler for the spec's `ApiKeyAuth` scheme. Answers false for a missing, unknown or
 * revoked key (401). A database failure must not pass for a bad key: it is rethrown as a 500.
 */
export function apiKeyAuth(db: Database) {
  return async (req: Request): Promise<boolean> => {
    const match = BEARER.exec(req.headers.authorization ?? '');
    if (!match?.[1]) return false;
    try {
      const key = await findLiveApiKey(db, hashApiKey(match[1]));
      if (!key) return false;
      req.auth = key;
      return true;
    } catch (error) {
      req.authFailure = error;
      throw Object.assign(new Error('authentication could not be checked'), { status: 500 });
    }
  };
}
