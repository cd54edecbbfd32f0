import { buildEndpointWithToken, buildEvents, buildProject, type TestProject } from './support/factories';
import { startTestServer, type TestServer } from './support/server';
import { postWebhook } from './support/webhooks';

// Regressions for what the contract fuzzer (test/fuzz) found: each of these once answered 500,
// or was accepted where it should have been refused.
let server: TestServer;
let owner: TestProject;
let endpoint: { id: string; token: string; ingestPath: string };

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
  ['an empty patch body', 'PATCH', 'ENDPOINT', '', /body is required/],
  ['an empty delete-all body', 'POST', 'ENDPOINT/events/delete-all', '', /body is required/],
])('answers 400 to %s and stores nothing', async (_case, method, path, body, message) => {
  const before = await eventCount();
  const target = path.replace('ENDPOINT', `/v1/pull-endpoints/${endpoint.id}`);
  const { status, message: answer } = await send(method, target, body);
  expect({ status, answer }).toEqual({ status: 400, answer: expect.stringMatching(message) });
  expect(await eventCount()).toBe(before);
});

// A webhook is the sender's, not ours to judge: what an API body may not hold is stored as it came.
it.each([
  ['a NUL in a key', '{"\\u0000":1}', 'json'],
  ['a NUL in a string', '{"a":"\\u0000"}', 'json'],
  ['nesting 5,000 deep', `${'['.repeat(5000)}${']'.repeat(5000)}`, 'json'],
  ['bytes that are not UTF-8', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]), 'base64'],
  ['no body at all', '', 'base64'],
])('stores a webhook with %s byte for byte and answers it back', async (_case, body, encoding) => {
  const { status, body: answer } = await postWebhook(server.baseUrl, endpoint.ingestPath, body);
  expect(status).toBe(202);
  const path = { id: endpoint.id, event_id: answer.data.event_id };
  const event = await server.client(owner.apiKey).GET('/v1/pull-endpoints/{id}/events/{event_id}', { params: { path } });
  expect(event.data!.data.payload_encoding).toBe(encoding);
  const raw = await fetch(`${server.baseUrl}/v1/pull-endpoints/${endpoint.id}/events/${answer.data.event_id}/payload`, {
    headers: { Authorization: `Bearer ${owner.apiKey}` },
  });
  expect(Buffer.from(await raw.arrayBuffer()).equals(Buffer.from(body))).toBe(true);
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
