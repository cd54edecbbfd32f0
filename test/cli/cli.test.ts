import { createPrismaClient, type Database } from '../../src/db/prisma';
import { runTs } from '../support/processes';
import { startTestServer, testDatabaseUrl, type TestServer } from '../support/server';

const env = { ...process.env, DATABASE_URL: testDatabaseUrl() };

async function cli(...args: string[]) {
  const result = await runTs('src/cli/index.ts', args, env);
  if (result.code !== 0) throw new Error(`cli ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

let db: Database;
let server: TestServer;
beforeAll(async () => {
  db = createPrismaClient(testDatabaseUrl());
  server = await startTestServer({ db });
});
afterAll(async () => {
  await server.close();
  await db.$disconnect();
});

it('creates a project, endpoint and events whose ids a batch delete with the printed key then deletes', async () => {
  const project = await cli('project', 'create', '--name', 'cli test', '--json');
  expect(project).toEqual({
    project_id: expect.any(String),
    name: 'cli test',
    api_key: expect.stringMatching(/^pek_[0-9a-f]{8}_/),
    key_prefix: expect.stringMatching(/^pek_[0-9a-f]{8}$/),
  });
  const endpoint = await cli('endpoint', 'create', '--project', String(project.project_id), '--name', 'orders', '--json');
  const seeded = await cli('events', 'seed', '--endpoint', String(endpoint.endpoint_id), '--count', '12000', '--json');
  const ids = seeded.event_ids as string[];
  expect(seeded.count).toBe(12000);
  expect(new Set(ids).size).toBe(12000);
  expect(await db.pullEvent.count({ where: { pullEndpointId: String(endpoint.endpoint_id) } })).toBe(12000);

  const { data } = await server
    .client(String(project.api_key))
    .POST('/v1/pull-endpoints/{id}/events/delete-batch', {
      params: { path: { id: String(endpoint.endpoint_id) } },
      body: { message_ids: ids.slice(0, 100) },
    });
  expect(data!.data.deleted_count).toBe(100);
});

it('stores only a hash and a prefix of a key, and a revoked key stops working', async () => {
  const project = await cli('project', 'create', '--name', 'revocation', '--json');
  const second = await cli('key', 'create', '--project', String(project.project_id), '--json');
  const stored = await db.apiKey.findUniqueOrThrow({ where: { id: String(second.api_key_id) } });
  expect(stored.keyHash).toMatch(/^[0-9a-f]{64}$/);
  expect(JSON.stringify(stored)).not.toContain(String(second.api_key));

  const probe = () =>
    server.client(String(second.api_key)).POST('/v1/pull-endpoints/{id}/events/delete-batch', {
      params: { path: { id: String(project.project_id) } },
      body: { message_ids: [String(project.project_id)] },
    });
  expect((await probe()).response.status).toBe(404);
  expect(await cli('key', 'revoke', '--key-prefix', String(second.key_prefix), '--json')).toEqual({
    api_key_id: second.api_key_id,
    key_prefix: second.key_prefix,
    revoked: true,
  });
  expect((await probe()).response.status).toBe(401);
});

it('fails with a message and a non-zero exit for an unknown project or endpoint', async () => {
  const missing = '01935abc-def0-7123-4567-890abcdef012';
  const endpoint = await runTs('src/cli/index.ts', ['endpoint', 'create', '--project', missing, '--name', 'x'], env);
  expect(endpoint.code).toBe(1);
  expect(endpoint.stderr).toContain(`project ${missing} not found`);
  const seed = await runTs('src/cli/index.ts', ['events', 'seed', '--endpoint', 'nope', '--count', '1'], env);
  expect(seed.code).toBe(1);
  expect(seed.stderr).toContain('must be a UUID');
});
