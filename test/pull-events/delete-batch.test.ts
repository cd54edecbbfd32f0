import type { components } from '../../generated/openapi';
import { createPrismaClient } from '../../src/db/prisma';
import {
  buildApiKey,
  buildEndpoint,
  buildEvents,
  buildProject,
  eventRows,
  markDeleted,
  randomId,
  type TestProject,
} from '../support/factories';
import { withUpdateTrigger } from '../support/faults';
import { startTestServer, testDatabaseUrl, type TestServer } from '../support/server';

type DeleteBatchRequest = components['schemas']['DeleteBatchRequest'];
const PATH = '/v1/pull-endpoints/{id}/events/delete-batch';

/** A body the types forbid, sent on purpose to check that the server rejects it. */
const invalidBody = (body: unknown) => body as DeleteBatchRequest;

let server: TestServer;
let owner: TestProject;
let endpointId: string;

beforeAll(async () => {
  server = await startTestServer();
  owner = await buildProject(server.db);
  endpointId = await buildEndpoint(server.db, owner.projectId);
});
afterAll(() => server.close());

function deleteBatch(body: DeleteBatchRequest, options: { apiKey?: string; endpoint?: string } = {}) {
  return server
    .client(options.apiKey ?? owner.apiKey)
    .POST(PATH, { params: { path: { id: options.endpoint ?? endpointId } }, body });
}

async function expectNothingDeleted(ids: string[]) {
  const rows = await eventRows(server.db, endpointId, ids);
  expect(rows.map((row) => row.deletedAt)).toEqual(ids.map(() => null));
}

describe('order and shape', () => {
  it('answers one result per requested id, in request order, with lowercase ids and consistent counts', async () => {
    const [a, b, c] = await buildEvents(server.db, endpointId, 3);
    const missing = randomId();
    await markDeleted(server.db, endpointId, c!, new Date('2026-01-02T03:04:05.678Z'), owner.apiKeyId);

    const { data, response } = await deleteBatch({ message_ids: [b!.toUpperCase(), missing, c!, a!] });

    expect(response.status).toBe(200);
    expect(data!.data.results.map((r) => [r.event_id, r.outcome])).toEqual([
      [b, 'deleted'],
      [missing, 'not_found'],
      [c, 'already_deleted'],
      [a, 'deleted'],
    ]);
    const { deleted_count, already_deleted_count, not_found_count, results } = data!.data;
    expect([deleted_count, already_deleted_count, not_found_count]).toEqual([2, 1, 1]);
    expect(deleted_count + already_deleted_count + not_found_count).toBe(results.length);
  });

  it('carries the request id in meta and in X-Request-Id, different for every request', async () => {
    const ids = await buildEvents(server.db, endpointId, 1);
    const first = await deleteBatch({ message_ids: ids });
    const second = await deleteBatch({ message_ids: ids });
    expect(first.data!.meta.request_id).toMatch(/^req_[A-Za-z0-9_-]{16,}$/);
    expect(first.response.headers.get('x-request-id')).toBe(first.data!.meta.request_id);
    expect(second.data!.meta.request_id).not.toBe(first.data!.meta.request_id);
  });
});

describe('id validation rejects the whole request and deletes nothing', () => {
  it.each([
    ['a non-UUID entry', (ids: string[]) => [ids[0], 'not-a-uuid'], /message_ids\[1\].*uuid/],
    ['a urn:uuid entry', (ids: string[]) => [`urn:uuid:${ids[0]}`], /message_ids\[0\].*uuid/],
    ['a number', (ids: string[]) => [ids[0], 42], /message_ids\[1\].*string/],
    ['an empty list', () => [], /message_ids.*fewer than 1/],
    ['101 entries', (ids: string[]) => [...ids, ...Array.from({ length: 100 }, randomId)], /message_ids.*more than 100/],
    ['the same id twice in another case', (ids: string[]) => [ids[0], ids[0]!.toUpperCase()], /appears more than once/],
  ])('when the list has %s', async (_case, makeIds, message) => {
    const ids = await buildEvents(server.db, endpointId, 1);
    const { error, response } = await deleteBatch(invalidBody({ message_ids: makeIds(ids) }));
    expect(response.status).toBe(400);
    expect(error!.error.code).toBe('INVALID_REQUEST');
    expect(error!.error.message).toMatch(message);
    await expectNothingDeleted(ids);
  });

  it('rejects unknown body fields and a missing message_ids, naming them', async () => {
    const ids = await buildEvents(server.db, endpointId, 1);
    const extra = await deleteBatch(invalidBody({ message_ids: ids, force: true }));
    expect(extra.response.status).toBe(400);
    expect(extra.error!.error.message).toMatch(/force.*additional properties|additional properties.*force|force/);
    const missing = await deleteBatch(invalidBody({ ids }));
    expect(missing.response.status).toBe(400);
    expect(missing.error!.error.message).toMatch(/message_ids/);
    await expectNothingDeleted(ids);
  });

  it('rejects an endpoint id that is not a UUID', async () => {
    const { error, response } = await deleteBatch({ message_ids: [randomId()] }, { endpoint: 'endpoint-1' });
    expect(response.status).toBe(400);
    expect(error!.error.message).toMatch(/path parameter id.*uuid/);
  });
});

