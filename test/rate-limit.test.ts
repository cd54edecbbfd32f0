import pino from 'pino';
import { connectRedis } from '../src/http/redis';
import { buildApiKey, buildEndpointWithToken, buildProject } from './support/factories';
import { postWebhook } from './support/webhooks';
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
  const send = (endpoint: { ingestPath: string }) => postWebhook(server.baseUrl, endpoint.ingestPath, '{"a": 1}');
  const statuses = [];
  for (let i = 0; i < 3; i++) statuses.push((await send(first!)).status);
  expect(statuses).toEqual([202, 202, 429]);
  expect((await send(second!)).status).toBe(202);
  expect(await server.db.pullEvent.count({ where: { pullEndpointId: first!.id } })).toBe(2);
});

describe('across replicas', () => {
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const logger = pino({ level: 'silent' });

  it('shares one budget per key between replicas through Redis', async () => {
    const redis = [connectRedis(redisUrl, logger), connectRedis(redisUrl, logger)];
    await Promise.all(redis.map((client) => new Promise((resolve) => client.once('ready', resolve))));
    const replicas = await Promise.all(redis.map((client) => startTestServer({ apiRateLimitPerMinute: 4, redis: client })));
    try {
      const project = await buildProject(replicas[0]!.db);
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        statuses.push((await replicas[i % 2]!.client(project.apiKey).GET('/v1/pull-endpoints', {})).response.status);
      }
      expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
    } finally {
      await Promise.all(replicas.map((replica) => replica.close()));
      await Promise.all(redis.map((client) => client.quit()));
    }
  });

  it('falls back to a per-process budget when Redis cannot be reached', async () => {
    const unreachable = connectRedis('redis://127.0.0.1:9', logger);
    const replica = await startTestServer({ apiRateLimitPerMinute: 2, redis: unreachable });
    try {
      const project = await buildProject(replica.db);
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await replica.client(project.apiKey).GET('/v1/pull-endpoints', {})).response.status);
      expect(statuses).toEqual([200, 200, 429]);
    } finally {
      await replica.close();
      unreachable.disconnect();
    }
  });
});
