import { createPullEventsClient } from '../src/client';
import { contract } from './support/contract';
import { buildApiKey, buildEndpointWithToken, buildProject } from './support/factories';
import { startTestServer, type TestServer } from './support/server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ apiRateLimitPerMinute: 3, ingestRateLimitPerMinute: 2 });
});
afterAll(() => server.close());

it('answers 429 RATE_LIMITED with Retry-After once an API key used its budget, per key', async () => {
  const project = await buildProject(server.db);
  const api = server.client(project.apiKey);
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) statuses.push((await api.GET('/v1/pull-endpoints', {})).response.status);
  expect(statuses).toEqual([200, 200, 200, 429]);

  const { error, response } = await api.GET('/v1/pull-endpoints', {});
  expect(error!.error.code).toBe('RATE_LIMITED');
  expect(error!.error.message).toMatch(/3 requests per minute/);
  const retryAfter = Number(response.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);

  const otherKey = await buildApiKey(server.db, project.projectId);
  expect((await server.client(otherKey.key).GET('/v1/pull-endpoints', {})).response.status).toBe(200);
});

it('does not spend a budget on requests with a bad key', async () => {
  const project = await buildProject(server.db);
  for (let i = 0; i < 5; i++) expect((await server.client('pek_00000000_bad').GET('/v1/pull-endpoints', {})).response.status).toBe(401);
  expect((await server.client(project.apiKey).GET('/v1/pull-endpoints', {})).response.status).toBe(200);
});

it('gives each ingest URL its own budget', async () => {
  const project = await buildProject(server.db);
  const [first, second] = [await buildEndpointWithToken(server.db, project.projectId), await buildEndpointWithToken(server.db, project.projectId)];
  const send = (endpoint: { id: string; token: string }) =>
    createPullEventsClient({ baseUrl: server.baseUrl, apiKey: endpoint.token, middleware: [contract.middleware()] }).POST('/ingest/{id}', {
      params: { path: { id: endpoint.id } },
      body: { a: 1 },
    });
  const statuses = [];
  for (let i = 0; i < 3; i++) statuses.push((await send(first!)).response.status);
  expect(statuses).toEqual([202, 202, 429]);
  expect((await send(second!)).response.status).toBe(202);
  expect(await server.db.pullEvent.count({ where: { pullEndpointId: first!.id } })).toBe(2);
});
