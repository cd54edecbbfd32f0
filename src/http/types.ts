import type { Request, Response } from 'express';
import type { operations } from '../../generated/openapi';
import type { AuthenticatedKey } from '../projects/repository';

export type OperationId = keyof operations;

type JsonContent<T> = T extends { content: { 'application/json': infer Body } } ? Body : never;
type Responses<K extends OperationId> = operations[K]['responses'];
type SuccessStatus<K extends OperationId> = Extract<keyof Responses<K>, 200 | 201 | 202>;

export type RequestBody<K extends OperationId> = JsonContent<operations[K]['requestBody']>;
export type PathParams<K extends OperationId> = operations[K]['parameters']['path'] extends infer P
  ? P extends Record<string, string> ? P : Record<string, never>
  : never;
export type QueryParams<K extends OperationId> = NonNullable<operations[K]['parameters']['query']>;
export type SuccessBody<K extends OperationId> = JsonContent<Responses<K>[SuccessStatus<K>]>;

export type OperationRequest<K extends OperationId> = Request<PathParams<K>, SuccessBody<K>, RequestBody<K>, QueryParams<K>>;
/** Operations whose success is not JSON (a raw payload) write whatever bytes they answer. */
export type OperationResponse<K extends OperationId> = Response<[SuccessBody<K>] extends [never] ? unknown : SuccessBody<K>>;

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- Express's own augmentation point
  namespace Express {
    interface Request {
      /** Set by the API key security handler once the key is verified. */
      auth?: AuthenticatedKey;
      /** A body-parsing failure, held back until authentication has run (rule: auth first). */
      bodyError?: Error & { type?: string; status?: number };
      /**
       * Why a security handler refused or failed: an AppError (e.g. rate limited) to answer with,
       * or an unexpected failure to log. express-openapi-validator keeps only a message.
       */
      authFailure?: unknown;
      /** Set by routes mounted outside the contract validator; see http/operation.ts. */
      operation?: import('./operation').RequestOperation;
      /** The service's logger bound to the request id (http/request-log.ts). */
      log: import('./logger').Logger;
      /** `req_` and 20 random characters, echoed in X-Request-Id (http/request-id.ts). */
      id: string;
    }
    interface Response {
      /** An unexpected failure the error handler answered with a 500, for the request's log line. */
      err?: unknown;
    }
  }
}

/** The authenticated key of a request that passed the ApiKeyAuth security handler. */
export function authOf(req: Pick<Request, 'auth'>): AuthenticatedKey {
  if (!req.auth) throw new Error('route is not behind the ApiKeyAuth security handler');
  return req.auth;
}
