import { randomUUID } from 'node:crypto';
import { sha256Hex } from '../../src/auth/secrets';
import { buildEndpointWithToken, buildProject, type TestProject } from '../support/factories';
import { startTestServer, testSecretBox, type TestServer } from '../support/server';
import { postWebhook } from '../support/webhooks';

let server: TestServer;
let behindProxy: TestServer;
let owner: TestProject;

beforeAll(async () => {
  server = await startTestServer();
  behindProxy = await startTestServer({ db: server.db, trustProxy: 'loopback' });
  owner = await buildProject(server.db);
});
afterAll(async () => {
  await behindProxy.close();
  await server.close();
});

const post = (path: string, body = '{}', headers: Record<string, string> = {}) => postWebhook(server.baseUrl, path, body, headers);
const api = () => server.client(owner.apiKey);
const eventsOf = (endpointId: string) => server.db.pullEvent.findMany({ where: { pullEndpointId: endpointId }, orderBy: { id: 'asc' } });
const reasonsOf = async (endpointId: string) =>
  (await server.db.pullEndpointRejection.findMany({ where: { pullEndpointId: endpointId }, orderBy: { id: 'asc' } })).map((r) => r.reason);

const TOKEN_VALUE = 'a-static-token-of-the-sender';

/** Waits until `count` statements wait for a lock (ingests queued on an endpoint's row lock). */
async function waitForLockWaiters(count: number) {
  for (let attempt = 0; attempt < 200; attempt++) {
    const [row] = await server.db.$queryRaw<{ waiting: number }[]>`
      SELECT count(*)::int AS waiting FROM pg_stat_activity
      WHERE wait_event_type = 'Lock' AND query LIKE '%last_event_id%' AND datname = current_database()`;
    if (row!.waiting >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`fewer than ${count} ingests queued on the endpoint's lock`);
}

describe('static token', () => {
  it('in a header: refuses a missing or wrong one with 401, accepts the right one and never stores it', async () => {
    const endpoint = await buildEndpointWithToken(server.db, owner.projectId, {
      verify_static_token: true,
      token_header_name: 'X-Webhook-Token',
      token_value: TOKEN_VALUE,
    });
    expect((await post(endpoint.ingestPath)).status).toBe(401);
    expect((await post(endpoint.ingestPath, '{}', { 'X-Webhook-Token': `${TOKEN_VALUE}x` })).status).toBe(401);
    const { status } = await post(endpoint.ingestPath, '{}', { 'X-Webhook-Token': TOKEN_VALUE });
    expect(status).toBe(202);

    const [event] = await eventsOf(endpoint.id);
    expect(JSON.stringify(event!.headers)).not.toContain(TOKEN_VALUE);
    expect(await reasonsOf(endpoint.id)).toEqual(['missing_token', 'bad_token']);
    const stored = await server.db.pullEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } });
    expect(stored.tokenValueHash).toBe(sha256Hex(TOKEN_VALUE));
    expect(JSON.stringify(stored)).not.toContain(TOKEN_VALUE);
  });

  it('in a query parameter: removes it from the query string kept with the event and the rejection', async () => {
    const endpoint = await buildEndpointWithToken(server.db, owner.projectId, {
      verify_static_token: true,
      token_query_param: 'key',
      token_value: TOKEN_VALUE,
    });
    expect((await post(`${endpoint.ingestPath}?source=shop&key=wrong-token-value-0000`)).status).toBe(401);
    expect((await post(`${endpoint.ingestPath}?source=shop&key=${TOKEN_VALUE}&n=1`)).status).toBe(202);

    expect((await eventsOf(endpoint.id)).map((e) => e.queryString)).toEqual(['source=shop&n=1']);
    const [rejection] = await server.db.pullEndpointRejection.findMany({ where: { pullEndpointId: endpoint.id } });
    expect(rejection).toMatchObject({ reason: 'bad_token', queryString: 'source=shop' });
  });
});

