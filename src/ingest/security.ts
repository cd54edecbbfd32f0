import type { Request } from 'express';
import { bearerCredential, sameDigest, sha256Hex } from '../auth/secrets';
import { guarded } from '../auth/security';
import type { Database } from '../db/prisma';
import type { RateLimiter } from '../http/rate-limit';
import { findForIngest } from '../pull-endpoints/repository';

const INGEST_PATH = /^\/ingest\/([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$/;

/**
 * The security handler for both ingest schemes (`Authorization: Bearer` and `X-Ingest-Token`).
 * The validator calls it once per scheme; the check runs once per request. A wrong token, and an
 * unknown or deleted endpoint, are all false (401): the sender learns nothing about endpoints.
 */
export function ingestTokenAuth(db: Database, limiter: RateLimiter) {
  const checks = new WeakMap<Request, Promise<boolean>>();

  const check = async (req: Request): Promise<boolean> => {
    const endpointId = INGEST_PATH.exec(req.path)?.[1]?.toLowerCase();
    const headerToken = req.headers['x-ingest-token'];
    const token = bearerCredential(req.headers.authorization) ?? (typeof headerToken === 'string' ? headerToken : undefined);
    if (!endpointId || !token) return false;
    const endpoint = await findForIngest(db, endpointId);
    if (!endpoint || !sameDigest(sha256Hex(token), endpoint.secretTokenHash)) return false;
    await limiter.consume(endpoint.id);
    req.ingestEndpoint = { id: endpoint.id, paused: endpoint.pausedAt !== null, eventTypeSource: endpoint.eventTypeSource };
    return true;
  };

  return (req: Request): Promise<boolean> => {
    let result = checks.get(req);
    if (!result) {
      result = guarded(req, () => check(req));
      checks.set(req, result);
    }
    return result;
  };
}
