import type { Database } from '../db/prisma';
import { AppError } from '../http/errors';
import { meta } from '../http/request-id';
import type { OperationRequest, OperationResponse } from '../http/types';

const READINESS_TIMEOUT_MS = 2000;

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function healthHandlers(db: Database) {
  return {
    getHealth(req: OperationRequest<'getHealth'>, res: OperationResponse<'getHealth'>) {
      res.status(200).json({ data: { status: 'ok' }, meta: meta(req) });
    },

    async getReadiness(req: OperationRequest<'getReadiness'>, res: OperationResponse<'getReadiness'>) {
      try {
        await withTimeout(db.$queryRaw`SELECT 1`, READINESS_TIMEOUT_MS);
      } catch (error) {
        req.log.warn({ err: error }, 'readiness check failed');
        throw new AppError(503, 'SERVICE_UNAVAILABLE', 'database is not reachable');
      }
      res.status(200).json({ data: { status: 'ok' }, meta: meta(req) });
    },
  };
}