describe('IP allowlist', () => {
  it('accepts senders inside allowed_cidrs (IPv4, IPv4-mapped IPv6) and refuses others with 403', async () => {
    const open = await buildEndpointWithToken(server.db, owner.projectId, { verify_ip_allowlist: true, allowed_cidrs: ['10.0.0.0/8', '127.0.0.1'] });
    const closed = await buildEndpointWithToken(server.db, owner.projectId, { verify_ip_allowlist: true, allowed_cidrs: ['192.0.2.0/24', '2001:db8::/32'] });
    // The test connects from 127.0.0.1, which Node reports as ::ffff:127.0.0.1 on a dual-stack socket.
    expect((await post(open.ingestPath)).status).toBe(202);
    const { status, body } = await post(closed.ingestPath);
    expect(status).toBe(403);
    expect(body.error.code).toBe('FORBIDDEN');
    const [rejection] = await server.db.pullEndpointRejection.findMany({ where: { pullEndpointId: closed.id } });
    expect(rejection).toMatchObject({ reason: 'ip_not_allowed', sourceIp: '127.0.0.1' });
  });

  it('believes X-Forwarded-For only from a proxy TRUST_PROXY names', async () => {
    const endpoint = await buildEndpointWithToken(server.db, owner.projectId, { verify_ip_allowlist: true, allowed_cidrs: ['2001:db8::/32'] });
    const forwarded = { 'X-Forwarded-For': '2001:db8::7' };
    expect((await post(endpoint.ingestPath, '{}', forwarded)).status).toBe(403);
    expect((await postWebhook(behindProxy.baseUrl, endpoint.ingestPath, '{}', forwarded)).status).toBe(202);
    expect((await postWebhook(behindProxy.baseUrl, endpoint.ingestPath, '{}', { 'X-Forwarded-For': '198.51.100.1' })).status).toBe(403);
  });
});

describe('idempotency', () => {
  it('stores one event for 50 concurrent duplicates, and every answer carries its id', async () => {
    const endpoint = await buildEndpointWithToken(server.db, owner.projectId, { idempotency_header_names: ['X-Delivery', 'X-Attempt-Group'] });
    const answers = await Promise.all(Array.from({ length: 50 }, () => post(endpoint.ingestPath, '{"a":1}', { 'X-Delivery': 'd-1' })));

    const events = await eventsOf(endpoint.id);
    expect(events).toHaveLength(1);
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(202));
    expect(new Set(answers.map((a) => a.body.data.event_id))).toEqual(new Set([events[0]!.id]));
    expect(answers.filter((a) => !a.body.data.duplicate)).toHaveLength(1);
  });

  it('keys on the values of the headers present, in order; none present means no dedupe', async () => {
    const endpoint = await buildEndpointWithToken(server.db, owner.projectId, { idempotency_header_names: ['X-Delivery', 'X-Attempt-Group'] });
    await post(endpoint.ingestPath, '{}', { 'X-Delivery': 'd-1' });
    await post(endpoint.ingestPath, '{}', { 'X-Delivery': 'd-1', 'X-Attempt-Group': 'g' });
    await post(endpoint.ingestPath, '{}', { 'X-Delivery': 'd-2' });
    await post(endpoint.ingestPath);
    await post(endpoint.ingestPath);
    const again = await post(endpoint.ingestPath, '{}', { 'x-delivery': 'd-1' });
    expect(again.body.data.duplicate).toBe(true);
    expect(await eventsOf(endpoint.id)).toHaveLength(5);
  });
});

