import type { Request, Response } from 'express';
import type { operations } from '../../generated/openapi';
import type { AuthenticatedKey } from '../projects/repository';

export type OperationId = keyof operations;

type JsonContent<T> = T extends { content: { 'application/json': infer Body } } ? Body : never;

export type RequestBody<K extends OperationId> = JsonContent<operations[K]['requestBody']>;
export type PathParams<K extends OperationId> = operations[K]['parameters']['path'] extends infer P
  ? P extends Record<string, string> ? P : Record<string, never>
  : never;
export type SuccessBody<K extends OperationId> = JsonContent<operations[K]['responses'][200]>;

export type OperationRequest<K extends OperationId> = Request<PathParams<K>, SuccessBody<K>, RequestBody<K>>;
export type OperationResponse<K extends OperationId> = Response<SuccessBody<K>>;

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- Express's own augmentation point
  namespace Express {
    interface Request {
      /** Set by the security handler once the API key is verified. */
      auth?: AuthenticatedKey;
      /** A body-parsing failure, held back until authentication has run (rule: auth first). */
      bodyError?: Error & { type?: string; status?: number };
      /** An unexpected failure inside the security handler, kept for the error log. */
      authFailure?: unknown;
    }
  }
}

/** The authenticated key of a request that passed the security handler. */
export function authOf(req: Request): AuthenticatedKey {
  if (!req.auth) throw new Error('route is not behind the ApiKeyAuth security handler');
  return req.auth;
}
