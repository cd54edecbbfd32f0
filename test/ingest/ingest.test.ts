import { createPullEventsClient } from '../../src/client';
import { contract } from '../support/contract';
import { buildEndpointWithToken, buildProject, randomId, type TestProject } from '../support/factories';
import { startTestServer, type TestServer } from '../support/server';

const INGEST = '/ingest/{id}';

let server: TestServer;
let owner: TestProject;

beforeAll(async () => {
  server = await startTestServer({ ingestBodyLimitBytes: 4096 });
  owner = await buildProject(server.db);
});
afterAll(() => server.close());

/** A webhook sender: the client authenticates with the endpoint's token, not an API key. */
function sender(token: string | undefined, headers: Record<string, string> = {}) {
  return createPullEventsClient({
    baseUrl: server.baseUrl,
    ...(token && { apiKey: token }),
    fetch: (input: string | URL | Request, init?: RequestInit) => {
      const request = new Request(input, init);
      for (const [name, value] of Object.entries(headers)) request.headers.set(name, value);
      return fetch(request);
    },
    middleware: [contract.middleware()],
  });
}

async function storedEvent(endpointId: string, eventId: string) {
  return server.db.pullEvent.findUniqueOrThrow({ where: { pullEndpointId_id: { pullEndpointId: endpointId, id: eventId } } });
}

it('stores the body and headers without credentials as a stored event, and answers 202 with its id', async () => {
  const endpoint = await buildEndpointWithToken(server.db, owner.projectId);
  const body = { type: 'order.created', data: { order_id: 1042, note: "it's \"quoted\" — ünïcödé" } };
  const { data, response } = await sender(endpoint.token, { 'X-Event-Type': 'order.created', Cookie: 'session=1', 'X-Custom': 'kept' }).POST(INGEST, {
    params: { path: { id: endpoint.id } },
    body,
  });

  expect(response.status).toBe(202);
  const row = await storedEvent(endpoint.id, data!.data.event_id);
  expect(row).toMatchObject({ status: 'stored', eventType: 'order.created', payload: body, deletedAt: null });
  expect(row.receivedAt.toISOString()).toBe(data!.data.received_at);
  const headers = row.headers as Record<string, string>;
  expect(headers['x-custom']).toBe('kept');
  expect(headers['content-type']).toMatch(/application\/json/);
  expect(headers.authorization).toBeUndefined();
  expect(headers.cookie).toBeUndefined();
});

it('accepts the token in X-Ingest-Token and never stores it', async () => {
  const endpoint = await buildEndpointWithToken(server.db, owner.projectId);
  const { data, response } = await sender(undefined, { 'X-Ingest-Token': endpoint.token }).POST(INGEST, {
    params: { path: { id: endpoint.id } },
    body: [1, 2, 3],
  });
  expect(response.status).toBe(202);
  const row = await storedEvent(endpoint.id, data!.data.event_id);
  expect(JSON.stringify(row.headers)).not.toContain(endpoint.token);
  expect(row.eventType).toBe('unknown');
});

it('reads the event type from the JSON path the endpoint names', async () => {
  const endpoint = await buildEndpointWithToken(server.db, owner.projectId, { eventTypeSource: { json_path: '$.meta.kind' } });
  const ingest = (body: Record<string, unknown>) => sender(endpoint.token).POST(INGEST, { params: { path: { id: endpoint.id } }, body });
  const found = await ingest({ meta: { kind: 'invoice.paid' } });
  const missing = await ingest({ meta: {} });
  expect((await storedEvent(endpoint.id, found.data!.data.event_id)).eventType).toBe('invoice.paid');
  expect((await storedEvent(endpoint.id, missing.data!.data.event_id)).eventType).toBe('unknown');
});

