import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import pino from 'pino';
import { hashApiKey } from '../../src/auth/api-keys';
import { randomSecret } from '../../src/auth/secrets';
import { connectRedis } from '../../src/http/redis';
import { buildApiKey, buildEndpointWithToken, buildProject } from '../support/factories';
import { rememberSecret } from '../support/log-scan';
import { startTestServer, type TestServer } from '../support/server';
import { postWebhook } from '../support/webhooks';

const LIMIT = 3;
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const logger = pino({ level: 'silent' });
const settings = { trustProxy: 'loopback', authFailureLimit: LIMIT, authFailureWindowSeconds: 60 } as const;

let redis: Redis[];
let replicas: TestServer[];

beforeAll(async () => {
  redis = [connectRedis(redisUrl, logger), connectRedis(redisUrl, logger)];
  await Promise.all(redis.map((client) => new Promise((resolve) => client.once('ready', resolve))));
  replicas = await Promise.all(redis.map((client) => startTestServer({ ...settings, redis: client })));
});
afterAll(async () => {
  await Promise.all(replicas.map((replica) => replica.close()));
  await Promise.all(redis.map((client) => client.quit()));
});

// Budgets outlive a run in Redis: each test's client is an IPv6 /64 of its own.
const nextAddress = () => `2001:db8:${randomBytes(2).toString('hex')}:${randomBytes(2).toString('hex')}::1`;

function unknownKey(): string {
  const key = `pek_00000000_${randomSecret()}`;
  rememberSecret(key);
  return key;
}

const listOn = (replica: TestServer, address: string, apiKey: string) =>
  replica.client(apiKey).GET('/v1/pull-endpoints', { headers: { 'X-Forwarded-For': address } });

async function failOnEach(address: string) {
  const statuses: number[] = [];
  for (let i = 0; i < LIMIT; i++) statuses.push((await listOn(replicas[i % 2]!, address, unknownKey())).response.status);
  expect(statuses).toEqual(Array(LIMIT).fill(401));
}

it("shares each address's failure budget between replicas through Redis", async () => {
  const address = nextAddress();
  await failOnEach(address);
  expect((await listOn(replicas[1]!, address, unknownKey())).response.status).toBe(429);
  expect((await listOn(replicas[0]!, address, unknownKey())).response.status).toBe(429);
});

it('lets a key that authenticated on one replica through on another while its address is over budget', async () => {
  const address = nextAddress();
  const project = await buildProject(replicas[0]!.db);
  expect((await listOn(replicas[0]!, address, project.apiKey)).response.status).toBe(200);
  await failOnEach(address);

  expect((await listOn(replicas[1]!, address, project.apiKey)).response.status).toBe(200);
  expect((await listOn(replicas[1]!, address, unknownKey())).response.status).toBe(429);

  const keys = await redis[0]!.keys('pull-events:auth-*');
  expect(keys.length).toBeGreaterThan(0);
  expect(keys.filter((key) => key.includes(project.apiKey) || key.includes(hashApiKey(project.apiKey)))).toEqual([]);
});

it("stores a webhook on a replica that never saw its token while the sender's address is over budget", async () => {
  const address = nextAddress();
  const project = await buildProject(replicas[0]!.db);
  const endpoint = await buildEndpointWithToken(replicas[0]!.db, project.projectId);
  const send = (replica: TestServer, token: string) =>
    postWebhook(replica.baseUrl, `/pull/${token}`, '{"a": 1}', { 'X-Forwarded-For': address });

  expect((await send(replicas[0]!, endpoint.token)).status).toBe(202);
  for (let i = 0; i < LIMIT; i++) {
    const token = randomSecret();
    rememberSecret(token);
    expect((await send(replicas[i % 2]!, token)).status).toBe(401);
  }
  expect((await send(replicas[1]!, randomSecret())).status).toBe(429);
  expect((await send(replicas[1]!, endpoint.token)).status).toBe(202);
  expect(await replicas[0]!.db.pullEvent.count({ where: { pullEndpointId: endpoint.id } })).toBe(2);
});

it('keeps a per-process failure budget when Redis cannot be reached', async () => {
  const unreachable = connectRedis('redis://127.0.0.1:9', logger);
  const replica = await startTestServer({ ...settings, redis: unreachable });
  try {
    const address = nextAddress();
    const project = await buildProject(replica.db);
    const key = await buildApiKey(replica.db, project.projectId);
    expect((await listOn(replica, address, key.key)).response.status).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i <= LIMIT; i++) statuses.push((await listOn(replica, address, unknownKey())).response.status);
    expect(statuses).toEqual([...Array(LIMIT).fill(401), 429]);
    expect((await listOn(replica, address, key.key)).response.status).toBe(200);
  } finally {
    await replica.close();
    unreachable.disconnect();
  }
});
