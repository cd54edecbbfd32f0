import { buildEndpoint, buildEvents, buildProject, eventRows, type TestProject } from './support/factories';
import { startTestServer, type TestServer } from './support/server';

let server: TestServer;
let owner: TestProject;
let intruder: TestProject;
let endpointId: string;
let eventIds: string[];

beforeAll(async () => {
  server = await startTestServer();
  owner = await buildProject(server.db, 'owner');
  intruder = await buildProject(server.db, 'intruder');
  endpointId = await buildEndpoint(server.db, owner.projectId);
  eventIds = await buildEvents(server.db, endpointId, 3);
});
afterAll(() => server.close());

it('never lets one project see, count, change, acknowledge or delete another project’s endpoints and events', async () => {
  const api = server.client(intruder.apiKey);
  const path = { id: endpointId };
  const event = { ...path, event_id: eventIds[0]! };
  const answers = await Promise.all([
    api.GET('/v1/pull-endpoints/{id}', { params: { path } }),
    api.PATCH('/v1/pull-endpoints/{id}', { params: { path }, body: { name: 'mine now' } }),
    api.POST('/v1/pull-endpoints/{id}/pause', { params: { path } }),
    api.POST('/v1/pull-endpoints/{id}/resume', { params: { path } }),
    api.GET('/v1/pull-endpoints/{id}/events', { params: { path } }),
    api.GET('/v1/pull-endpoints/{id}/events/{event_id}', { params: { path: event } }),
    api.DELETE('/v1/pull-endpoints/{id}/events/{event_id}', { params: { path: event } }),
    api.POST('/v1/pull-endpoints/{id}/events/ack', { params: { path }, body: { event_ids: eventIds } }),
    api.POST('/v1/pull-endpoints/{id}/events/delete-batch', { params: { path }, body: { message_ids: eventIds } }),
    api.POST('/v1/pull-endpoints/{id}/events/delete-all', { params: { path } }),
    api.DELETE('/v1/pull-endpoints/{id}', { params: { path } }),
  ]);
  for (const { error, response } of answers) {
    expect(response.status).toBe(404);
    expect(error!.error).toEqual({ code: 'ENDPOINT_NOT_FOUND', message: 'endpoint not found' });
  }

  const listed = await api.GET('/v1/pull-endpoints', {});
  expect(listed.data!.data.map((e) => e.id)).not.toContain(endpointId);

  const endpoint = await server.db.pullEndpoint.findUniqueOrThrow({ where: { id: endpointId } });
  expect(endpoint).toMatchObject({ name: 'test endpoint', pausedAt: null, deletedAt: null });
  const rows = await server.db.pullEvent.findMany({ where: { pullEndpointId: endpointId } });
  expect(rows.map((r) => [r.status, r.deletedAt])).toEqual(eventIds.map(() => ['stored', null]));
  expect((await eventRows(server.db, endpointId, eventIds)).every((r) => r.deletedAt === null)).toBe(true);
});

it('reports another project’s events as not_found from the caller’s own endpoint, and acknowledges none', async () => {
  const own = await buildEndpoint(server.db, intruder.projectId);
  const api = server.client(intruder.apiKey);
  const { data } = await api.POST('/v1/pull-endpoints/{id}/events/delete-batch', { params: { path: { id: own } }, body: { message_ids: eventIds } });
  expect(data!.data.not_found_count).toBe(3);
  const ack = await api.POST('/v1/pull-endpoints/{id}/events/ack', { params: { path: { id: own } }, body: { event_ids: eventIds } });
  expect(ack.data!.data.acknowledged).toBe(0);
});