describe('rotate-token', () => {
  const rotate = (id: string, seconds?: number) =>
    api().POST('/v1/pull-endpoints/{id}/rotate-token', {
      params: { path: { id } },
      ...(seconds !== undefined && { body: { expire_previous_after_seconds: seconds } }),
    });

  it('answers the new token and URL once; the old token stops at once by default', async () => {
    const endpoint = await buildEndpointWithToken(server.db, owner.projectId);
    const { data, response } = await rotate(endpoint.id);
    expect(response.status).toBe(200);
    const token = data!.data.secret_token;
    expect(data!.data).toMatchObject({ ingest_url: `http://127.0.0.1/pull/${token}`, previous_token_expires_at: null });
    expect(token).not.toBe(endpoint.token);
    expect((await post(endpoint.ingestPath)).status).toBe(401);
    expect((await post(`/pull/${token}`)).status).toBe(202);
    const read = await api().GET('/v1/pull-endpoints/{id}', { params: { path: { id: endpoint.id } } });
    expect(read.data!.data.ingest_url).toBe('http://127.0.0.1/pull');
  });

  it('keeps the previous token working for the overlap, and a token two rotations old not at all', async () => {
    const endpoint = await buildEndpointWithToken(server.db, owner.projectId);
    const first = (await rotate(endpoint.id, 3600)).data!.data;
    expect(Date.parse(first.previous_token_expires_at!)).toBeGreaterThan(Date.now() + 3_500_000);
    expect((await post(endpoint.ingestPath)).status).toBe(202);
    expect((await post(`/pull/${first.secret_token}`)).status).toBe(202);

    const second = (await rotate(endpoint.id, 3600)).data!.data;
    expect((await post(endpoint.ingestPath)).status).toBe(401);
    expect((await post(`/pull/${first.secret_token}`)).status).toBe(202);
    expect((await post(`/pull/${second.secret_token}`)).status).toBe(202);
  });

  it('loses no webhook racing a rotation, and accepts none on the old token once the rotation committed', async () => {
    const endpoint = await buildEndpointWithToken(server.db, owner.projectId);
    const before = await Promise.all(Array.from({ length: 10 }, (_, i) => post(endpoint.ingestPath, JSON.stringify({ i }))));
    // Hold the endpoint's row lock, let 5 webhooks pass their token check and queue on it, then
    // rotate the token in the lock holder's transaction: they wake up after the rotation committed.
    const holder = await server.db.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT 1 FROM pull_endpoints WHERE id = ${endpoint.id}::uuid FOR NO KEY UPDATE`;
      const queued = Array.from({ length: 5 }, (_, i) => post(endpoint.ingestPath, JSON.stringify({ queued: i })));
      await waitForLockWaiters(5);
      await tx.$executeRaw`UPDATE pull_endpoints SET secret_token_hash = ${sha256Hex('pes_rotated')} WHERE id = ${endpoint.id}::uuid`;
      return queued;
    });
    const after = await Promise.all(holder);

    expect(before.map((a) => a.status)).toEqual(Array(10).fill(202));
    expect(after.map((a) => a.status)).toEqual(Array(5).fill(401));
    expect((await eventsOf(endpoint.id)).map((e) => e.id)).toEqual(before.map((a) => a.body.data.event_id).sort());
    expect((await post('/pull/pes_rotated')).status).toBe(202);
  });

  it('answers 404 for an endpoint of another project and 400 for an overlap over 7 days', async () => {
    const endpoint = await buildEndpointWithToken(server.db, (await buildProject(server.db)).projectId);
    expect((await rotate(endpoint.id)).response.status).toBe(404);
    const mine = await buildEndpointWithToken(server.db, owner.projectId);
    const { response, error } = await rotate(mine.id, 604_801);
    expect(response.status).toBe(400);
    expect(error!.error.message).toMatch(/expire_previous_after_seconds/);
  });
});

describe('rejections', () => {
  it('lists refused webhooks newest first with reason, time, address and headers without credentials, never the body', async () => {
    const endpoint = await buildEndpointWithToken(server.db, owner.projectId, {
      verify_hmac: true,
      hmac_scheme: 'github',
      hmac_secret: 'a-github-secret',
    });
    await post(`${endpoint.ingestPath}?attempt=1`, '{"secret-body": 1}', { 'X-Hub-Signature-256': 'sha256=00', Cookie: 'c=1' });
    await post(endpoint.ingestPath, '{"secret-body": 2}');
    await api().POST('/v1/pull-endpoints/{id}/pause', { params: { path: { id: endpoint.id } } });
    await post(endpoint.ingestPath, '{"secret-body": 3}');

    const { data } = await api().GET('/v1/pull-endpoints/{id}/rejections', { params: { path: { id: endpoint.id }, query: { limit: 2 } } });
    expect(data!.data.map((r) => r.reason)).toEqual(['paused', 'missing_signature']);
    expect(data!.meta.has_more).toBe(true);
    const rest = await api().GET('/v1/pull-endpoints/{id}/rejections', {
      params: { path: { id: endpoint.id }, query: { limit: 2, cursor: data!.meta.next_cursor! } },
    });
    const [first] = rest.data!.data;
    expect(first).toMatchObject({
      reason: 'bad_signature',
      method: 'POST',
      query_string: 'attempt=1',
      content_type: 'application/json',
      size_bytes: 18,
      source_ip: '127.0.0.1',
    });
    expect(first!.headers['x-hub-signature-256']).toBe('sha256=00');
    expect(first!.headers.cookie).toBeUndefined();
    expect(rest.data!.meta.has_more).toBe(false);
    expect(JSON.stringify([data, rest.data])).not.toContain('secret-body');
  });

  it('records nothing for an unknown token and answers 404 for another project\'s endpoint', async () => {
    // Other test files record rejections meanwhile: this one is told apart by a header of its own.
    const marker = randomUUID();
    expect((await post('/pull/pes_nobody_has_this_token', '{}', { 'X-Test-Marker': marker })).status).toBe(401);
    const marked = (value: string) => server.db.pullEndpointRejection.count({ where: { headers: { path: ['x-test-marker'], equals: value } } });
    expect(await marked(marker)).toBe(0);
    // The same look-up finds the marker on a webhook a known endpoint refused.
    const guarded = await buildEndpointWithToken(server.db, owner.projectId, { verify_static_token: true, token_value: TOKEN_VALUE, token_header_name: 'X-Token' });
    const refusedMarker = randomUUID();
    expect((await post(guarded.ingestPath, '{}', { 'X-Test-Marker': refusedMarker })).status).toBe(401);
    expect(await marked(refusedMarker)).toBe(1);
    const other = await buildEndpointWithToken(server.db, (await buildProject(server.db)).projectId);
    const { response } = await api().GET('/v1/pull-endpoints/{id}/rejections', { params: { path: { id: other.id } } });
    expect(response.status).toBe(404);
  });
});

it('stores the HMAC secret only encrypted, and never returns it', async () => {
  const secret = 'whsec_c2VjcmV0LXRoYXQtbXVzdC1zdGF5LWhpZGRlbg==';
  const { data } = await api().POST('/v1/pull-endpoints', {
    body: { name: 'signed', verify_hmac: true, hmac_scheme: 'standard_webhooks', hmac_secret: secret },
  });
  expect(data!.data).toMatchObject({ hmac_secret_set: true, hmac_header_name: 'webhook-signature', timestamp_header_name: 'webhook-timestamp', timestamp_ttl_seconds: 300 });
  expect(JSON.stringify(data)).not.toContain(secret);
  const row = await server.db.pullEndpoint.findUniqueOrThrow({ where: { id: data!.data.id } });
  expect(row.hmacSecretEncrypted).toMatch(/^v1\.test\./);
  expect(JSON.stringify(row)).not.toContain(secret);
  expect(JSON.stringify(row)).not.toContain(Buffer.from(secret).toString('base64'));
});

describe('settings changed while a replica holds the endpoint in its cache', () => {
  it('applies a change at once: a new check, a pause, a lifted allowlist, a rotation', async () => {
    const endpoint = await buildEndpointWithToken(server.db, owner.projectId, { verify_ip_allowlist: true, allowed_cidrs: ['192.0.2.0/24'] });
    const patch = (body: Parameters<ReturnType<typeof api>['PATCH']>[1]['body']) =>
      api().PATCH('/v1/pull-endpoints/{id}', { params: { path: { id: endpoint.id } }, body });

    expect((await post(endpoint.ingestPath)).status).toBe(403);
    await patch({ verify_ip_allowlist: false });
    expect((await post(endpoint.ingestPath)).status).toBe(202);

    await patch({ verify_hmac: true, hmac_scheme: 'github', hmac_secret: 'a-secret-set-later' });
    expect((await post(endpoint.ingestPath)).status).toBe(401);

    await patch({ verify_hmac: false });
    expect((await post(endpoint.ingestPath)).status).toBe(202);
    await api().POST('/v1/pull-endpoints/{id}/pause', { params: { path: { id: endpoint.id } } });
    expect((await post(endpoint.ingestPath)).status).toBe(503);
    await api().POST('/v1/pull-endpoints/{id}/resume', { params: { path: { id: endpoint.id } } });
    expect((await post(endpoint.ingestPath)).status).toBe(202);
    await api().POST('/v1/pull-endpoints/{id}/rotate-token', { params: { path: { id: endpoint.id } } });
    expect((await post(endpoint.ingestPath)).status).toBe(401);

    expect(await eventsOf(endpoint.id)).toHaveLength(3);
    expect(await reasonsOf(endpoint.id)).toEqual(['ip_not_allowed', 'missing_signature', 'paused']);
  });

  it('never stores a webhook under settings replaced between its check and its store', async () => {
    const endpoint = await buildEndpointWithToken(server.db, owner.projectId);
    expect((await post(endpoint.ingestPath)).status).toBe(202);
    // The webhook passes the (cached, open) settings, then waits for the row lock while HMAC is turned on.
    const { pending } = await server.db.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT 1 FROM pull_endpoints WHERE id = ${endpoint.id}::uuid FOR NO KEY UPDATE`;
      const webhook = post(endpoint.ingestPath, '{"unsigned":true}');
      await waitForLockWaiters(1);
      await tx.$executeRaw`
        UPDATE pull_endpoints SET verify_hmac = true, hmac_scheme = 'github', hmac_secret_encrypted = ${testSecretBox().seal('turned-on-now')},
          config_version = config_version + 1
        WHERE id = ${endpoint.id}::uuid`;
      return { pending: webhook };
    });
    expect((await pending).status).toBe(401);
    expect(await eventsOf(endpoint.id)).toHaveLength(1);
    expect(await reasonsOf(endpoint.id)).toEqual(['missing_signature']);
  });
});
