import type { operations, paths } from '../../generated/openapi';
import {
  buildEndpoint,
  buildEndpointWithToken,
  buildEvents,
  buildProject,
  markDeleted,
  randomId,
  type TestProject,
} from '../support/factories';
import { postWebhook } from '../support/webhooks';
import { startTestServer, type TestServer } from '../support/server';

let server: TestServer;
let owner: TestProject;

beforeAll(async () => {
  server = await startTestServer();
  owner = await buildProject(server.db);
});
afterAll(() => server.close());

const api = () => server.client(owner.apiKey);
type ListQuery = NonNullable<operations['listPullEvents']['parameters']['query']>;

async function list(endpointId: string, query: ListQuery = {}) {
  const { data, error, response } = await api().GET('/v1/pull-endpoints/{id}/events', {
    params: { path: { id: endpointId }, query },
  });
  return { data, error, status: response.status };
}

describe('list', () => {
  it('lists stored, live events by default, in id order, with metadata only', async () => {
    const endpointId = await buildEndpoint(server.db, owner.projectId);
    const ids = await buildEvents(server.db, endpointId, 4);
    await api().POST('/v1/pull-endpoints/{id}/events/ack', { params: { path: { id: endpointId } }, body: { event_ids: [ids[1]!] } });
    await markDeleted(server.db, endpointId, ids[2]!, new Date(), owner.apiKeyId);

    const { data } = await list(endpointId);
    expect(data!.data.map((e) => e.id)).toEqual([ids[0], ids[3]]);
    expect(Object.keys(data!.data[0]!).sort()).toEqual([
      'content_type',
      'dead_lettered_at',
      'deleted_at',
      'delivered_at',
      'delivery_count',
      'event_type',
      'fetched_at',
      'id',
      'received_at',
      'size_bytes',
      'status',
      'timing',
    ]);

    const everything = await list(endpointId, { status: 'any', include_deleted: true });
    expect(everything.data!.data.map((e) => [e.id, e.status, e.deleted_at !== null])).toEqual([
      [ids[0], 'stored', false],
      [ids[1], 'delivered', false],
      [ids[2], 'stored', true],
      [ids[3], 'stored', false],
    ]);
  });

  it('filters by event type and by a since (inclusive) / before (exclusive) time window', async () => {
    const endpointId = await buildEndpoint(server.db, owner.projectId);
    const ids = await buildEvents(server.db, endpointId, 8);
    const rows = await server.db.pullEvent.findMany({ where: { pullEndpointId: endpointId }, orderBy: { id: 'asc' } });

    const ofType = await list(endpointId, { event_type: rows[0]!.eventType!, status: 'any' });
    expect(ofType.data!.data.map((e) => e.id)).toEqual(rows.filter((r) => r.eventType === rows[0]!.eventType).map((r) => r.id));

    const since = rows[0]!.receivedAt.toISOString();
    const window = await list(endpointId, { since, before: new Date(rows[0]!.receivedAt.getTime() + 1).toISOString() });
    expect(window.data!.data.map((e) => e.id)).toEqual(rows.filter((r) => r.receivedAt.getTime() === rows[0]!.receivedAt.getTime()).map((r) => r.id));
    const none = await list(endpointId, { before: since });
    expect(none.data!.data).toEqual([]);
    expect(ids).toHaveLength(8);
  });

  it.each([
    ['since later than before', { since: '2026-02-01T00:00:00Z', before: '2026-01-01T00:00:00Z' }, /since must not be later than before/],
    ['a since that is not RFC 3339', { since: 'yesterday' }, /since.*date-time/],
    ['an impossible date', { since: '2026-02-30T00:00:00Z' }, /since.*date-time/],
    ['limit 0', { limit: 0 }, /limit/],
    ['limit 1001', { limit: 1001 }, /limit/],
    ['an unknown status', { status: 'lost' as 'any' }, /status/],
    ['a malformed cursor', { cursor: 'bm90LWEtY3Vyc29y' }, /cursor is malformed/],
  ])('answers 400 to %s', async (_case, query, message) => {
    const endpointId = await buildEndpoint(server.db, owner.projectId);
    const { error, status } = await list(endpointId, query);
    expect(status).toBe(400);
    expect(error!.error.message).toMatch(message);
  });

  it("answers 404 for another project's or a deleted endpoint, also with a malformed cursor or a reversed time range", async () => {
    const others = await buildEndpoint(server.db, (await buildProject(server.db, 'someone else')).projectId);
    const deleted = await buildEndpoint(server.db, owner.projectId, { deletedAt: new Date() });
    await buildEvents(server.db, others, 2);
    await buildEvents(server.db, deleted, 2);
    for (const endpointId of [others, deleted]) {
      for (const query of [{}, { cursor: 'bm90LWEtY3Vyc29y' }, { since: '2026-05-02T00:00:00Z', before: '2026-05-01T00:00:00Z' }]) {
        const { error, status } = await list(endpointId, query);
        expect(status).toBe(404);
        expect(error!.error.code).toBe('ENDPOINT_NOT_FOUND');
      }
    }
  });

  it('refuses a cursor issued for another endpoint or for other filters', async () => {
    const first = await buildEndpoint(server.db, owner.projectId);
    const second = await buildEndpoint(server.db, owner.projectId);
    await buildEvents(server.db, first, 3);
    const { data } = await list(first, { limit: 1 });
    const cursor = data!.meta.next_cursor!;
    expect((await list(second, { cursor })).error!.error.message).toMatch(/another list/);
    expect((await list(first, { cursor, status: 'any' })).error!.error.message).toMatch(/other filters/);
    expect((await list(first, { cursor })).status).toBe(200);
  });

  it('neither skips nor repeats an event when paging while webhooks arrive through two replicas', async () => {
    const endpoint = await buildEndpointWithToken(server.db, owner.projectId);
    const replica = await startTestServer();
    const senders = [server, replica];
    const accepted: string[] = [];
    let ingesting = true;
    const ingest = (async () => {
      await Promise.all(
        Array.from({ length: 6 }, async (_, worker) => {
          for (let i = 0; i < 25; i++) {
            const { body } = await postWebhook(senders[worker % 2]!.baseUrl, endpoint.ingestPath, JSON.stringify({ worker, i }));
            accepted.push(body.data.event_id);
          }
        }),
      );
      ingesting = false;
    })();

    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const stillIngesting = ingesting;
      const { data } = await list(endpoint.id, { limit: 7, ...(cursor && { cursor }) });
      seen.push(...data!.data.map((e) => e.id));
      cursor = data!.meta.next_cursor ?? cursor;
      if (!stillIngesting && !data!.meta.has_more) break;
    }
    await ingest;
    await replica.close();

    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual([...accepted].sort());
    expect(seen).toEqual([...seen].sort());
  });
});

