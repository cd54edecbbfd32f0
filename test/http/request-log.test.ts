import { Writable } from 'node:stream';
import { createLogger } from '../../src/http/logger';
import { createPrismaClient } from '../../src/db/prisma';
import { buildEndpointWithToken, buildProject } from '../support/factories';
import { rememberSecret } from '../support/log-scan';
import { startTestServer, type TestServer } from '../support/server';
import { postWebhook } from '../support/webhooks';

interface Line {
  level: number;
  msg: string;
  request_id?: string;
  method?: string;
  route?: string | null;
  operation_id?: string;
  status?: number;
  duration_ms?: number;
  err?: { stack?: string };
  [key: string]: unknown;
}

const DEBUG = 20;
const INFO = 30;
const ERROR = 50;

function sink(lines: string[]) {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
}

const raw: string[] = [];
let server: TestServer;
let owner: Awaited<ReturnType<typeof buildProject>>;

beforeAll(async () => {
  server = await startTestServer({ logger: createLogger('debug', sink(raw)) });
  owner = await buildProject(server.db);
});
afterAll(() => server.close());

/** The lines logged for the request that answered with `response`. */
function linesOf(response: { headers: Headers }): Line[] {
  const id = response.headers.get('x-request-id');
  return raw.map((line) => JSON.parse(line) as Line).filter((line) => line.request_id === id);
}

it('logs one line per request with its method, route template, operationId, status, duration and request id, and no header', async () => {
  const response = await fetch(`${server.baseUrl}/v1/pull-endpoints?limit=1`, { headers: { Authorization: `Bearer ${owner.apiKey}` } });
  expect(response.status).toBe(200);
  const lines = linesOf(response);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatchObject({ level: INFO, method: 'GET', route: '/v1/pull-endpoints', operation_id: 'listPullEndpoints', status: 200, msg: 'GET /v1/pull-endpoints 200' });
  expect(lines[0]!.duration_ms).toEqual(expect.any(Number));
  expect(JSON.stringify(lines[0])).not.toMatch(/headers|authorization|limit=1/i);
});

it('names the route template, not the URL, of a request with ids in its path', async () => {
  const endpoint = await buildEndpointWithToken(server.db, owner.projectId);
  const response = await fetch(`${server.baseUrl}/v1/pull-endpoints/${endpoint.id}/events`, { headers: { Authorization: `Bearer ${owner.apiKey}` } });
  const [line] = linesOf(response);
  expect(line).toMatchObject({ route: '/v1/pull-endpoints/{id}/events', operation_id: 'listPullEvents', status: 200 });
  expect(JSON.stringify(line)).not.toContain(endpoint.id);
});

it('logs health and readiness probes and OPTIONS at debug', async () => {
  for (const path of ['/healthz', '/readyz']) {
    const response = await fetch(`${server.baseUrl}${path}`);
    expect(response.status).toBe(200);
    expect(linesOf(response)).toEqual([expect.objectContaining({ level: DEBUG, route: path })]);
  }
  const options = await fetch(`${server.baseUrl}/v1/pull-endpoints`, { method: 'OPTIONS' });
  expect(linesOf(options)).toEqual([expect.objectContaining({ level: DEBUG, method: 'OPTIONS' })]);
});

it('logs a 4xx at info with its operation, and a request no route answers without its path', async () => {
  const wrongKey = 'pek_00000000_not-a-key-but-a-secret-all-the-same';
  rememberSecret(wrongKey);
  const unauthorized = await fetch(`${server.baseUrl}/v1/pull-endpoints`, { headers: { Authorization: `Bearer ${wrongKey}` } });
  expect(unauthorized.status).toBe(401);
  expect(linesOf(unauthorized)).toEqual([expect.objectContaining({ level: INFO, operation_id: 'listPullEndpoints', status: 401 })]);

  const missing = await fetch(`${server.baseUrl}/v1/no-such-thing/secret-looking-segment`);
  expect(missing.status).toBe(404);
  const [line] = linesOf(missing);
  expect(line).toMatchObject({ level: INFO, route: null, operation_id: 'unmatched', status: 404 });
  expect(JSON.stringify(line)).not.toContain('secret-looking-segment');
});

it('logs a webhook under the ingest route template, never its token', async () => {
  const endpoint = await buildEndpointWithToken(server.db, owner.projectId);
  const response = await postWebhook(server.baseUrl, endpoint.ingestPath, '{"type":"a"}');
  expect(response.status).toBe(202);
  expect(linesOf(response)).toEqual([expect.objectContaining({ level: INFO, route: '/pull/{token}', operation_id: 'ingestPullEvent', status: 202 })]);
  expect(raw.join('')).not.toContain(endpoint.token);
});

it('logs a 5xx at error, once, with the stack of what failed', async () => {
  const lines: string[] = [];
  // Nothing listens on port 1: the API key lookup fails and the request answers 500.
  const broken = await startTestServer({ db: createPrismaClient('postgresql://postgres@127.0.0.1:1/none'), logger: createLogger('debug', sink(lines)) });
  try {
    const response = await fetch(`${broken.baseUrl}/v1/pull-endpoints`, { headers: { Authorization: `Bearer ${owner.apiKey}` } });
    expect(response.status).toBe(500);
    const id = response.headers.get('x-request-id');
    const logged = lines.map((line) => JSON.parse(line) as Line).filter((line) => line.request_id === id);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: ERROR, operation_id: 'listPullEndpoints', status: 500 });
    expect(logged[0]!.err?.stack).toMatch(/\n\s+at /);
  } finally {
    await broken.close();
  }
});

it('writes readable lines, not JSON, when asked for the pretty format', () => {
  const lines: string[] = [];
  const logger = createLogger('info', sink(lines), 'pretty');
  logger.info({ status: 200 }, 'GET /healthz 200');
  logger.flush();
  return new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
    const text = lines.join('');
    expect(text).toContain('INFO');
    expect(text).toContain('GET /healthz 200');
    expect(() => JSON.parse(text)).toThrow();
  });
});
