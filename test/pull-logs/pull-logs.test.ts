import type { operations } from '../../generated/openapi';
import { buildEndpointWithToken, buildProject, type TestProject } from '../support/factories';
import { startTestServer, type TestServer } from '../support/server';
import { postWebhook } from '../support/webhooks';

let server: TestServer;
let owner: TestProject;
let stranger: TestProject;

beforeAll(async () => {
  server = await startTestServer();
  owner = await buildProject(server.db, 'logs owner');
  stranger = await buildProject(server.db, 'logs stranger');
});
afterAll(() => server.close());

type LogsQuery = NonNullable<operations['listPullLogs']['parameters']['query']>;

async function logs(project: TestProject, query: LogsQuery = {}) {
  const { data, error, response } = await server.client(project.apiKey).GET('/v1/pull-logs', { params: { query } });
  return { data, error, status: response.status };
}

/** Every page of the log, following next_cursor until has_more is false. */
async function everyPage(project: TestProject, query: LogsQuery, between: () => Promise<void> = async () => undefined) {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const { data } = await logs(project, { ...query, ...(cursor && { cursor }) });
    ids.push(...data!.data.map((item) => item.event_id));
    if (!data!.meta.has_more) return ids;
    cursor = data!.meta.next_cursor!;
    await between();
  }
  throw new Error('the log never ended');
}

async function send(ingestPath: string, type: string) {
  const answer = await postWebhook(server.baseUrl, ingestPath, JSON.stringify({ type }));
  expect(answer.status).toBe(202);
  return answer.body.data.event_id;
}

async function typedEndpoint(project: TestProject, name: string) {
  const endpoint = await buildEndpointWithToken(server.db, project.projectId, { event_type_source: 'body', event_type_path: 'type' });
  await server.db.pullEndpoint.update({ where: { id: endpoint.id }, data: { name } });
  return endpoint;
}

it('lists the project’s events across endpoints, newest first, deleted ones too, with the endpoint’s name and the event’s lifecycle', async () => {
  const project = await buildProject(server.db, 'logs shapes');
  const stripe = await typedEndpoint(project, 'Stripe');
  const github = await typedEndpoint(project, 'GitHub');
  const first = await send(stripe.ingestPath, 'invoice.paid');
  const second = await send(github.ingestPath, 'push');
  const third = await send(stripe.ingestPath, 'invoice.paid');
  const api = server.client(project.apiKey);
  await api.GET('/v1/pull-endpoints/{id}/events/{event_id}', { params: { path: { id: stripe.id, event_id: first } } });
  await api.POST('/v1/pull-endpoints/{id}/events/ack', { params: { path: { id: stripe.id } }, body: { event_ids: [first] } });
  await api.DELETE('/v1/pull-endpoints/{id}/events/{event_id}', { params: { path: { id: github.id, event_id: second } } });

  const { data } = await logs(project);
  expect(data!.data.map((item) => [item.event_id, item.pull_endpoint_id, item.endpoint_name, item.event_type, item.status])).toEqual([
    [third, stripe.id, 'Stripe', 'invoice.paid', 'stored'],
    [second, github.id, 'GitHub', 'push', 'stored'],
    [first, stripe.id, 'Stripe', 'invoice.paid', 'delivered'],
  ]);
  const [newest, deleted, delivered] = data!.data;
  expect(newest!.deleted_at).toBeNull();
  expect(deleted!.deleted_at).toEqual(expect.any(String));
  expect(delivered).toMatchObject({ fetched_at: expect.any(String), delivered_at: expect.any(String) });
  expect(delivered!.timing.total_lifecycle_ms).toBe(Date.parse(delivered!.delivered_at!) - Date.parse(delivered!.received_at));
  expect(data!.meta).toMatchObject({ has_more: false });
});