describe('get', () => {
  it('returns the payload and moves stored to fetched, but not with preview', async () => {
    const endpointId = await buildEndpoint(server.db, owner.projectId);
    const [id] = await buildEvents(server.db, endpointId, 1);
    const path = { id: endpointId, event_id: id!.toUpperCase() };

    const preview = await api().GET('/v1/pull-endpoints/{id}/events/{event_id}', { params: { path, query: { preview: true } } });
    expect(preview.data!.data).toMatchObject({ id, status: 'stored', deleted_at: null, deleted_by_api_key_id: null });
    expect(preview.data!.data.payload).toEqual(expect.objectContaining({ id }));

    const read = await api().GET('/v1/pull-endpoints/{id}/events/{event_id}', { params: { path } });
    expect(read.data!.data.status).toBe('fetched');
    expect(read.data!.data.headers).toEqual(expect.objectContaining({ 'content-type': 'application/json' }));
  });

  it('answers 410 MESSAGE_DELETED for a deleted event, and with preview its deletion record without payload', async () => {
    const endpointId = await buildEndpoint(server.db, owner.projectId);
    const [id] = await buildEvents(server.db, endpointId, 1);
    const deletedAt = new Date('2026-03-01T10:00:00.000Z');
    await markDeleted(server.db, endpointId, id!, deletedAt, owner.apiKeyId);
    const path = { id: endpointId, event_id: id! };

    const gone = await api().GET('/v1/pull-endpoints/{id}/events/{event_id}', { params: { path } });
    expect(gone.response.status).toBe(410);
    expect(gone.error!.error).toEqual({ code: 'MESSAGE_DELETED', message: `event was deleted at ${deletedAt.toISOString()}` });

    const preview = await api().GET('/v1/pull-endpoints/{id}/events/{event_id}', { params: { path, query: { preview: true } } });
    expect(preview.data!.data).toMatchObject({
      id,
      payload: null,
      headers: null,
      deleted_at: deletedAt.toISOString(),
      deleted_by_api_key_id: owner.apiKeyId,
    });
  });

  it('answers 404 NOT_FOUND for an event that is not on this endpoint', async () => {
    const endpointId = await buildEndpoint(server.db, owner.projectId);
    const other = await buildEndpoint(server.db, owner.projectId);
    const [foreign] = await buildEvents(server.db, other, 1);
    for (const eventId of [randomId(), foreign!]) {
      const { error, response } = await api().GET('/v1/pull-endpoints/{id}/events/{event_id}', { params: { path: { id: endpointId, event_id: eventId } } });
      expect(response.status).toBe(404);
      expect(error!.error).toEqual({ code: 'NOT_FOUND', message: 'event not found' });
    }
  });
});