describe('outcomes', () => {
  it('gives every event deleted by one request the same deleted_at, and records the deleting key', async () => {
    const ids = await buildEvents(server.db, endpointId, 5);
    const second = await buildApiKey(server.db, owner.projectId);
    const before = Date.now();
    const { data } = await deleteBatch({ message_ids: ids }, { apiKey: second.key });

    const stamps = new Set(data!.data.results.map((r) => (r.outcome === 'deleted' ? r.deleted_at : 'not deleted')));
    expect(stamps.size).toBe(1);
    const [stamp] = [...stamps];
    expect(stamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(stamp!)).toBeGreaterThanOrEqual(before - 1000);

    const rows = await eventRows(server.db, endpointId, ids);
    expect(rows.map((row) => [row.deletedAt?.toISOString(), row.deletedByApiKeyId])).toEqual(
      ids.map(() => [stamp, second.id]),
    );
  });

  it('reports an already deleted event with its original deleted_at and leaves who deleted it unchanged', async () => {
    const [id] = await buildEvents(server.db, endpointId, 1);
    const original = new Date('2025-12-24T18:00:00.123Z');
    await markDeleted(server.db, endpointId, id!, original, owner.apiKeyId);
    const other = await buildApiKey(server.db, owner.projectId);

    const { data } = await deleteBatch({ message_ids: [id!] }, { apiKey: other.key });

    expect(data!.data.results).toEqual([{ event_id: id, outcome: 'already_deleted', deleted_at: original.toISOString() }]);
    const [row] = await eventRows(server.db, endpointId, [id!]);
    expect(row).toEqual({ id, deletedAt: original, deletedByApiKeyId: owner.apiKeyId });
  });

  it('reports events of another endpoint or project as not_found, without a deleted_at, and leaves them alone', async () => {
    const sibling = await buildEndpoint(server.db, owner.projectId);
    const stranger = await buildProject(server.db, 'stranger');
    const strangersEndpoint = await buildEndpoint(server.db, stranger.projectId);
    const [siblingEvent] = await buildEvents(server.db, sibling, 1);
    const [strangersEvent] = await buildEvents(server.db, strangersEndpoint, 1);

    const { data } = await deleteBatch({ message_ids: [siblingEvent!, strangersEvent!] });

    expect(data!.data.results).toEqual([
      { event_id: siblingEvent, outcome: 'not_found' },
      { event_id: strangersEvent, outcome: 'not_found' },
    ]);
    expect((await eventRows(server.db, sibling, [siblingEvent!]))[0]!.deletedAt).toBeNull();
    expect((await eventRows(server.db, strangersEndpoint, [strangersEvent!]))[0]!.deletedAt).toBeNull();
  });
});

describe('endpoint', () => {
  it.each([
    ['does not exist', async () => randomId()],
    ['belongs to another project', async () => buildEndpoint(server.db, (await buildProject(server.db)).projectId)],
    ['was deleted', async () => buildEndpoint(server.db, owner.projectId, { deletedAt: new Date() })],
  ])('answers 404 ENDPOINT_NOT_FOUND when the endpoint %s', async (_case, makeEndpoint) => {
    const endpoint = await makeEndpoint();
    const { error, response } = await deleteBatch({ message_ids: [randomId()] }, { endpoint });
    expect(response.status).toBe(404);
    expect(error!.error).toEqual({ code: 'ENDPOINT_NOT_FOUND', message: 'endpoint not found' });
  });

  it('deletes nothing on a deleted endpoint', async () => {
    const endpoint = await buildEndpoint(server.db, owner.projectId);
    const ids = await buildEvents(server.db, endpoint, 2);
    await server.db.pullEndpoint.update({ where: { id: endpoint }, data: { deletedAt: new Date() } });
    const { response } = await deleteBatch({ message_ids: ids }, { endpoint });
    expect(response.status).toBe(404);
    expect((await eventRows(server.db, endpoint, ids)).map((row) => row.deletedAt)).toEqual([null, null]);
  });
});

describe('order of checks', () => {
  it.each([
    ['no API key', undefined],
    ['an unknown API key', 'pek_00000000_not-a-real-key'],
  ])('answers 401 to a caller with %s, even when its body is invalid', async (_case, apiKey) => {
    const client = server.client(apiKey);
    const { error, response } = await client.POST(PATH, {
      params: { path: { id: randomId() } },
      body: invalidBody({ message_ids: 'nope' }),
    });
    expect(response.status).toBe(401);
    expect(error!.error).toEqual({ code: 'UNAUTHORIZED', message: 'Invalid or missing API key' });
  });

  it('answers 401 to a revoked key', async () => {
    const project = await buildProject(server.db);
    await server.db.apiKey.updateMany({ where: { projectId: project.projectId }, data: { revokedAt: new Date() } });
    const { response } = await deleteBatch({ message_ids: [randomId()] }, { apiKey: project.apiKey });
    expect(response.status).toBe(401);
  });

  it('answers 401 before looking at malformed JSON, and 400 once authenticated', async () => {
    const send = (apiKey?: string) =>
      server.client(apiKey).POST(PATH, {
        params: { path: { id: endpointId } },
        body: invalidBody('{"message_ids": ['),
        bodySerializer: (body) => body as unknown as string,
      });
    expect((await send()).response.status).toBe(401);
    const { error, response } = await send(owner.apiKey);
    expect(response.status).toBe(400);
    expect(error!.error.message).toMatch(/^request body is not valid JSON/);
  });

  it('validates the body before looking up the endpoint', async () => {
    const { response } = await deleteBatch({ message_ids: [] }, { endpoint: randomId() });
    expect(response.status).toBe(400);
  });
});