it.each([
  ['a wrong token', async () => ({ id: (await buildEndpointWithToken(server.db, owner.projectId)).id, token: 'pes_wrong' })],
  ['an unknown endpoint', async () => ({ id: randomId(), token: 'pes_anything' })],
  ['a deleted endpoint', async () => buildEndpointWithToken(server.db, owner.projectId, { deletedAt: new Date() })],
  ['an API key instead of the token', async () => ({ id: (await buildEndpointWithToken(server.db, owner.projectId)).id, token: owner.apiKey })],
])('answers 401 to %s', async (_case, target) => {
  const { id, token } = await target();
  const { error, response } = await sender(token).POST(INGEST, { params: { path: { id } }, body: { a: 1 } });
  expect(response.status).toBe(401);
  expect(error!.error).toEqual({ code: 'UNAUTHORIZED', message: 'Invalid or missing ingest token' });
});

it('answers 413 beyond the body cap, and 401 first to a sender without the token', async () => {
  const endpoint = await buildEndpointWithToken(server.db, owner.projectId);
  const big = { blob: 'x'.repeat(5000) };
  expect((await sender(undefined).POST(INGEST, { params: { path: { id: endpoint.id } }, body: big })).response.status).toBe(401);
  const { error, response } = await sender(endpoint.token).POST(INGEST, { params: { path: { id: endpoint.id } }, body: big });
  expect(response.status).toBe(413);
  expect(error!.error.code).toBe('PAYLOAD_TOO_LARGE');
  expect(await server.db.pullEvent.count({ where: { pullEndpointId: endpoint.id } })).toBe(0);
});

it('answers 415 to a body that is not JSON and 400 to malformed JSON', async () => {
  const endpoint = await buildEndpointWithToken(server.db, owner.projectId);
  const raw = (text: string, contentType: string) =>
    sender(endpoint.token).POST(INGEST, {
      params: { path: { id: endpoint.id } },
      body: text as never,
      bodySerializer: (b) => b as unknown as string,
      headers: { 'Content-Type': contentType },
    });
  expect((await raw('a=1', 'application/x-www-form-urlencoded')).response.status).toBe(415);
  expect((await raw('{"a":', 'application/json')).response.status).toBe(400);
  expect(await server.db.pullEvent.count({ where: { pullEndpointId: endpoint.id } })).toBe(0);
});

it('answers 503 ENDPOINT_PAUSED and stores nothing while the endpoint is paused', async () => {
  const endpoint = await buildEndpointWithToken(server.db, owner.projectId);
  const path = { id: endpoint.id };
  await server.client(owner.apiKey).POST('/v1/pull-endpoints/{id}/pause', { params: { path } });
  const { error, response } = await sender(endpoint.token).POST(INGEST, { params: { path }, body: { a: 1 } });
  expect(response.status).toBe(503);
  expect(error!.error.code).toBe('ENDPOINT_PAUSED');
  expect(await server.db.pullEvent.count({ where: { pullEndpointId: endpoint.id } })).toBe(0);

  await server.client(owner.apiKey).POST('/v1/pull-endpoints/{id}/resume', { params: { path } });
  expect((await sender(endpoint.token).POST(INGEST, { params: { path }, body: { a: 1 } })).response.status).toBe(202);
});

it('gives ids that grow in the order events are stored, even under concurrent ingest', async () => {
  const endpoint = await buildEndpointWithToken(server.db, owner.projectId);
  const results = await Promise.all(
    Array.from({ length: 40 }, (_, i) => sender(endpoint.token).POST(INGEST, { params: { path: { id: endpoint.id } }, body: { i } })),
  );
  const ids = results.map((r) => r.data!.data.event_id);
  expect(new Set(ids).size).toBe(40);
  const rows = await server.db.pullEvent.findMany({ where: { pullEndpointId: endpoint.id }, orderBy: { id: 'asc' } });
  expect(rows.map((r) => r.id).sort()).toEqual([...ids].sort());
  for (const row of rows) expect(row.receivedAt.getTime()).toBe(parseInt(row.id.replaceAll('-', '').slice(0, 12), 16));
});
