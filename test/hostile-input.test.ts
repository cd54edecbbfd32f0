import { createHmac } from 'node:crypto';
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
  ['a delete-all with its filters in a body', 'POST', 'ENDPOINT/events/delete-all', '{"status":"delivered"}', /query parameters and no body/],
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

describe('the ingest URL, as the contract fuzzer found it', () => {
  it('answers a JSON webhook that starts with a byte order mark as base64, so its event stays valid JSON', async () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')]);
    const { body } = await postWebhook(server.baseUrl, endpoint.ingestPath, bytes);
    const answer = await fetch(`${server.baseUrl}/v1/pull-endpoints/${endpoint.id}/events/${body.data.event_id}`, {
      headers: { Authorization: `Bearer ${owner.apiKey}` },
    });
    const event = (await answer.json()) as { data: { payload: string; payload_encoding: string } };
    expect(event.data.payload_encoding).toBe('base64');
    expect(Buffer.from(event.data.payload, 'base64').equals(bytes)).toBe(true);
  });

  it('answers 401 to a token with malformed percent-encoding', async () => {
    expect((await postWebhook(server.baseUrl, '/pull/pes_%E0%A4%A', '{}')).status).toBe(401);
  });

  it.each([
    ['GET', '/pull/TOKEN'],
    ['POST', '/pull/TOKEN/extra'],
    ['POST', '/pull/'],
    ['PUT', '/pull/TOKEN'],
  ])('answers %s %s with 404 whatever its body, without the token in the message', async (method, path) => {
    const response = await fetch(`${server.baseUrl}${path.replace('TOKEN', endpoint.token)}`, {
      method,
      headers: { 'Content-Type': 'application/json' },
      ...(method !== 'GET' && { body: '{not json' }),
    });
    const { error } = (await response.json()) as { error: { code: string; message: string } };
    expect({ status: response.status, code: error.code }).toEqual({ status: 404, code: 'NOT_FOUND' });
    expect(error.message).not.toContain(endpoint.token);
  });

  it('answers 205 without a body when the endpoint is set to 205', async () => {
    const resetting = await buildEndpointWithToken(server.db, owner.projectId, { ingest_response_code: 205 });
    const response = await fetch(`${server.baseUrl}${resetting.ingestPath}`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(205);
    expect(await response.text()).toBe('');
    expect(await server.db.pullEvent.count({ where: { pullEndpointId: resetting.id } })).toBe(1);
  });

  it.each([
    ['a hex digit too many', (hex: string) => `${hex}0`],
    ['a stray base64 character', (hex: string) => `${Buffer.from(hex, 'hex').toString('base64').replace(/=+$/, '')}A`],
  ])('refuses a signature with %s', async (_case, mangle) => {
    const scheme = _case.includes('base64') ? 'base64' : 'hex';
    const signed = await buildEndpointWithToken(server.db, owner.projectId, {
      verify_hmac: true,
      hmac_scheme: scheme,
      hmac_header_name: 'X-Signature',
      hmac_secret: 'a-generic-secret',
    });
    const digest = createHmac('sha256', 'a-generic-secret').update('{}').digest('hex');
    const good = scheme === 'hex' ? digest : Buffer.from(digest, 'hex').toString('base64');
    expect((await postWebhook(server.baseUrl, signed.ingestPath, '{}', { 'X-Signature': good })).status).toBe(202);
    expect((await postWebhook(server.baseUrl, signed.ingestPath, '{}', { 'X-Signature': mangle(digest) })).status).toBe(401);
  });
});

it('answers 415 to a rotate-token body without Content-Type, and rotates nothing', async () => {
  const before = await server.db.pullEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } });
  const response = await fetch(`${server.baseUrl}/v1/pull-endpoints/${endpoint.id}/rotate-token`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${owner.apiKey}` },
    body: new Uint8Array(Buffer.from('{"expire_previous_after_seconds": 60}')),
  });
  expect(response.status).toBe(415);
  expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/missing Content-Type/);
  expect((await server.db.pullEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } })).secretTokenHash).toBe(before.secretTokenHash);
});
