import type { components } from '../../generated/openapi';
import { sha256Hex } from '../../src/auth/secrets';
import { buildEvents, buildProject, randomId, type TestProject } from '../support/factories';
import { startTestServer, type TestServer } from '../support/server';

type PullEndpointCreate = components['schemas']['PullEndpointCreate'];
const invalid = (body: unknown) => body as PullEndpointCreate;

let server: TestServer;
let owner: TestProject;

beforeAll(async () => {
  server = await startTestServer();
  owner = await buildProject(server.db);
});
afterAll(() => server.close());

const api = () => server.client(owner.apiKey);

async function create(body: PullEndpointCreate = { name: 'orders' }) {
  const { data, response } = await api().POST('/v1/pull-endpoints', { body });
  expect(response.status).toBe(201);
  return data!.data;
}

describe('create', () => {
  it('returns the endpoint with its ingest URL and a secret token of which only a hash is stored', async () => {
    const endpoint = await create({ name: 'orders', description: 'shop', retention_days: 7, event_type_source: 'body', event_type_path: '$.type' });
    expect(endpoint).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'orders',
      description: 'shop',
      retention_days: 7,
      event_type_source: 'body',
      event_type_path: 'type',
      max_deliveries: null,
      mode: 'pull',
      active: true,
      paused: false,
      ingest_url: `http://127.0.0.1/pull/${endpoint.secret_token}`,
      verify_static_token: false,
      token_header_name: null,
      token_query_param: null,
      token_value_set: false,
      verify_hmac: false,
      hmac_scheme: null,
      hmac_header_name: null,
      hmac_secret_set: false,
      timestamp_header_name: null,
      timestamp_ttl_seconds: null,
      verify_ip_allowlist: false,
      allowed_cidrs: [],
      ingest_response_code: 202,
      idempotency_header_names: [],
      created_at: expect.any(String),
      updated_at: expect.any(String),
      secret_token: expect.stringMatching(/^pes_[A-Za-z0-9_-]{32}$/),
    });
    const row = await server.db.pullEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } });
    expect(row.secretTokenHash).toBe(sha256Hex(endpoint.secret_token));
    expect(JSON.stringify(row)).not.toContain(endpoint.secret_token);
  });

  it('defaults to no description, no retention and no event type extraction', async () => {
    const endpoint = await create({ name: 'plain' });
    expect(endpoint).toMatchObject({ description: null, retention_days: null, event_type_source: null, event_type_path: null });
  });

  it('needs no name, as HookBridge\'s clients send none', async () => {
    const endpoint = await create({});
    expect(endpoint).toMatchObject({ name: null, mode: 'pull', active: true, paused: false });
    const { data } = await api().GET('/v1/pull-endpoints/{id}', { params: { path: { id: endpoint.id } } });
    expect(data!.data.name).toBeNull();
  });

  it.each([
    ['an empty name', { name: '' }, /name/],
    ['an unknown field', { name: 'x', colour: 'red' }, /colour|additional/],
    ['retention_days 0', { name: 'x', retention_days: 0 }, /retention_days/],
    ['a body path that is not a dot path', { name: 'x', event_type_source: 'body', event_type_path: 'a..b' }, /event_type_path/],
    ['an event type source without a path', { name: 'x', event_type_source: 'header' }, /event_type_path is required/],
    ['an unknown event type source', { name: 'x', event_type_source: 'json' }, /event_type_source/],
    ['verify_hmac without a secret', { name: 'x', verify_hmac: true, hmac_scheme: 'github' }, /verify_hmac needs hmac_secret/],
    ['the hex scheme without a header', { name: 'x', verify_hmac: true, hmac_secret: 'secret-value' }, /needs hmac_header_name/],
    ['a standard_webhooks secret that is not whsec_ base64', { name: 'x', verify_hmac: true, hmac_scheme: 'standard_webhooks', hmac_secret: 'not base64!' }, /whsec_/],
    ['a static token in both a header and a query parameter', { name: 'x', verify_static_token: true, token_value: 'a-static-token-0123', token_header_name: 'X-T', token_query_param: 't' }, /exactly one/],
    ['a static token shorter than 16 characters', { name: 'x', token_value: 'short' }, /token_value/],
    ['an invalid CIDR', { name: 'x', allowed_cidrs: ['10.0.0.0/33', 'example.com'] }, /not an IP address or CIDR range: 10.0.0.0\/33, example.com/],
    ['an IP allowlist without entries', { name: 'x', verify_ip_allowlist: true }, /allowed_cidrs/],
    ['a response code outside 2xx', { name: 'x', ingest_response_code: 302 }, /ingest_response_code/],
  ])('rejects %s with 400', async (_case, body, message) => {
    const { error, response } = await api().POST('/v1/pull-endpoints', { body: invalid(body) });
    expect(response.status).toBe(400);
    expect(error!.error.message).toMatch(message);
  });
});

