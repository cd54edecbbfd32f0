import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { parse } from 'yaml';
import { PullEventsApiError, createPullEventsClient, dataOf } from '../../src/client';
import { createTransport, type Fetch } from '../../src/client/transport';
import { API_SPEC_PATH } from '../../src/app';
import { createPrismaClient } from '../../src/db/prisma';
import { connectRedis } from '../../src/http/redis';
import { buildEndpoint, buildEvents, buildProject, randomId } from '../support/factories';
import { ROOT } from '../support/processes';
import { startTestServer, testDatabaseUrl } from '../support/server';
import { pausableProxy, recordingFetch } from './helpers';

describe('a real 429', () => {
  const redis = connectRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', pino({ level: 'silent' }));
  let server: Awaited<ReturnType<typeof startTestServer>>;
  beforeAll(async () => {
    await new Promise((resolve) => redis.once('ready', resolve));
    // Budgets in Redis, so that a test can end the minute's window early instead of waiting it out.
    server = await startTestServer({ apiRateLimitPerMinute: 2, redis });
  });
  afterAll(async () => {
    await server.close();
    await redis.quit();
  });

  /** A project whose API key has used its budget; `windowMs` shortens what is left of the minute. */
  async function exhaustedProject(windowMs?: number) {
    const project = await buildProject(server.db);
    for (let i = 0; i < 2; i++) expect((await server.client(project.apiKey).GET('/v1/pull-endpoints', {})).response.status).toBe(200);
    if (windowMs !== undefined) expect(await redis.pexpire(`pull-events:api:${project.apiKeyId}`, windowMs)).toBe(1);
    return project;
  }

  it('waits out its Retry-After and sends again, even a create (the API refused it before doing anything)', async () => {
    const project = await exhaustedProject(1500);
    const recorded = recordingFetch();
    const client = createPullEventsClient({ baseUrl: server.baseUrl, apiKey: project.apiKey, fetch: recorded.fetch });
    const started = Date.now();
    const created = await dataOf(client.POST('/v1/pull-endpoints', { body: { name: 'after the limit' } }));
    expect(recorded.outcomes()).toEqual([429, 201]);
    // Retry-After: 2 (1.5 s rounded up); the window had ended by then.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(await server.db.pullEndpoint.count({ where: { projectId: project.projectId } })).toBe(1);
    expect(created.name).toBe('after the limit');
  });

  it('throws at once, with retryAfterMs, when Retry-After asks for more than maxRetryAfterMs', async () => {
    const project = await exhaustedProject();
    const recorded = recordingFetch();
    const client = createPullEventsClient({ baseUrl: server.baseUrl, apiKey: project.apiKey, fetch: recorded.fetch, maxRetryAfterMs: 5000 });
    const error = await client.listEndpoints().next().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PullEventsApiError);
    expect(error).toMatchObject({ status: 429, code: 'RATE_LIMITED', retryAfterMs: expect.any(Number) });
    expect((error as PullEventsApiError).retryAfterMs).toBeGreaterThan(5000);
    expect(recorded.outcomes()).toEqual([429]);
  });
});

it('retries GET /readyz through the 503s of a database outage until the database is back', async () => {
  const database = new URL(testDatabaseUrl());
  const proxy = await pausableProxy({ host: database.hostname, port: Number(database.port || 5432) });
  database.host = `127.0.0.1:${proxy.port}`;
  const db = createPrismaClient(database.toString());
  const server = await startTestServer({ db });
  try {
    expect((await server.client().GET('/readyz')).response.status).toBe(200);
    proxy.pause();
    // The database comes back once the first 503 is seen: only the client's retry can then succeed.
    const recorded = recordingFetch(async (request) => {
      const response = await fetch(request);
      if (response.status === 503) proxy.resume();
      return response;
    });
    const client = createPullEventsClient({ baseUrl: server.baseUrl, fetch: recorded.fetch, retries: 5, retryBaseDelayMs: 200 });
    const { data, response } = await client.GET('/readyz');
    expect(response.status).toBe(200);
    expect(data?.data.status).toBe('ok');
    expect(recorded.outcomes()[0]).toBe(503);
    expect(recorded.outcomes().at(-1)).toBe(200);
  } finally {
    await server.close();
    await db.$disconnect();
    await proxy.close();
  }
});

