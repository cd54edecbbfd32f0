import { createFailedAuthGuard } from '../../src/auth/failed-auth';
import { randomSecret } from '../../src/auth/secrets';
import { createPrismaClient } from '../../src/db/prisma';
import { buildApiKey, buildEndpointWithToken, buildProject, type TestProject } from '../support/factories';
import { rememberSecret } from '../support/log-scan';
import { startTestServer, testDatabaseUrl, type TestServer } from '../support/server';
import { postWebhook } from '../support/webhooks';

const LIMIT = 3;
const WINDOW_SECONDS = 60;

// Every SQL statement the server sends: a refusal over budget must not look the credential up.
const statements: string[] = [];
const db = createPrismaClient(testDatabaseUrl(), { onQuery: (sql) => statements.push(sql) });
let server: TestServer;
let project: TestProject;

beforeAll(async () => {
  // Behind a proxy on loopback, X-Forwarded-For is the client's address: each test picks its own.
  server = await startTestServer({ db, trustProxy: 'loopback', authFailureLimit: LIMIT, authFailureWindowSeconds: WINDOW_SECONDS });
  project = await buildProject(db);
});
afterAll(async () => {
  await server.close();
  await db.$disconnect();
});

let addresses = 0;
const nextAddress = () => `198.51.100.${++addresses}`;

function unknownKey(): string {
  const key = `pek_00000000_${randomSecret()}`;
  rememberSecret(key);
  return key;
}

function unknownToken(): string {
  const token = randomSecret();
  rememberSecret(token);
  return token;
}

const listFrom = (address: string, apiKey?: string) =>
  server.client(apiKey).GET('/v1/pull-endpoints', { headers: { 'X-Forwarded-For': address } });

async function statusesOf(requests: (() => Promise<{ response: Response } | { status: number }>)[]): Promise<number[]> {
  const statuses: number[] = [];
  for (const request of requests) {
    const answer = await request();
    statuses.push('response' in answer ? answer.response.status : answer.status);
  }
  return statuses;
}

async function exhaustKeys(address: string) {
  const statuses = await statusesOf(Array.from({ length: LIMIT }, () => () => listFrom(address, unknownKey())));
  expect(statuses).toEqual(Array(LIMIT).fill(401));
}