describe('ack', () => {
  it('counts only real transitions to delivered, and is idempotent', async () => {
    const endpointId = await buildEndpoint(server.db, owner.projectId);
    const ids = await buildEvents(server.db, endpointId, 4);
    await markDeleted(server.db, endpointId, ids[3]!, new Date(), owner.apiKeyId);
    const ack = (eventIds: string[]) =>
      api().POST('/v1/pull-endpoints/{id}/events/ack', { params: { path: { id: endpointId } }, body: { event_ids: eventIds } });

    const first = await ack([ids[0]!, ids[1]!, ids[1]!.toUpperCase(), ids[3]!, randomId()]);
    expect(first.data!.data.acknowledged).toBe(2);
    const second = await ack([ids[0]!, ids[1]!, ids[2]!]);
    expect(second.data!.data.acknowledged).toBe(1);
    const statuses = await server.db.pullEvent.findMany({ where: { pullEndpointId: endpointId }, orderBy: { id: 'asc' }, select: { status: true } });
    expect(statuses.map((s) => s.status)).toEqual(['delivered', 'delivered', 'delivered', 'stored']);
  });

  it('rejects more than 1000 ids', async () => {
    const endpointId = await buildEndpoint(server.db, owner.projectId);
    const { response } = await api().POST('/v1/pull-endpoints/{id}/events/ack', {
      params: { path: { id: endpointId } },
      body: { event_ids: Array.from({ length: 1001 }, randomId) },
    });
    expect(response.status).toBe(400);
  });
});

describe('delete one', () => {
  it('deletes, then answers 200 again with the original deleted_at and already_deleted', async () => {
    const endpointId = await buildEndpoint(server.db, owner.projectId);
    const [id] = await buildEvents(server.db, endpointId, 1);
    const remove = () => api().DELETE('/v1/pull-endpoints/{id}/events/{event_id}', { params: { path: { id: endpointId, event_id: id! } } });
    const first = await remove();
    const again = await remove();
    expect(first.data!.data).toEqual({ event_id: id, deleted_at: expect.any(String), already_deleted: false });
    expect(again.data!.data).toEqual({ event_id: id, deleted_at: first.data!.data.deleted_at, already_deleted: true });
  });

  it('answers 404 NOT_FOUND for an unknown event', async () => {
    const endpointId = await buildEndpoint(server.db, owner.projectId);
    const { error } = await api().DELETE('/v1/pull-endpoints/{id}/events/{event_id}', { params: { path: { id: endpointId, event_id: randomId() } } });
    expect(error!.error.code).toBe('NOT_FOUND');
  });
});

describe('delete-all', () => {
  type DeleteAllQuery = NonNullable<paths['/v1/pull-endpoints/{id}/events/delete-all']['post']['parameters']['query']>;

  it('deletes the matching live events up to the limit, oldest first, and reports their ids', async () => {
    const endpointId = await buildEndpoint(server.db, owner.projectId);
    const ids = await buildEvents(server.db, endpointId, 7);
    await api().POST('/v1/pull-endpoints/{id}/events/ack', { params: { path: { id: endpointId } }, body: { event_ids: ids.slice(0, 4) } });
    await api().GET('/v1/pull-endpoints/{id}/events/{event_id}', { params: { path: { id: endpointId, event_id: ids[4]! } } });
    const deleteAll = (query: DeleteAllQuery) => api().POST('/v1/pull-endpoints/{id}/events/delete-all', { params: { path: { id: endpointId }, query } });

    const first = await deleteAll({ status: 'delivered', limit: 3 });
    expect(first.data!.data).toEqual({ deleted: 3, deleted_event_ids: ids.slice(0, 3) });
    const rest = await deleteAll({ status: 'fetched,delivered' });
    expect(rest.data!.data).toEqual({ deleted: 2, deleted_event_ids: [ids[3], ids[4]] });
    const none = await deleteAll({ received_before: '2000-01-01T00:00:00Z' });
    expect(none.data!.data).toEqual({ deleted: 0, deleted_event_ids: [] });
    const everything = await deleteAll({});
    expect(everything.data!.data.deleted_event_ids).toEqual(ids.slice(5));
  });

  it('takes its filters as HookBridge sends them: query parameters, times unencoded, no body', async () => {
    const endpointId = await buildEndpoint(server.db, owner.projectId);
    const ids = await buildEvents(server.db, endpointId, 2);
    const response = await fetch(
      `${server.baseUrl}/v1/pull-endpoints/${endpointId}/events/delete-all?status=stored,fetched&received_after=2000-01-01T00:00:00Z&limit=1`,
      { method: 'POST', headers: { Authorization: `Bearer ${owner.apiKey}` } },
    );
    expect(response.status).toBe(200);
    expect(((await response.json()) as { data: unknown }).data).toEqual({ deleted: 1, deleted_event_ids: [ids[0]] });
  });

  it.each([
    ['received_after later than received_before', { received_after: '2026-02-01T00:00:00Z', received_before: '2026-01-01T00:00:00Z' }, /received_after must not be later than received_before/],
    ['an unknown status in the list', { status: 'delivered,gone' }, /status/],
    ['an empty status in the list', { status: 'delivered,' }, /status/],
  ])('answers 400 to %s', async (_case, query, message) => {
    const endpointId = await buildEndpoint(server.db, owner.projectId);
    const { error, response } = await api().POST('/v1/pull-endpoints/{id}/events/delete-all', { params: { path: { id: endpointId }, query } });
    expect(response.status).toBe(400);
    expect(error!.error.message).toMatch(message);
  });
});

