import { createPullEventsClient } from '../../src/client';
import { contract } from '../support/contract';
import { buildEndpoint, buildEndpointWithToken, buildEvents, buildProject, type TestProject } from '../support/factories';
import { startTestServer, type TestServer } from '../support/server';
import { postWebhook } from '../support/webhooks';
import { recordingFetch } from './helpers';

let server: TestServer;
let owner: TestProject;
beforeAll(async () => {
  server = await startTestServer();
  owner = await buildProject(server.db);
});
afterAll(() => server.close());

function recordingClient(apiKey = owner.apiKey) {
  const recorded = recordingFetch();
  return { client: createPullEventsClient({ baseUrl: server.baseUrl, apiKey, fetch: recorded.fetch, middleware: [contract.middleware()] }), recorded };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

it('iterates over every endpoint, a page of 2 at a time', async () => {
  const project = await buildProject(server.db);
  const ids: string[] = [];
  for (let n = 0; n < 5; n++) ids.push(await buildEndpoint(server.db, project.projectId));
  const { client, recorded } = recordingClient(project.apiKey);
  expect((await collect(client.listEndpoints({ limit: 2 }))).map((e) => e.id)).toEqual(ids);
  expect(recorded.outcomes()).toEqual([200, 200, 200]);
});

it("iterates over an endpoint's events with the filters kept on every page", async () => {
  const endpointId = await buildEndpoint(server.db, owner.projectId);
  const ids = await buildEvents(server.db, endpointId, 7);
  const { client, recorded } = recordingClient();
  await client.ackEvents(endpointId, [ids[1]!, ids[4]!]);
  const stored = ids.filter((_, n) => n !== 1 && n !== 4);

  const events = await collect(client.listEvents(endpointId, { status: 'stored', limit: 2 }));
  expect(events.map((e) => [e.id, e.status])).toEqual(stored.map((id) => [id, 'stored']));
  const lists = recorded.attempts.filter((a) => a.method === 'GET');
  expect(lists).toHaveLength(3);
});

it("iterates over the project's pull-logs, newest first", async () => {
  const project = await buildProject(server.db);
  const endpointId = await buildEndpoint(server.db, project.projectId);
  const ids = await buildEvents(server.db, endpointId, 7);
  const { client, recorded } = recordingClient(project.apiKey);
  expect((await collect(client.listPullLogs({ pull_endpoint_id: endpointId, limit: 3 }))).map((e) => e.event_id)).toEqual([...ids].reverse());
  expect(recorded.outcomes()).toEqual([200, 200, 200]);
});

it("iterates over an endpoint's rejections, newest first", async () => {
  const endpoint = await buildEndpointWithToken(server.db, owner.projectId);
  const { client, recorded } = recordingClient();
  await client.POST('/v1/pull-endpoints/{id}/pause', { params: { path: { id: endpoint.id } } });
  for (let n = 0; n < 5; n++) expect((await postWebhook(server.baseUrl, `${endpoint.ingestPath}?n=${n}`, '{}')).status).toBe(503);
  recorded.attempts.length = 0;

  const rejections = await collect(client.listRejections(endpoint.id, { limit: 2 }));
  expect(rejections.map((r) => [r.reason, r.query_string])).toEqual([4, 3, 2, 1, 0].map((n) => ['paused', `n=${n}`]));
  expect(recorded.outcomes()).toEqual([200, 200, 200]);
});

it('fetches a page only when the loop reaches it', async () => {
  const endpointId = await buildEndpoint(server.db, owner.projectId);
  await buildEvents(server.db, endpointId, 3);
  const { client, recorded } = recordingClient();
  for await (const event of client.listEvents(endpointId, { limit: 1 })) {
    expect(event.status).toBe('stored');
    break;
  }
  expect(recorded.outcomes()).toEqual([200]);
});