describe('API keys', () => {
  it('answers 429 RATE_LIMITED with Retry-After, without looking the key up, once an address presented its budget of unknown keys', async () => {
    const address = nextAddress();
    await exhaustKeys(address);

    statements.length = 0;
    const { error, response } = await listFrom(address, unknownKey());
    expect(response.status).toBe(429);
    expect(error?.error.code).toBe('RATE_LIMITED');
    expect(error?.error.message).toMatch(/^too many failed authentication attempts from this address; retry in \d+ s$/);
    const retryAfter = Number(response.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(WINDOW_SECONDS);
    expect(statements).toEqual([]);
  });

  it('looks up no more unknown keys than the budget when they arrive all at once', async () => {
    const address = nextAddress();
    statements.length = 0;
    const answers = await Promise.all(Array.from({ length: LIMIT * 4 }, () => listFrom(address, unknownKey())));
    const statuses = answers.map(({ response }) => response.status).sort();
    expect(statuses).toEqual([...Array(LIMIT).fill(401), ...Array(LIMIT * 3).fill(429)]);
    expect(statements.filter((sql) => sql.includes('FROM api_keys'))).toHaveLength(LIMIT);
  });

  it("answers a burst of a new key's first requests, more than the budget, before its first look-up has answered", async () => {
    // A worker fleet's first long polls arrive together; on a loaded machine the look-up is slow.
    const guard = createFailedAuthGuard({ limit: LIMIT, windowSeconds: WINDOW_SECONDS, kind: 'api' });
    let lookUps = 0;
    let open!: (found: { id: string }) => void;
    const gate = new Promise<{ id: string }>((resolve) => (open = resolve));
    const slowLookUp = () => {
      lookUps += 1;
      return gate;
    };
    const address = nextAddress();
    const burst = Array.from({ length: LIMIT * 20 }, () => guard.attempt(address, 'hash-of-a-valid-key', slowLookUp));
    // Every attempt has reached its look-up or its refusal before the first look-up answers.
    await new Promise((resolve) => setTimeout(resolve, 100));
    open({ id: 'the key' });
    const settled = await Promise.allSettled(burst);
    expect(settled.filter((result) => result.status === 'rejected')).toEqual([]);
    expect(lookUps).toBe(1);
  });

  it('lets a key that authenticated recently through from an address over budget, until it is revoked', async () => {
    const address = nextAddress();
    const key = await buildApiKey(db, project.projectId);
    expect((await listFrom(address, key.key)).response.status).toBe(200);
    await exhaustKeys(address);
    expect((await listFrom(address, unknownKey())).response.status).toBe(429);

    expect((await listFrom(address, key.key)).response.status).toBe(200);
    await db.apiKey.update({ where: { id: key.id }, data: { revokedAt: new Date() } });
    expect((await listFrom(address, key.key)).response.status).toBe(401);
    expect((await listFrom(address, key.key)).response.status).toBe(429);
  });

  it('makes a key not seen within the hour wait like a guess while its address is over budget', async () => {
    const address = nextAddress();
    await exhaustKeys(address);
    const fresh = await buildApiKey(db, project.projectId);
    expect((await listFrom(address, fresh.key)).response.status).toBe(429);
    expect((await listFrom(nextAddress(), fresh.key)).response.status).toBe(200);
  });

  it('keeps a budget per address, an IPv6 /64 counting as one address', async () => {
    const address = nextAddress();
    await exhaustKeys(address);
    expect((await listFrom(nextAddress(), unknownKey())).response.status).toBe(401);
    expect((await listFrom(nextAddress(), project.apiKey)).response.status).toBe(200);

    await exhaustKeys('2001:db8:7:7::1');
    expect((await listFrom('2001:db8:7:7::ffff', unknownKey())).response.status).toBe(429);
    expect((await listFrom('2001:db8:7:8::1', unknownKey())).response.status).toBe(401);
  });

  it('counts a key that fails again, or a request without a key, as no new guess', async () => {
    const address = nextAddress();
    const revoked = unknownKey();
    const statuses = await statusesOf([
      ...Array.from({ length: LIMIT * 3 }, () => () => listFrom(address, revoked)),
      ...Array.from({ length: LIMIT * 3 }, () => () => listFrom(address)),
    ]);
    expect(statuses).toEqual(Array(LIMIT * 6).fill(401));
    const fresh = await buildApiKey(db, project.projectId);
    expect((await listFrom(address, fresh.key)).response.status).toBe(200);
  });
});

describe('ingest tokens', () => {
  const sendFrom = (address: string, token: string) => postWebhook(server.baseUrl, `/pull/${token}`, '{"a": 1}', { 'X-Forwarded-For': address });

  async function exhaustTokens(address: string) {
    const statuses = await statusesOf(Array.from({ length: LIMIT }, () => () => sendFrom(address, unknownToken())));
    expect(statuses).toEqual(Array(LIMIT).fill(401));
  }

  it('answers 429 RATE_LIMITED with Retry-After, without looking the token up, once a sender presented its budget of unknown tokens', async () => {
    const address = nextAddress();
    await exhaustTokens(address);

    statements.length = 0;
    const answer = await sendFrom(address, unknownToken());
    expect(answer.status).toBe(429);
    expect(answer.body.error.code).toBe('RATE_LIMITED');
    expect(answer.body.error.message).toMatch(/^too many failed authentication attempts from this address; retry in \d+ s$/);
    expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(statements).toEqual([]);
  });

  it("stores a recently delivered endpoint's webhooks from a sender over budget, after the endpoint cache forgot it", async () => {
    const address = nextAddress();
    const endpoint = await buildEndpointWithToken(db, project.projectId);
    expect((await sendFrom(address, endpoint.token)).status).toBe(202);
    await exhaustTokens(address);
    expect((await sendFrom(address, unknownToken())).status).toBe(429);

    // Past the endpoint cache's 5 s, so the token is looked up again rather than served from it.
    const now = Date.now();
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => now + 10_000);
    try {
      statements.length = 0;
      expect((await sendFrom(address, endpoint.token)).status).toBe(202);
      expect(statements.some((sql) => sql.includes('FROM pull_endpoints'))).toBe(true);
    } finally {
      clock.mockRestore();
    }
    expect(await db.pullEvent.count({ where: { pullEndpointId: endpoint.id } })).toBe(2);
  });

  it("lets a provider's retries to one dead URL cost its senders one failure, not their other endpoints", async () => {
    const address = nextAddress();
    const dead = unknownToken();
    const statuses = await statusesOf(Array.from({ length: LIMIT * 3 }, () => () => sendFrom(address, dead)));
    expect(statuses).toEqual(Array(LIMIT * 3).fill(401));
    const endpoint = await buildEndpointWithToken(db, project.projectId);
    expect((await sendFrom(address, endpoint.token)).status).toBe(202);
  });

  it('keeps the budgets of ingest tokens and of API keys apart', async () => {
    const address = nextAddress();
    await exhaustTokens(address);
    expect((await listFrom(address, unknownKey())).response.status).toBe(401);
  });
});