describe('list', () => {
  it('pages through the project’s live endpoints in creation order without repeats', async () => {
    const project = await buildProject(server.db);
    const client = server.client(project.apiKey);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { data } = await client.POST('/v1/pull-endpoints', { body: { name: `e${i}` } });
      ids.push(data!.data.id);
    }
    await client.DELETE('/v1/pull-endpoints/{id}', { params: { path: { id: ids[1]! } } });

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    for (;;) {
      const { data } = await client.GET('/v1/pull-endpoints', { params: { query: { limit: 2, ...(cursor && { cursor }) } } });
      seen.push(...data!.data.map((e) => e.id));
      pages += 1;
      if (!data!.meta.has_more) break;
      cursor = data!.meta.next_cursor!;
    }
    expect(seen).toEqual([ids[0], ids[2], ids[3], ids[4]]);
    expect(pages).toBe(2);
  });

  it('rejects a malformed cursor and a cursor of another project’s list with 400', async () => {
    const other = await buildProject(server.db);
    await server.client(other.apiKey).POST('/v1/pull-endpoints', { body: { name: 'a' } });
    const { data } = await server.client(other.apiKey).GET('/v1/pull-endpoints', { params: { query: { limit: 1 } } });
    const foreign = data!.meta.next_cursor!;

    const malformed = await api().GET('/v1/pull-endpoints', { params: { query: { cursor: 'not-a-cursor' } } });
    expect(malformed.response.status).toBe(400);
    expect(malformed.error!.error.message).toMatch(/cursor is malformed/);
    const stolen = await api().GET('/v1/pull-endpoints', { params: { query: { cursor: foreign } } });
    expect(stolen.response.status).toBe(400);
    expect(stolen.error!.error.message).toMatch(/another list/);
  });

  it('rejects a limit out of range', async () => {
    const { response } = await api().GET('/v1/pull-endpoints', { params: { query: { limit: 101 } } });
    expect(response.status).toBe(400);
  });
});

describe('get', () => {
  it('counts live events by status', async () => {
    const endpoint = await create();
    const ids = await buildEvents(server.db, endpoint.id, 6);
    const path = { id: endpoint.id };
    await api().GET('/v1/pull-endpoints/{id}/events/{event_id}', { params: { path: { ...path, event_id: ids[0]! } } });
    await api().POST('/v1/pull-endpoints/{id}/events/ack', { params: { path }, body: { event_ids: [ids[1]!, ids[2]!] } });
    await api().POST('/v1/pull-endpoints/{id}/events/delete-batch', { params: { path }, body: { message_ids: [ids[3]!] } });

    const { data } = await api().GET('/v1/pull-endpoints/{id}', { params: { path } });
    expect(data!.data.counts).toEqual({ stored: 2, fetched: 1, delivered: 2, total: 5 });
  });

  it('answers 404 ENDPOINT_NOT_FOUND for an unknown id', async () => {
    const { error, response } = await api().GET('/v1/pull-endpoints/{id}', { params: { path: { id: randomId() } } });
    expect(response.status).toBe(404);
    expect(error!.error.code).toBe('ENDPOINT_NOT_FOUND');
  });
});

describe('update', () => {
  it('changes only the fields sent, clears with null, and moves updated_at', async () => {
    const endpoint = await create({ name: 'before', description: 'd', retention_days: 3 });
    const { data } = await api().PATCH('/v1/pull-endpoints/{id}', {
      params: { path: { id: endpoint.id } },
      body: { name: 'after', description: null },
    });
    expect(data!.data).toMatchObject({ name: 'after', description: null, retention_days: 3 });
    expect(Date.parse(data!.data.updated_at)).toBeGreaterThanOrEqual(Date.parse(endpoint.updated_at));
  });

  it('rejects an empty patch', async () => {
    const endpoint = await create();
    const { error, response } = await api().PATCH('/v1/pull-endpoints/{id}', { params: { path: { id: endpoint.id } }, body: {} });
    expect(response.status).toBe(400);
    expect(error!.error.message).toMatch(/fewer than 1 properties/);
  });
});

describe('delete', () => {
  it('soft-deletes: afterwards the endpoint and its events answer 404 ENDPOINT_NOT_FOUND', async () => {
    const endpoint = await create();
    const [eventId] = await buildEvents(server.db, endpoint.id, 1);
    const path = { id: endpoint.id };

    const { data } = await api().DELETE('/v1/pull-endpoints/{id}', { params: { path } });
    expect(data!.data).toEqual({ id: endpoint.id, deleted: true, active: false, deleted_at: expect.any(String) });

    const answers = await Promise.all([
      api().GET('/v1/pull-endpoints/{id}', { params: { path } }),
      api().DELETE('/v1/pull-endpoints/{id}', { params: { path } }),
      api().GET('/v1/pull-endpoints/{id}/events', { params: { path } }),
      api().GET('/v1/pull-endpoints/{id}/events/{event_id}', { params: { path: { ...path, event_id: eventId! } } }),
      api().POST('/v1/pull-endpoints/{id}/events/delete-batch', { params: { path }, body: { message_ids: [eventId!] } }),
      api().POST('/v1/pull-endpoints/{id}/pause', { params: { path } }),
    ]);
    for (const { error, response } of answers) {
      expect(response.status).toBe(404);
      expect(error!.error.code).toBe('ENDPOINT_NOT_FOUND');
    }
    const row = await server.db.pullEvent.findFirstOrThrow({ where: { id: eventId! } });
    expect(row.deletedAt).toBeNull();
  });
});

describe('pause and resume', () => {
  it('answers the endpoint with paused set, and is harmless to repeat', async () => {
    const endpoint = await create();
    const path = { id: endpoint.id };
    const paused = await api().POST('/v1/pull-endpoints/{id}/pause', { params: { path } });
    const again = await api().POST('/v1/pull-endpoints/{id}/pause', { params: { path } });
    expect(paused.data!.data).toMatchObject({ paused: true, active: true });
    expect(again.data!.data).toEqual(paused.data!.data);
    const resumed = await api().POST('/v1/pull-endpoints/{id}/resume', { params: { path } });
    expect(resumed.data!.data).toMatchObject({ paused: false, active: true });
  });
});