it('filters by endpoint, comma-separated statuses, event type and receive time (start inclusive, end exclusive)', async () => {
  const project = await buildProject(server.db, 'logs filters');
  const a = await typedEndpoint(project, 'A');
  const b = await typedEndpoint(project, 'B');
  const ids = [
    await send(a.ingestPath, 'x'),
    await send(b.ingestPath, 'y'),
    await send(a.ingestPath, 'y'),
    await send(b.ingestPath, 'x'),
  ];
  const api = server.client(project.apiKey);
  await api.GET('/v1/pull-endpoints/{id}/events/{event_id}', { params: { path: { id: a.id, event_id: ids[0]! } } });
  await api.POST('/v1/pull-endpoints/{id}/events/ack', { params: { path: { id: b.id } }, body: { event_ids: [ids[1]!] } });
  const newestFirst = (...picked: number[]) => picked.sort((x, y) => y - x).map((i) => ids[i]);
  const ofPage = async (query: LogsQuery) => (await logs(project, query)).data!.data.map((item) => item.event_id);

  expect(await ofPage({ pull_endpoint_id: a.id })).toEqual(newestFirst(0, 2));
  expect(await ofPage({ status: 'stored' })).toEqual(newestFirst(2, 3));
  expect(await ofPage({ status: 'fetched,delivered' })).toEqual(newestFirst(0, 1));
  expect(await ofPage({ event_type: 'x' })).toEqual(newestFirst(0, 3));
  expect(await ofPage({ event_type: 'y', pull_endpoint_id: b.id })).toEqual(newestFirst(1));

  const received = (await logs(project)).data!.data.map((item) => item.received_at).reverse();
  // Times as received: from the second event's time (inclusive) to the fourth's (exclusive).
  const window = await ofPage({ start_time: received[1]!, end_time: received[3]! });
  const expected = ids.filter((_id, i) => received[i]! >= received[1]! && received[i]! < received[3]!).reverse();
  expect(window).toEqual(expected);
  expect(window).toContain(ids[1]);
  expect(window).not.toContain(ids[3]);

  const backwards = await logs(project, { start_time: received[3]!, end_time: received[0]! });
  expect(backwards.status).toBe(400);
  expect(backwards.error!.error.message).toBe('start_time must not be later than end_time');
});

it('pages without skipping or repeating while webhooks keep arriving', async () => {
  const project = await buildProject(server.db, 'logs paging');
  const endpoints = await Promise.all(['one', 'two', 'three'].map((name) => typedEndpoint(project, name)));
  const before: string[] = [];
  for (let i = 0; i < 45; i++) before.push(await send(endpoints[i % 3]!.ingestPath, 'before'));

  let arrivals = 0;
  const seen = await everyPage(project, { limit: 7 }, async () => {
    // Between pages, new webhooks land on every endpoint: newer than the first page.
    await Promise.all(endpoints.map((endpoint) => send(endpoint.ingestPath, 'during')));
    arrivals += endpoints.length;
  });

  expect(arrivals).toBeGreaterThanOrEqual(18);
  expect(new Set(seen).size).toBe(seen.length);
  expect(seen).toEqual([...seen].sort().reverse());
  expect(seen.filter((id) => before.includes(id))).toEqual([...before].reverse());
});

it('shows no other project’s events, and answers 404 for another project’s or a deleted endpoint', async () => {
  const mine = await typedEndpoint(owner, 'mine');
  const theirs = await typedEndpoint(stranger, 'theirs');
  const own = await send(mine.ingestPath, 'mine');
  const foreign = await send(theirs.ingestPath, 'theirs');

  const ownerIds = await everyPage(owner, { limit: 1000 });
  expect(ownerIds).toContain(own);
  expect(ownerIds).not.toContain(foreign);
  const strangerIds = await everyPage(stranger, { limit: 1000 });
  expect(strangerIds).toContain(foreign);
  expect(strangerIds).not.toContain(own);

  const probing = await logs(stranger, { pull_endpoint_id: mine.id });
  expect(probing.status).toBe(404);
  expect(probing.error!.error).toEqual({ code: 'ENDPOINT_NOT_FOUND', message: 'endpoint not found' });

  const gone = await typedEndpoint(owner, 'gone');
  const goneEvent = await send(gone.ingestPath, 'gone');
  await server.client(owner.apiKey).DELETE('/v1/pull-endpoints/{id}', { params: { path: { id: gone.id } } });
  expect((await logs(owner, { pull_endpoint_id: gone.id })).status).toBe(404);
  expect(await everyPage(owner, { limit: 1000 })).not.toContain(goneEvent);
});

it('refuses a cursor sent with other filters', async () => {
  const project = await buildProject(server.db, 'logs cursor');
  const endpoint = await typedEndpoint(project, 'cursor');
  await send(endpoint.ingestPath, 'a');
  await send(endpoint.ingestPath, 'a');
  const { data } = await logs(project, { limit: 1 });
  const mixed = await logs(project, { limit: 1, status: 'stored', cursor: data!.meta.next_cursor! });
  expect(mixed.status).toBe(400);
  expect(mixed.error!.error.message).toBe('cursor was issued for other filters: send the same filters as the first page');
});