describe('body and route errors', () => {
  it('answers 415 to a body that is not JSON, and to a missing content type', async () => {
    for (const contentType of ['text/plain', undefined]) {
      const { error, response } = await server.client(owner.apiKey).POST(PATH, {
        params: { path: { id: endpointId } },
        body: invalidBody('message_ids=1'),
        bodySerializer: (body) => body as unknown as string,
        headers: { 'Content-Type': contentType ?? null },
      });
      expect(response.status).toBe(415);
      expect(error!.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
  });

  it('answers 413 to a body over the limit, only once authenticated', async () => {
    const huge = invalidBody({ message_ids: ['x'.repeat(70 * 1024)] });
    const anonymous = await server.client().POST(PATH, { params: { path: { id: endpointId } }, body: huge });
    expect(anonymous.response.status).toBe(401);
    const { error, response } = await deleteBatch(huge);
    expect(response.status).toBe(413);
    expect(error!.error).toEqual({ code: 'PAYLOAD_TOO_LARGE', message: 'request body is larger than 65536 bytes' });
  });

  it('answers 400 to an unknown query parameter', async () => {
    const { error, response } = await server.client(owner.apiKey).POST(PATH, {
      params: { path: { id: endpointId }, query: { dry_run: 'true' } as never },
      body: { message_ids: [randomId()] },
    });
    expect(response.status).toBe(400);
    expect(error!.error.message).toMatch(/dry_run/);
  });

  it('answers an unknown route with the NOT_FOUND envelope', async () => {
    const response = await fetch(`${server.baseUrl}/v1/nothing-here`);
    const body = await response.json();
    expect(response.status).toBe(404);
    expect(body).toEqual({
      error: { code: 'NOT_FOUND', message: 'no route for GET /v1/nothing-here' },
      meta: { request_id: response.headers.get('x-request-id') },
    });
  });
});

describe('atomicity', () => {
  it('answers 500 INTERNAL_ERROR and changes nothing when the statement fails half way', async () => {
    const ids = await buildEvents(server.db, endpointId, 4);
    // Fails on the third row, after earlier rows were already updated by the same statement.
    await withUpdateTrigger(server.db, ids[2]!, `RAISE EXCEPTION 'injected failure';`, async () => {
      const { error, response } = await deleteBatch({ message_ids: ids });
      expect(response.status).toBe(500);
      expect(error!.error).toEqual({ code: 'INTERNAL_ERROR', message: 'An internal error occurred' });
      await expectNothingDeleted(ids);
    });
  });
});

describe('transient failures', () => {
  it('retries a statement PostgreSQL aborted as a deadlock victim, and answers 200', async () => {
    const ids = await buildEvents(server.db, endpointId, 2);
    const failFirstAttempt = `IF nextval('$SEQ') = 1 THEN RAISE EXCEPTION 'injected deadlock' USING ERRCODE = '40P01'; END IF;`;
    await withUpdateTrigger(server.db, ids[0]!, failFirstAttempt, async (sequence) => {
      const { data, response } = await deleteBatch({ message_ids: ids });
      expect(response.status).toBe(200);
      expect(data!.data.deleted_count).toBe(2);
      const attempts = await server.db.$queryRawUnsafe<{ last_value: bigint }[]>(`SELECT last_value FROM ${sequence}`);
      expect(attempts[0]!.last_value).toBe(2n);
    });
  });
});

describe('cost', () => {
  it('sends the same number of SQL statements for 1 id as for 100', async () => {
    const statements: string[] = [];
    const db = createPrismaClient(testDatabaseUrl(), { onQuery: (sql) => statements.push(sql) });
    const counted = await startTestServer({ db });
    try {
      const ids = await buildEvents(db, endpointId, 101);
      const count = async (batch: string[]) => {
        statements.length = 0;
        const { response } = await counted
          .client(owner.apiKey)
          .POST(PATH, { params: { path: { id: endpointId } }, body: { message_ids: batch } });
        expect(response.status).toBe(200);
        return statements.length;
      };
      const one = await count(ids.slice(0, 1));
      const hundred = await count(ids.slice(1));
      expect(one).toBeLessThanOrEqual(2);
      expect(hundred).toBe(one);
    } finally {
      await counted.close();
      await db.$disconnect();
    }
  });
});
