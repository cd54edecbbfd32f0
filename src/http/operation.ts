import type { Request } from 'express';

/** What a request was, in bounded terms: safe as a log field and as a metric label. */
export interface RequestOperation {
  /** The spec's operationId; `docs` for the contract and reference pages; `unmatched` for no route. */
  operationId: string;
  /** The route template (`/v1/pull-endpoints/{id}/events`), never the raw URL: an ingest URL holds a token. */
  route: string | undefined;
}

const UNMATCHED: RequestOperation = { operationId: 'unmatched', route: undefined };

/** Tags a request mounted outside the contract validator (the ingest URL, the docs pages). */
export function tagOperation(req: Request, operation: RequestOperation): void {
  req.operation = operation;
}

/**
 * The operation a request was routed to. express-openapi-validator's metadata stage sets
 * `req.openapi` before security and validation run, so a 401 or 400 still names its operation;
 * the routes outside the validator tag themselves.
 */
export function operationOf(req: Request): RequestOperation {
  if (req.operation) return req.operation;
  const metadata = (req as { openapi?: { openApiRoute?: string; schema?: { operationId?: string } } }).openapi;
  const operationId = metadata?.schema?.operationId;
  return operationId ? { operationId, route: metadata?.openApiRoute } : UNMATCHED;
}
