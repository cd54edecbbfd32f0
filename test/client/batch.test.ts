import { PullEventsApiError, PullEventsBatchError, createPullEventsClient, dataOf, type PullEventsClient } from '../../src/client';
import { contract } from '../support/contract';
import { buildEndpoint, buildEvents, buildProject, markDeleted, randomId, type TestProject } from '../support/factories';
import { startTestServer, type TestServer } from '../support/server';
import { recordingFetch } from './helpers';

let server: TestServer;
let owner: TestProject;
beforeAll(async () => {
  server = await startTestServer();
  owner = await buildProject(server.db);
});
afterAll(() => server.close());

function recordingClient(): { client: PullEventsClient; recorded: ReturnType<typeof recordingFetch> } {
  const recorded = recordingFetch();
  const client = createPullEventsClient({ baseUrl: server.baseUrl, apiKey: owner.apiKey, fetch: recorded.fetch, middleware: [contract.middleware()] });
  return { client, recorded };
}

async function liveRows(endpointId: string) {
  const rows = await server.db.pullEvent.findMany({ where: { pullEndpointId: endpointId }, select: { id: true, deletedAt: true } });
  return new Set(rows.filter((row) => row.deletedAt === null).map((row) => row.id));
}

it('deletes 250 ids in requests of 100, 100 and 50, answering one result in the order given', async () => {
  const endpointId = await buildEndpoint(server.db, owner.projectId);
  const events = await buildEvents(server.db, endpointId, 240);
  const earlier = new Date('2026-01-02T03:04:05.678Z');
  await markDeleted(server.db, endpointId, events[150]!, earlier, owner.apiKeyId);
  const unknown = Array.from({ length: 10 }, randomId);
  // Unknown ids spread through the list, and the order shuffled, so that "in order" means something.
  const ids = [...events.slice(0, 120), ...unknown, ...events.slice(120)].reverse().map((id, n) => (n % 2 ? id.toUpperCase() : id));

  const { client, recorded } = recordingClient();
  const result = await client.deleteBatch(endpointId, ids);

  expect(recorded.attempts.map((a) => a.outcome)).toEqual([200, 200, 200]);
  expect(result.results.map((r) => r.event_id)).toEqual(ids.map((id) => id.toLowerCase()));
  expect(result.results.map((r) => r.outcome)).toEqual(
    ids.map((id) => (unknown.includes(id.toLowerCase()) ? 'not_found' : id.toLowerCase() === events[150] ? 'already_deleted' : 'deleted')),
  );
  expect(result.results.find((r) => r.event_id === events[150])).toMatchObject({ deleted_at: earlier.toISOString() });
  expect({ deleted: result.deleted_count, already: result.already_deleted_count, notFound: result.not_found_count }).toEqual({ deleted: 239, already: 1, notFound: 10 });
  expect(await liveRows(endpointId)).toEqual(new Set());
});

it('says which ids were done when a request fails midway', async () => {
  const endpointId = await buildEndpoint(server.db, owner.projectId);
  const ids = await buildEvents(server.db, endpointId, 250);
  // Not a UUID: the service refuses the second request whole.
  const sent = ids.with(150, 'not-an-id');

  const { client, recorded } = recordingClient();
  const error = await client.deleteBatch(endpointId, sent).catch((e: unknown) => e);

  expect(error).toBeInstanceOf(PullEventsBatchError);
  const { completed, pending, cause } = error as PullEventsBatchError;
  expect(completed.results.map((r) => r.event_id)).toEqual(ids.slice(0, 100));
  expect(completed.deleted_count).toBe(100);
  expect(pending).toEqual(sent.slice(100));
  expect(cause).toBeInstanceOf(PullEventsApiError);
  expect(cause).toMatchObject({ status: 400, code: 'INVALID_REQUEST', message: expect.stringMatching(/message_ids\[50\]/) });
  expect(recorded.outcomes()).toEqual([200, 400]);
  expect(await liveRows(endpointId)).toEqual(new Set(ids.slice(100)));
});

it('refuses an id given twice anywhere in the list before sending anything, as the service does within one request', async () => {
  const endpointId = await buildEndpoint(server.db, owner.projectId);
  const ids = await buildEvents(server.db, endpointId, 150);
  const { client, recorded } = recordingClient();

  const local = await client.deleteBatch(endpointId, [...ids, ids[3]!.toUpperCase()]).catch((e: unknown) => e);
  expect(recorded.attempts).toEqual([]);
  expect(await liveRows(endpointId)).toEqual(new Set(ids));

  const remote = await dataOf(
    client.POST('/v1/pull-endpoints/{id}/events/delete-batch', { params: { path: { id: endpointId } }, body: { message_ids: [ids[3]!, ids[3]!.toUpperCase()] } }),
  ).catch((e: unknown) => e);
  expect(local).toBeInstanceOf(PullEventsApiError);
  expect(remote).toBeInstanceOf(PullEventsApiError);
  expect(local).toMatchObject({ status: 400, code: 'INVALID_REQUEST', message: (remote as Error).message });
});

it('answers an empty result for no ids, without a request', async () => {
  const { client, recorded } = recordingClient();
  expect(await client.deleteBatch(randomId(), [])).toEqual({ results: [], deleted_count: 0, already_deleted_count: 0, not_found_count: 0 });
  expect(recorded.attempts).toEqual([]);
});
