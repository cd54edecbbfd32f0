import { createPrismaClient } from '../src/db/prisma';
import { startTestServer, type TestServer } from './support/server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

it('answers /healthz without credentials', async () => {
  const { data, response } = await server.client().GET('/healthz');
  expect(response.status).toBe(200);
  expect(data!.data.status).toBe('ok');
});

it('answers /readyz with 200 while the database answers', async () => {
  const { data, response } = await server.client().GET('/readyz');
  expect(response.status).toBe(200);
  expect(data!.data.status).toBe('ok');
});

/** An app whose database refuses connections: port 9 (discard) has no PostgreSQL behind it. */
async function withDatabaseDown(run: (down: TestServer) => Promise<void>) {
  const unreachable = createPrismaClient('postgresql://postgres@127.0.0.1:9/none');
  const down = await startTestServer({ db: unreachable });
  try {
    await run(down);
  } finally {
    await down.close();
    await unreachable.$disconnect();
  }
}

it('answers /readyz with 503 SERVICE_UNAVAILABLE when the database cannot be reached', () =>
  withDatabaseDown(async (down) => {
    const { error, response } = await down.client().GET('/readyz');
    expect(response.status).toBe(503);
    expect(error!.error).toEqual({ code: 'SERVICE_UNAVAILABLE', message: 'database is not reachable' });
  }));

it('answers 500 INTERNAL_ERROR, not 401, when the API key cannot be checked', () =>
  withDatabaseDown(async (down) => {
    const { error, response } = await down.client('pek_00000000_anything').POST('/v1/pull-endpoints/{id}/events/delete-batch', {
      params: { path: { id: '01935abc-def0-7123-4567-890abcdef012' } },
      body: { message_ids: ['01935abc-def0-7123-4567-890abcdef012'] },
    });
    expect(response.status).toBe(500);
    expect(error!.error).toEqual({ code: 'INTERNAL_ERROR', message: 'An internal error occurred' });
  }));

it('sends nosniff and no X-Powered-By', async () => {
  const { response } = await server.client().GET('/healthz');
  expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  expect(response.headers.get('x-powered-by')).toBeNull();
});
