import fs from 'node:fs';
import type { Express, NextFunction } from 'express';
import { parse } from 'yaml';
import type { OperationId, OperationRequest, OperationResponse } from './types';

/** A handler typed by its operation: its params, query and body are the spec's, checked strictly. */
export type OperationHandler<K extends OperationId> = (req: OperationRequest<K>, res: OperationResponse<K>, next: NextFunction) => unknown;

/** The webhook URL takes raw bytes and is mounted on its own, before the JSON body parser. */
type MountedElsewhere = 'ingestPullEvent';

/**
 * One handler per operation of openapi.yaml, keyed by operationId. A missing operation, a handler
 * typed for another operation, or an operation the spec does not have is a compile error; the
 * path and method each handler answers are read from the spec itself, so they cannot disagree.
 */
export type OperationTable = { [K in Exclude<OperationId, MountedElsewhere>]: OperationHandler<K> };

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

interface SpecOperation {
  path: string;
  method: (typeof METHODS)[number];
  operationId: string;
}

/** Every (path, method, operationId) of the spec. */
export function specOperations(specPath: string): SpecOperation[] {
  const spec = parse(fs.readFileSync(specPath, 'utf8')) as { paths: Record<string, Partial<Record<string, { operationId?: string }>>> };
  const operations: SpecOperation[] = [];
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const method of METHODS) {
      const operationId = item[method]?.operationId;
      if (operationId === undefined) continue;
      operations.push({ path, method, operationId });
    }
  }
  return operations;
}

/** `/v1/pull-endpoints/{id}/events/{event_id}` -> `/v1/pull-endpoints/:id/events/:event_id`. */
export function expressPath(specPath: string): string {
  return specPath.replace(/\{([A-Za-z0-9_]+)\}/g, ':$1');
}

/**
 * Mounts each operation of the spec on its handler. Literal segments are mounted before
 * parameters at the same place (`/events/ack` before `/events/:event_id`), whatever the spec's order.
 */
export function mountOperations(app: Express, specPath: string, table: OperationTable): void {
  const handlers = table as unknown as Record<string, OperationHandler<never> | undefined>;
  const operations = specOperations(specPath).filter((operation) => operation.operationId !== ('ingestPullEvent' satisfies MountedElsewhere));
  const specificity = (path: string) => path.split('/').map((segment) => (segment.startsWith('{') ? '1' : '0')).join('');
  operations.sort((a, b) => specificity(a.path).localeCompare(specificity(b.path)));
  for (const { path, method, operationId } of operations) {
    const handler = handlers[operationId];
    // Unreachable while the table's type is generated from this spec; a stale build would land here.
    if (!handler) throw new Error(`openapi.yaml has ${operationId} (${method.toUpperCase()} ${path}) and no handler is bound to it`);
    app[method](expressPath(path), handler as never);
  }
}
