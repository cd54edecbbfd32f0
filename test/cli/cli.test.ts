import { createPrismaClient, type Database } from '../../src/db/prisma';
import { startTestServer, testDatabaseUrl, type TestServer } from '../support/server';
import { cliJson, runCli } from './run';

interface CreatedProject {
  id: string;
  api_key: { id: string; key: string; prefix: string };
}
interface ApiKey {
  id: string;
  key?: string;
  prefix: string;
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
  const project = await cliJson<CreatedProject>('project', 'create', '--name', 'cli test');
  expect(project).toEqual({
    id: expect.any(String),
    name: 'cli test',
    created_at: expect.any(String),
    api_key: {
      id: expect.any(String),
      key: expect.stringMatching(/^pek_[0-9a-f]{8}_/),
      prefix: expect.stringMatching(/^pek_[0-9a-f]{8}$/),
    },
  });
  const endpoint = await cliJson<{ id: string }>('endpoint', 'create', '--project', project.id, '--name', 'orders');
  const seeded = await cliJson<{ pull_endpoint_id: string; count: number; event_ids: string[] }>(
    'events', 'seed', '--endpoint', endpoint.id, '--count', '12000',
  );
  const ids = seeded.event_ids;
  expect(seeded).toMatchObject({ pull_endpoint_id: endpoint.id, count: 12000 });
  expect(new Set(ids).size).toBe(12000);
  expect(await db.pullEvent.count({ where: { pullEndpointId: endpoint.id } })).toBe(12000);

  const { data } = await server.client(project.api_key.key).POST('/v1/pull-endpoints/{id}/events/delete-batch', {
    params: { path: { id: endpoint.id } },
    body: { message_ids: ids.slice(0, 100) },
  });
  expect(data!.data.deleted_count).toBe(100);
});

it("names an endpoint's fields as the API's create operation does, with the token shown this once", async () => {
  const project = await cliJson<CreatedProject>('project', 'create', '--name', 'field names');
  const created = await cliJson<Record<string, unknown>>('endpoint', 'create', '--project', project.id, '--name', 'a');
  const { data } = await server.client(project.api_key.key).POST('/v1/pull-endpoints', { body: { name: 'b' } });
  expect(Object.keys(created).sort()).toEqual(Object.keys(data!.data).sort());
  expect(created).toMatchObject({ name: 'a', mode: 'pull', active: true, paused: false });
  expect(String(created.ingest_url)).toMatch(new RegExp(`/pull/${String(created.secret_token)}$`));
});

it('stores only a hash and a prefix of a key, and a revoked key stops working', async () => {
  const project = await cliJson<CreatedProject>('project', 'create', '--name', 'revocation');
  const second = await cliJson<ApiKey & Record<string, unknown>>('key', 'create', '--project', project.id);
  expect(second).toEqual({
    id: expect.any(String),
    key: expect.stringMatching(/^pek_[0-9a-f]{8}_/),
    prefix: second.key!.slice(0, 12),
    project_id: project.id,
    created_at: expect.any(String),
    revoked_at: null,
  });
  const stored = await db.apiKey.findUniqueOrThrow({ where: { id: second.id } });
  expect(stored.keyHash).toMatch(/^[0-9a-f]{64}$/);
  expect(JSON.stringify(stored)).not.toContain(second.key);

  const probe = () =>
    server.client(second.key!).POST('/v1/pull-endpoints/{id}/events/delete-batch', {
      params: { path: { id: project.id } },
      body: { message_ids: [project.id] },
    });
  expect((await probe()).response.status).toBe(404);
  expect(await cliJson('key', 'revoke', '--key-prefix', second.prefix)).toEqual({
    id: second.id,
    prefix: second.prefix,
    project_id: project.id,
    created_at: second.created_at,
    revoked_at: expect.any(String),
  });
  expect((await probe()).response.status).toBe(401);
});

it('fails with a message and a non-zero exit for an unknown project or a malformed endpoint id', async () => {
  const missing = '01935abc-def0-7123-4567-890abcdef012';
  const endpoint = await runCli(['endpoint', 'create', '--project', missing, '--name', 'x']);
  expect(endpoint.code).toBe(1);
  expect(endpoint.stderr.trim()).toBe(`error: project ${missing} not found`);
  const seed = await runCli(['events', 'seed', '--endpoint', 'nope', '--count', '1']);
  expect(seed.code).toBe(2);
  expect(seed.stderr).toContain('must be a UUID');
});