describe('lifecycle', () => {
  it('sets fetched_at on the first fetch and delivered_at on the first ack, never moving either, and times them', async () => {
    const endpoint = await buildEndpointWithToken(server.db, owner.projectId);
    const { body } = await postWebhook(server.baseUrl, endpoint.ingestPath, '{"a":1}');
    const path = { id: endpoint.id, event_id: body.data.event_id };
    const read = async (preview = true) => (await api().GET('/v1/pull-endpoints/{id}/events/{event_id}', { params: { path, query: { preview } } })).data!.data;

    const stored = await read();
    expect(stored).toMatchObject({ fetched_at: null, delivered_at: null });
    expect(stored.timing).toEqual({ ingest_processing_ms: expect.any(Number), time_to_fetch_ms: null, time_to_ack_ms: null, total_lifecycle_ms: null });

    const fetched = await read(false);
    await read(false);
    await fetch(`${server.baseUrl}/v1/pull-endpoints/${endpoint.id}/events/${body.data.event_id}/payload`, { headers: { Authorization: `Bearer ${owner.apiKey}` } });
    expect((await read()).fetched_at).toBe(fetched.fetched_at);

    await api().POST('/v1/pull-endpoints/{id}/events/ack', { params: { path: { id: endpoint.id } }, body: { event_ids: [path.event_id] } });
    const delivered = await read();
    await api().POST('/v1/pull-endpoints/{id}/events/ack', { params: { path: { id: endpoint.id } }, body: { event_ids: [path.event_id] } });
    const again = await read();
    expect(again.delivered_at).toBe(delivered.delivered_at);
    expect(again.fetched_at).toBe(fetched.fetched_at);

    const ms = (iso: string | null) => Date.parse(iso!);
    expect(again.timing).toEqual({
      ingest_processing_ms: stored.timing.ingest_processing_ms,
      time_to_fetch_ms: ms(again.fetched_at) - ms(again.received_at),
      time_to_ack_ms: ms(again.delivered_at) - ms(again.fetched_at),
      total_lifecycle_ms: ms(again.delivered_at) - ms(again.received_at),
    });
    const [listed] = (await list(endpoint.id, { status: 'delivered' })).data!.data;
    expect(listed).toMatchObject({ fetched_at: again.fetched_at, delivered_at: again.delivered_at, timing: again.timing });
  });

  it('times an event acknowledged unread from its receipt, with no fetched_at', async () => {
    const endpointId = await buildEndpoint(server.db, owner.projectId);
    const [id] = await buildEvents(server.db, endpointId, 1);
    await api().POST('/v1/pull-endpoints/{id}/events/ack', { params: { path: { id: endpointId } }, body: { event_ids: [id!] } });
    const event = (await api().GET('/v1/pull-endpoints/{id}/events/{event_id}', { params: { path: { id: endpointId, event_id: id! }, query: { preview: true } } })).data!.data;
    expect(event.fetched_at).toBeNull();
    expect(event.timing.time_to_fetch_ms).toBeNull();
    expect(event.timing.time_to_ack_ms).toBe(event.timing.total_lifecycle_ms);
    expect(event.timing.total_lifecycle_ms).toBe(Date.parse(event.delivered_at!) - Date.parse(event.received_at));
  });
});
