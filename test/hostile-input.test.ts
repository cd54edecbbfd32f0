import { buildEndpointWithToken, buildEvents, buildProject, type TestProject } from './support/factories';
import { startTestServer, type TestServer } from './support/server';

// Regressions for what the contract fuzzer (test/fuzz) found: each of these once answered 500,
// or was accepted where it should have been refused.
let server: TestServer;
let owner: TestProject;
let endpoint: { id: string; token: string };

beforeAll(async () => {
  server = await startTestServer();
  owner = await buildProject(server.db);
  endpoint = await buildEndpointWithToken(server.db, owner.projectId);
  await buildEvents(server.db, endpoint.id, 3);
});
afterAll(() => server.close());

async function send(method: string, path: string, body?: string | Buffer, token = owner.apiKey) {
  const response = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body !== undefined && { 'Content-Type': 'application/json' }) },
    ...(body !== undefined && { body }),
  });
  const json = (await response.json()) as { error?: { code: string; message: string } };
  return { status: response.status, message: json.error?.message };
}

const eventCount = () => server.db.pullEvent.count({ where: { pullEndpointId: endpoint.id } });

it.each([
  ['a NUL in a name', 'POST', '/v1/pull-endpoints', '{"name":"a\\u0000b"}', /NUL/],
  ['a NUL in a webhook key', 'POST', 'INGEST', '{"\\u0000":1}', /NUL/],
  ['a NUL in a webhook string', 'POST', 'INGEST', '{"a":"\\u0000"}', /NUL/],
  ['a webhook nested 5,000 deep', 'POST', 'INGEST', `${'['.repeat(5000)}${']'.repeat(5000)}`, /deeper than 200/],
  ['a webhook that is not UTF-8', 'POST', 'INGEST', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]), /UTF-8/],
  ['an empty webhook', 'POST', 'INGEST', '', /body is required/],
  ['an empty patch body', 'PATCH', 'ENDPOINT', '', /body is required/],
  ['an empty delete-all body', 'POST', 'ENDPOINT/events/delete-all', '', /body is required/],
])('answers 400 to %s and stores nothing', async (_case, method, path, body, message) => {
  const before = await eventCount();
  const target = path.replace('INGEST', `/ingest/${endpoint.id}`).replace('ENDPOINT', `/v1/pull-endpoints/${endpoint.id}`);
  const { status, message: answer } = await send(method, target, body, path === 'INGEST' ? endpoint.token : owner.apiKey);
  expect({ status, answer }).toEqual({ status: 400, answer: expect.stringMatching(message) });
  expect(await eventCount()).toBe(before);
});

it('answers 400 to a NUL in a query parameter', async () => {
  const { status, message } = await send('GET', `/v1/pull-endpoints/${endpoint.id}/events?event_type=a%00b`);
  expect(status).toBe(400);
  expect(message).toMatch(/NUL/);
});

it.each([
  ['before 1970', '1969-12-31T23:59:59.999Z', 3],
  ['with a leap second', '2016-12-31T23:59:60Z', 3],
  ['with an hours-only offset', '2016-12-31T23:59:59+02', 3],
  ['far in the future', '9999-12-31T23:59:59Z', 0],
])('takes a since %s', async (_case, since, expected) => {
  const response = await server.client(owner.apiKey).GET('/v1/pull-endpoints/{id}/events', {
    params: { path: { id: endpoint.id }, query: { since } },
  });
  expect(response.response.status).toBe(200);
  expect(response.data!.data).toHaveLength(expected);
});
