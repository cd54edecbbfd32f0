/**
 * The minimal-stack peer: what the mandated stack costs with nothing of ours on top. Express 5 and
 * express-openapi-validator on the same openapi.yaml (request validation and the API-key security
 * handler as the service configures them), `pg` with a pool of PEER_POOL_SIZE, and the service's
 * own statements (`liveApiKeySql`, `batchDeleteSql`, and for a list the endpoint check and the
 * page's SELECT of SUMMARY_COLUMNS), answering the same JSON through the service's own shaping
 * (`batchResult`, `toEventSummary`). No Prisma, logging, metrics, rate limits, request ids,
 * cursors, retries or sweeper. Run in its own process, like the service (bench/setup.ts).
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import pg from 'pg';
import { hashApiKey } from '../src/auth/api-keys';
import { bearerCredential } from '../src/auth/secrets';
import { API_SPEC_PATH } from '../src/paths';
import { liveApiKeySql } from '../src/projects/repository';
import { batchResult } from '../src/pull-events/delete-batch';
import { toEventSummary } from '../src/pull-events/events';
import { batchDeleteSql, SUMMARY_COLUMNS, type EventSummaryRow } from '../src/pull-events/repository';

const port = Number(process.env.PEER_PORT);
if (!Number.isInteger(port) || port <= 0) throw new Error('PEER_PORT must be a port number');
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.PEER_POOL_SIZE ?? 16) });
pool.on('error', () => undefined);

interface Key {
  id: string;
  project_id: string;
}
const keyOf = (req: Request) => (req as Request & { key: Key }).key;

const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.get('/readyz', (_req, res) => {
  res.json({ status: 'ok' });
});
app.use(express.json({ limit: '1mb' }));
app.use(
  OpenApiValidator.middleware({
    apiSpec: API_SPEC_PATH,
    validateRequests: { allowUnknownQueryParameters: false },
    validateResponses: false,
    validateSecurity: {
      handlers: {
        ApiKeyAuth: async (req) => {
          const token = bearerCredential(req.headers.authorization);
          if (!token) return false;
          const sql = liveApiKeySql(hashApiKey(token));
          const { rows } = await pool.query<Key>(sql.text, sql.values);
          if (!rows[0]) return false;
          (req as Request & { key: Key }).key = rows[0];
          return true;
        },
      },
    },
    ignorePaths: /^\/pull\//,
  }),
);

app.post('/v1/pull-endpoints/:id/events/delete-batch', async (req, res) => {
  const key = keyOf(req);
  const endpointId = req.params.id!.toLowerCase();
  const ids = [...new Set((req.body as { message_ids: string[] }).message_ids.map((id) => id.toLowerCase()))];
  const sql = batchDeleteSql(endpointId, key.project_id, key.id, ids);
  const { rows } = await pool.query<{ endpoint_found: boolean; id: string | null; deleted_at: string | null; deleted_now: boolean | null }>(sql.text, sql.values);
  if (!rows[0]?.endpoint_found) {
    res.status(404).json({ error: { code: 'ENDPOINT_NOT_FOUND', message: 'pull endpoint not found' } });
    return;
  }
  const found = rows.flatMap((row) => (row.id === null ? [] : [{ id: row.id, deletedAt: row.deleted_at!, deletedNow: row.deleted_now === true }]));
  res.json({ data: batchResult(ids, found), meta: { request_id: 'req_peer' } });
});

app.get('/v1/pull-endpoints/:id/events', async (req, res) => {
  const key = keyOf(req);
  const endpointId = req.params.id!.toLowerCase();
  const limit = Number(req.query.limit ?? 100);
  const status = (req.query.status as string | undefined) ?? 'stored';
  const endpoint = await pool.query('SELECT id FROM pull_endpoints WHERE id = $1 AND project_id = $2 AND deleted_at IS NULL', [endpointId, key.project_id]);
  if (endpoint.rowCount === 0) {
    res.status(404).json({ error: { code: 'ENDPOINT_NOT_FOUND', message: 'pull endpoint not found' } });
    return;
  }
  const { rows } = await pool.query<EventSummaryRow>(
    `SELECT ${SUMMARY_COLUMNS.sql} FROM pull_events
     WHERE pull_endpoint_id = $1 AND deleted_at IS NULL AND status = $2::pull_event_status
     ORDER BY pull_events.id LIMIT $3`,
    [endpointId, status, limit + 1],
  );
  const page = rows.slice(0, limit);
  res.json({
    data: page.map(toEventSummary),
    meta: { request_id: 'req_peer', has_more: rows.length > limit, next_cursor: rows.length > limit ? page[page.length - 1]!.id : null },
  });
});

app.use((error: { status?: number; message?: string }, _req: Request, res: Response, _next: NextFunction) => {
  res.status(error.status ?? 500).json({ error: { code: 'ERROR', message: error.message ?? 'error' } });
});

const server = app.listen(port, '127.0.0.1');
server.keepAliveTimeout = 60_000;
const stop = () => {
  server.close(() => void pool.end().finally(() => process.exit(0)));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
// The bench holds our stdin open: should it die without stopping us, stdin ends.
process.stdin.on('end', stop).resume();