describe('a 502, 503 or 504 from a proxy', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  /** Answers with `statuses` first (as a failing proxy in front of the service), then forwards. */
  function proxyAnswering(...answers: Array<{ status: number; headers?: Record<string, string> }>) {
    return recordingFetch(async (request) => {
      const answer = answers.shift();
      return answer ? new Response('<html>upstream error</html>', answer) : fetch(request);
    });
  }

  it('retries an ack through a 502 and a 504, waiting for a Retry-After given as an HTTP date', async () => {
    const project = await buildProject(server.db);
    const endpointId = await buildEndpoint(server.db, project.projectId);
    const ids = await buildEvents(server.db, endpointId, 2);
    const recorded = proxyAnswering({ status: 502, headers: { 'retry-after': new Date(Date.now() + 2000).toUTCString() } }, { status: 504 });
    const client = createPullEventsClient({ baseUrl: server.baseUrl, apiKey: project.apiKey, fetch: recorded.fetch, retryBaseDelayMs: 10 });
    const started = Date.now();
    expect(await client.ackEvents(endpointId, ids)).toBe(2);
    expect(recorded.outcomes()).toEqual([502, 504, 200]);
    // The date has a resolution of a second: it is 1 to 2 s away.
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('sends a create once', async () => {
    const project = await buildProject(server.db);
    const recorded = proxyAnswering({ status: 502 });
    const client = createPullEventsClient({ baseUrl: server.baseUrl, apiKey: project.apiKey, fetch: recorded.fetch, retryBaseDelayMs: 10 });
    await expect(dataOf(client.POST('/v1/pull-endpoints', { body: { name: 'once' } }))).rejects.toMatchObject({ status: 502 });
    expect(recorded.outcomes()).toEqual([502]);
  });
});

describe("the README's retry table", () => {
  const spec = parse(fs.readFileSync(API_SPEC_PATH, 'utf8')) as { paths: Record<string, Record<string, { operationId?: string }>> };
  const operations = Object.entries(spec.paths).flatMap(([template, item]) =>
    Object.entries(item).flatMap(([method, operation]) => (operation.operationId ? [{ template, method: method.toUpperCase(), id: operation.operationId }] : [])),
  );

  /** operationId -> retried?, from the table under "## Using the client"; `every GET` stands for each GET. */
  function readmeTable(): Map<string, boolean> {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const section = readme.split(/^## /m).find((s) => s.startsWith('Using the client\n'))!;
    const rows = section.split('\n').filter((line) => /^\| .* \| (yes|no) \|/.test(line));
    const table = new Map<string, boolean>();
    for (const row of rows) {
      const [names, retried] = row.split(' | ');
      const ids = names!.includes('every `GET`')
        ? operations.filter((o) => o.method === 'GET').map((o) => o.id)
        : [...names!.matchAll(/`(\w+)`/g)].map((m) => m[1]!);
      for (const id of ids) table.set(id, retried === 'yes');
    }
    return table;
  }

  /** How many attempts the transport makes at an operation that always answers `status`. */
  async function attemptsAt(operation: { template: string; method: string }, status: number) {
    let attempts = 0;
    const answer: Fetch = async () => {
      attempts++;
      return new Response(null, { status, headers: status === 429 ? { 'retry-after': '0' } : {} });
    };
    const url = `http://127.0.0.1/base${operation.template.replace(/\{[^}]+\}/g, randomId())}`;
    await createTransport(answer, { retries: 1, retryBaseDelayMs: 1 })(new Request(url, { method: operation.method }));
    return attempts;
  }

  it('names every operation', () => {
    expect([...readmeTable().keys()].sort()).toEqual(operations.map((o) => o.id).sort());
  });

  it('is what the client does on a 502, 503 and 504, and every operation is retried on a 429', async () => {
    const table = readmeTable();
    for (const operation of operations) {
      const expected = table.get(operation.id) ? 2 : 1;
      for (const status of [502, 503, 504]) expect({ id: operation.id, status, attempts: await attemptsAt(operation, status) }).toEqual({ id: operation.id, status, attempts: expected });
      expect({ id: operation.id, attempts: await attemptsAt(operation, 429) }).toEqual({ id: operation.id, attempts: 2 });
    }
  });
});
