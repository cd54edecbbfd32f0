import express from 'express';
import request from 'node:http';
import { API_SPEC_PATH } from '../../src/app';
import { mountOperations, specOperations, type OperationHandler, type OperationTable } from '../../src/http/routes';
import type { OperationId } from '../../src/http/types';

// Type-level: the table is checked against the generated operations. Each line below must stay a
// compile error (tsc fails on an unused @ts-expect-error, so these cannot rot into no-ops).
type Table = OperationTable;
const ackHandler: OperationHandler<'ackPullEvents'> = async (req, res) => {
  res.status(200).json({ data: { acknowledged: req.body.event_ids.length }, meta: { request_id: 'req_x' } });
};
// @ts-expect-error a handler typed for ack cannot answer delete-batch
export const misbound: Pick<Table, 'deletePullEventsBatch'> = { deletePullEventsBatch: ackHandler };
// @ts-expect-error an operation the spec does not have cannot be bound
export const unknownOperation: Pick<Table, 'ackPullEvents'> = { ackPullEvents: ackHandler, purgeEverything: ackHandler };
// @ts-expect-error leaving an operation out of the table does not compile
export const incomplete: Table = { ackPullEvents: ackHandler };

/** A table whose every handler answers its own operationId, to see which one each request reaches. */
function echoTable(): OperationTable {
  const ids = specOperations(API_SPEC_PATH).map((operation) => operation.operationId as OperationId);
  const table: Record<string, OperationHandler<never>> = {};
  for (const id of ids) table[id] = (_req, res) => res.status(200).send(id);
  return table as unknown as OperationTable;
}

async function reached(port: number, method: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request.request({ host: '127.0.0.1', port, method, path }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve(`${res.statusCode} ${body}`));
    });
    req.on('error', reject);
    req.end();
  });
}

it('mounts every operation of openapi.yaml at its own path and method, literal segments before parameters', async () => {
  const app = express();
  mountOperations(app, API_SPEC_PATH, echoTable());
  const server = app.listen(0);
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  try {
    const operations = specOperations(API_SPEC_PATH).filter((operation) => operation.operationId !== 'ingestPullEvent');
    expect(operations.length).toBeGreaterThanOrEqual(18);
    for (const { path, method, operationId } of operations) {
      const concrete = path.replace(/\{[^}]+\}/g, '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b');
      expect(`${method} ${path}: ${await reached(port, method.toUpperCase(), concrete)}`).toBe(`${method} ${path}: 200 ${operationId}`);
    }
    expect(await reached(port, 'GET', '/v1/pull-endpoints/x/events/ack')).toBe('200 getPullEvent');
    expect(await reached(port, 'POST', '/v1/pull-endpoints/x/events/ack')).toBe('200 ackPullEvents');
  } finally {
    server.close();
  }
});

it('refuses to start with a spec operation that no handler answers', () => {
  const table = echoTable() as unknown as Record<string, unknown>;
  delete table.deletePullEventsBatch;
  expect(() => mountOperations(express(), API_SPEC_PATH, table as unknown as OperationTable)).toThrow(
    'openapi.yaml has deletePullEventsBatch (POST /v1/pull-endpoints/{id}/events/delete-batch) and no handler is bound to it',
  );
});
