/**
 * HookBridge compatibility: every pull operation sent exactly as HookBridge's docs and SDKs send
 * it (raw HTTP, no typed client of ours), and every answer decoded strictly into HookBridge's
 * types (./hookbridge-types.ts, which cites where each field's type comes from). Written from
 * /work/shared/reference/hookbridge-pull.md, pull-api.md, the seed page and HookBridge's SDKs
 * (hookbridge-go client.go/types.go, hookbridge-php ParityResponses.php/SpecParityTest.php); never
 * from our openapi.yaml. A renamed, retyped or dropped field fails here.
 */
import net from 'node:net';
import { buildProject, randomId, type TestProject } from '../support/factories';
import { rememberSecret } from '../support/log-scan';
import { startTestServer, type TestServer } from '../support/server';
import {
  AckResult,
  CreatedPullEndpoint,
  decode,
  decodeEnvelope,
  decodeError,
  decodeList,
  decodeProblems,
  DeleteAllResult,
  DeleteBatchResult,
  DeletedPullEventPreview,
  DeleteEventResult,
  DeleteResult,
  IngestAnswer,
  PauseState,
  PullEndpoint,
  PullEndpointSummary,
  PullEndpointWithCounts,
  PullEventDetail,
  PullEventSummary,
  PullLogEntry,
  PullMetrics,
  PullTimeSeries,
} from './hookbridge-types';

// ---------------------------------------------------------------------------------------------
// The service behind a public ingest host: create must answer an ingest URL a provider can post
// to as it is, so the service is told its public ingest base is a forwarder that relays raw TCP
// to it (the test server's port is only known once it listens).
// ---------------------------------------------------------------------------------------------

let server: TestServer;
let forwarder: net.Server;
let ingestBase: string;
let project: TestProject;
const sockets = new Set<net.Socket>();

beforeAll(async () => {
  let upstreamPort = 0;
  forwarder = net.createServer((client) => {
    const upstream = net.connect(upstreamPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => forwarder.listen(0, '127.0.0.1', resolve));
  ingestBase = `http://127.0.0.1:${(forwarder.address() as net.AddressInfo).port}`;
  server = await startTestServer({ ingestBaseUrl: ingestBase });
  upstreamPort = Number(new URL(server.baseUrl).port);
  project = await buildProject(server.db, 'hookbridge client');
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => forwarder.close(() => resolve()));
  await server.close();
});

// ---------------------------------------------------------------------------------------------
// Requests as HookBridge's Go SDK (client.go, doWithBaseURL) sends them: `Authorization: Bearer`,
// its User-Agent, and `Content-Type: application/json` only when there is a body. Paths and query
// strings are sent byte for byte as written here.
// ---------------------------------------------------------------------------------------------

interface Answer {
  status: number;
  body: unknown;
  text: string;
}

async function call(method: string, path: string, options: { body?: unknown; apiKey?: string | null } = {}): Promise<Answer> {
  const apiKey = options.apiKey === undefined ? project.apiKey : options.apiKey;
  const headers: Record<string, string> = { 'User-Agent': 'hookbridge-go/1.5.0' };
  if (apiKey !== null) headers.Authorization = `Bearer ${apiKey}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['Content-Type'] = 'application/json';
  }
  const response = await fetch(`${server.baseUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, body: json, text };
}

/** The answer's body, after checking its status (a failure shows what came back instead). */
function expectStatus(answer: Answer, status: number): unknown {
  if (answer.status !== status) throw new Error(`expected HTTP ${status}, got ${answer.status}: ${answer.text.slice(0, 1000)}`);
  return answer.body;
}

/** An error answer: status, `{error: {code, message}, meta: {request_id}}`, and its code. */
function expectError(answer: Answer, status: number, code: string) {
  const error = decodeError(expectStatus(answer, status));
  expect(error.code).toBe(code);
  expect(error.message.length).toBeGreaterThan(0);
  return error;
}

/** A webhook as a provider sends it: a POST of the raw body to the ingest URL, nothing else. */
async function postWebhook(url: string, body: string | Buffer, headers: Record<string, string> = { 'Content-Type': 'application/json' }): Promise<Answer> {
  const response = await fetch(url, { method: 'POST', headers, body });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined, text };
}

async function ingest(url: string, payload: unknown, headers: Record<string, string> = {}) {
  const answer = await postWebhook(url, JSON.stringify(payload), { 'Content-Type': 'application/json', ...headers });
  if (answer.status !== 202) throw new Error(`ingest answered ${answer.status}: ${answer.text}`);
  return decodeEnvelope(IngestAnswer, answer.body);
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Go's `time.Format(time.RFC3339)`: whole seconds, UTC as `Z`. */
const goRfc3339 = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

type Created = ReturnType<typeof decodeCreated>;
function decodeCreated(body: unknown) {
  const created = decodeEnvelope(CreatedPullEndpoint, body);
  rememberSecret(created.secret_token);
  return created;
}

async function createEndpoint(body: Record<string, unknown> = { name: 'Stripe Pull' }, apiKey = project.apiKey): Promise<Created> {
  return decodeCreated(expectStatus(await call('POST', '/v1/pull-endpoints', { body, apiKey }), 201));
}

const eventsPath = (endpointId: string) => `/v1/pull-endpoints/${endpointId}/events`;

async function getEvent(endpointId: string, eventId: string, query = '') {
  return decodeEnvelope(PullEventDetail, expectStatus(await call('GET', `${eventsPath(endpointId)}/${eventId}${query}`), 200));
}

async function listEvents(endpointId: string, query = '') {
  return decodeList(PullEventSummary, expectStatus(await call('GET', `${eventsPath(endpointId)}${query}`), 200));
}

async function ack(endpointId: string, eventIds: string[]) {
  return decodeEnvelope(AckResult, expectStatus(await call('POST', `${eventsPath(endpointId)}/ack`, { body: { event_ids: eventIds } }), 200));
}

async function deleteEvent(endpointId: string, eventId: string) {
  return decodeEnvelope(DeleteEventResult, expectStatus(await call('DELETE', `${eventsPath(endpointId)}/${eventId}`), 200));
}

async function getEndpoint(endpointId: string) {
  return decodeEnvelope(PullEndpointWithCounts, expectStatus(await call('GET', `/v1/pull-endpoints/${endpointId}`), 200));
}

/** An endpoint with `count` events received through its ingest URL, oldest first. */
async function endpointWithEvents(count: number, settings: Record<string, unknown> = { name: 'Stripe Pull' }) {
  const endpoint = await createEndpoint(settings);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    ids.push((await ingest(endpoint.ingest_url, { id: `evt_${i}`, type: 'payment_intent.succeeded' })).event_id);
    await pause(3); // distinct receive milliseconds, so time filters can tell them apart
  }
  return { endpoint, ids };
}

// ---------------------------------------------------------------------------------------------

describe('the decoders', () => {
  it('refuse a missing field, a renamed one and a wrong type: they are what the rest of the suite relies on', () => {
    const event = {
      id: randomId(),
      event_type: null,
      status: 'stored',
      size_bytes: 12,
      received_at: '2026-03-01T00:00:00.000Z',
      fetched_at: null,
      delivered_at: null,
      timing: { ingest_processing_ms: 1, time_to_fetch_ms: null, time_to_ack_ms: null, total_lifecycle_ms: null },
    };
    expect(decodeProblems(PullEventSummary, event)).toEqual([]);
    const { size_bytes, ...withoutSize } = event;
    expect(decodeProblems(PullEventSummary, withoutSize)).toEqual(['$.size_bytes: missing']);
    expect(decodeProblems(PullEventSummary, { ...withoutSize, sizeBytes: size_bytes })).toEqual(['$.size_bytes: missing']);
    expect(decodeProblems(PullEventSummary, { ...event, size_bytes: 12.5 })).toEqual(['$.size_bytes: expected int, got number 12.5']);
    expect(decodeProblems(PullEventSummary, { ...event, received_at: 'yesterday' })).toHaveLength(1);
    expect(decodeProblems(PullEventSummary, { ...event, timing: { ...event.timing, time_to_ack_ms: '3' } })).toEqual([
      '$.timing.time_to_ack_ms: expected int|null, got string "3"',
    ]);
    expect(decodeProblems(PullEventSummary, { ...event, status: 'queued' })).toHaveLength(1);
    const endpointSource = decodeProblems({ event_type_source: PullEndpoint.event_type_source }, { event_type_source: { source: 'body' } });
    expect(endpointSource).toEqual(['$.event_type_source: expected one of body | header | null, got object']);
    expect(decodeProblems(PauseState, { id: randomId() })).toEqual(['$.paused: missing']);
    expect(() => decode(PauseState, { id: randomId(), paused: 'false' })).toThrow('$.paused: expected bool');
  });
});

describe('POST /v1/pull-endpoints (create)', () => {
  it('creates from only a name and answers 201 with the endpoint, an ingest URL carrying the token, and the token', async () => {
    const created = await createEndpoint({ name: 'Stripe Pull' });
    expect(created).toMatchObject({
      name: 'Stripe Pull',
      mode: 'pull',
      active: true,
      paused: false,
      retention_days: null,
      event_type_source: null,
      event_type_path: null,
      verify_static_token: false,
      verify_hmac: false,
      verify_ip_allowlist: false,
      ingest_response_code: 202,
    });
    expect(created.secret_token.length).toBeGreaterThanOrEqual(22); // >= 128 random bits in any text encoding
    expect(created.ingest_url).toBe(`${ingestBase}/pull/${created.secret_token}`);
    expect(created.ingest_url).toContain(`/pull/${created.secret_token}`);
    expect(Date.parse(created.updated_at)).toBeGreaterThanOrEqual(Date.parse(created.created_at));
  });

  it('creates from an empty body, as the Go SDK sends CreatePullEndpointRequest{} (every field omitempty)', async () => {
    const created = await createEndpoint({});
    expect(created.name).toBeNull();
    expect(created.mode).toBe('pull');
    expect(created.ingest_url.endsWith(`/pull/${created.secret_token}`)).toBe(true);
  });

  it('takes the settings the PHP SDK sends (SpecParityTest) and echoes them, never the token value', async () => {
    rememberSecret('secret-token-value');
    const answer = await call('POST', '/v1/pull-endpoints', {
      body: {
        name: 'Stripe Pull',
        description: 'Stores provider events for polling',
        retention_days: 14,
        event_type_source: 'body',
        event_type_path: 'type',
        verify_static_token: true,
        token_header_name: 'X-Webhook-Token',
        token_value: 'secret-token-value',
        idempotency_header_names: ['X-Idempotency-Key'],
        ingest_response_code: 202,
      },
    });
    const created = decodeCreated(expectStatus(answer, 201));
    expect(created).toMatchObject({
      description: 'Stores provider events for polling',
      retention_days: 14,
      event_type_source: 'body',
      event_type_path: 'type',
      verify_static_token: true,
      token_header_name: 'X-Webhook-Token',
      idempotency_header_names: ['X-Idempotency-Key'],
      ingest_response_code: 202,
    });
    expect(answer.text).not.toContain('secret-token-value');
  });
});

describe('GET /v1/pull-endpoints (list)', () => {
  it('lists PullEndpointSummary items without the token in ingest_url, paged by limit and meta.next_cursor', async () => {
    const owner = await buildProject(server.db, 'hookbridge list');
    const ids: string[] = [];
    for (const name of ['one', 'two', 'three']) ids.push((await createEndpoint({ name }, owner.apiKey)).id);

    const first = decodeList(PullEndpointSummary, expectStatus(await call('GET', '/v1/pull-endpoints?limit=2', { apiKey: owner.apiKey }), 200));
    expect(first.items).toHaveLength(2);
    expect(first.hasMore).toBe(true);
    expect(first.nextCursor).toEqual(expect.any(String));
    for (const item of first.items) {
      expect(item.ingest_url).toBe(`${ingestBase}/pull`);
      expect(item).toMatchObject({ active: true, paused: false });
    }
    const rest = decodeList(
      PullEndpointSummary,
      expectStatus(await call('GET', `/v1/pull-endpoints?limit=2&cursor=${encodeURIComponent(first.nextCursor!)}`, { apiKey: owner.apiKey }), 200),
    );
    expect(rest.hasMore).toBe(false);
    expect([...first.items, ...rest.items].map((e) => e.id).sort()).toEqual([...ids].sort());
    expect([...first.items, ...rest.items].map((e) => e.name).sort()).toEqual(['one', 'three', 'two']);
  });
});

describe('GET /v1/pull-endpoints/{id}', () => {
  it('answers the endpoint without the token and counts {stored, fetched, delivered, total} of live events', async () => {
    const { endpoint, ids } = await endpointWithEvents(4);
    const fresh = await getEndpoint(endpoint.id);
    expect(fresh.ingest_url).toBe(`${ingestBase}/pull`);
    expect(JSON.stringify(fresh)).not.toContain(endpoint.secret_token);
    expect(fresh.counts).toEqual({ stored: 4, fetched: 0, delivered: 0, total: 4 });

    await getEvent(endpoint.id, ids[0]!);
    await ack(endpoint.id, [ids[1]!]);
    await deleteEvent(endpoint.id, ids[2]!);
    const { counts } = await getEndpoint(endpoint.id);
    expect(counts).toEqual({ stored: 1, fetched: 1, delivered: 1, total: 3 });
    expect(counts.total).toBe(counts.stored + counts.fetched + counts.delivered);
  });

  it('answers 404 ENDPOINT_NOT_FOUND for an unknown id and for another project’s endpoint', async () => {
    expectError(await call('GET', `/v1/pull-endpoints/${randomId()}`), 404, 'ENDPOINT_NOT_FOUND');
    const stranger = await buildProject(server.db, 'hookbridge stranger');
    const theirs = await createEndpoint({ name: 'theirs' }, stranger.apiKey);
    expectError(await call('GET', `/v1/pull-endpoints/${theirs.id}`), 404, 'ENDPOINT_NOT_FOUND');
  });
});

describe('PATCH /v1/pull-endpoints/{id}', () => {
  it('updates what the PHP SDK sends ({name, retention_days}) and answers the whole endpoint', async () => {
    const created = await createEndpoint({ name: 'Stripe Pull' });
    const updated = decodeEnvelope(
      PullEndpoint,
      expectStatus(await call('PATCH', `/v1/pull-endpoints/${created.id}`, { body: { name: 'Stripe Pull Renamed', retention_days: 21 } }), 200),
    );
    expect(updated).toMatchObject({ id: created.id, name: 'Stripe Pull Renamed', retention_days: 21, mode: 'pull', paused: false });
    expect(updated.ingest_url).toBe(`${ingestBase}/pull`);
    expect(Date.parse(updated.updated_at)).toBeGreaterThanOrEqual(Date.parse(created.updated_at));
  });

  it('sets event_type_source/path and clears the source with "" (reads back null, not an object or "")', async () => {
    const created = await createEndpoint({ name: 'typed' });
    const set = decodeEnvelope(
      PullEndpoint,
      expectStatus(await call('PATCH', `/v1/pull-endpoints/${created.id}`, { body: { event_type_source: 'header', event_type_path: 'X-Event-Type' } }), 200),
    );
    expect(set).toMatchObject({ event_type_source: 'header', event_type_path: 'X-Event-Type' });
    const cleared = decodeEnvelope(PullEndpoint, expectStatus(await call('PATCH', `/v1/pull-endpoints/${created.id}`, { body: { event_type_source: '' } }), 200));
    expect(cleared.event_type_source).toBeNull();
    expect((await getEndpoint(created.id)).event_type_source).toBeNull();
  });
});

describe('DELETE /v1/pull-endpoints/{id}', () => {
  it('answers {id, deleted: true}; the endpoint is then 404 ENDPOINT_NOT_FOUND and its ingest URL 401', async () => {
    const created = await createEndpoint({ name: 'doomed' });
    const deleted = decodeEnvelope(DeleteResult, expectStatus(await call('DELETE', `/v1/pull-endpoints/${created.id}`), 200));
    expect(deleted).toMatchObject({ id: created.id, deleted: true });
    expectError(await call('GET', `/v1/pull-endpoints/${created.id}`), 404, 'ENDPOINT_NOT_FOUND');
    expectError(await call('DELETE', `/v1/pull-endpoints/${created.id}`), 404, 'ENDPOINT_NOT_FOUND');
    const webhook = await postWebhook(created.ingest_url, '{}');
    expect(webhook.status).toBe(401);
    expect(decodeError(webhook.body).code).toBe('UNAUTHORIZED');
    const listed = decodeList(PullEndpointSummary, expectStatus(await call('GET', '/v1/pull-endpoints?limit=100'), 200));
    expect(listed.items.map((e) => e.id)).not.toContain(created.id);
  });
});

describe('POST /v1/pull-endpoints/{id}/pause and /resume', () => {
  it('pause answers paused: true and ingest then answers 503 storing nothing; resume answers paused: false', async () => {
    const created = await createEndpoint({ name: 'pausable' });
    const paused = decodeEnvelope(PauseState, expectStatus(await call('POST', `/v1/pull-endpoints/${created.id}/pause`), 200));
    expect(paused).toEqual(expect.objectContaining({ id: created.id, paused: true }));
    expect((await getEndpoint(created.id)).paused).toBe(true);
    expect((await postWebhook(created.ingest_url, '{"id":"evt_paused"}')).status).toBe(503);
    expect((await listEvents(created.id, '?status=any')).items).toEqual([]);

    const resumed = decodeEnvelope(PauseState, expectStatus(await call('POST', `/v1/pull-endpoints/${created.id}/resume`), 200));
    expect(resumed).toEqual(expect.objectContaining({ id: created.id, paused: false }));
    expect((await getEndpoint(created.id)).paused).toBe(false);
    await ingest(created.ingest_url, { id: 'evt_resumed' });
    expect((await listEvents(created.id)).items).toHaveLength(1);
  });
});

describe('the ingest URL (POST <ingest_url>)', () => {
  it('takes a JSON webhook posted to the URL create answered and answers 202 {data: {event_id, received_at}, meta}', async () => {
    const created = await createEndpoint({ name: 'ingest' });
    const raw = '{"id":"evt_1","type":"payment_intent.succeeded","note":"café"}';
    const answer = await postWebhook(created.ingest_url, raw);
    expect(answer.status).toBe(202);
    const data = decodeEnvelope(IngestAnswer, answer.body);

    const [listed] = (await listEvents(created.id)).items;
    expect(listed).toMatchObject({ id: data.event_id, received_at: data.received_at, size_bytes: Buffer.byteLength(raw), status: 'stored' });
  });

  it('places a JSON payload in the answer as the exact text received (big numbers, decimals, key order)', async () => {
    const created = await createEndpoint({ name: 'exact' });
    const raw = '{"z":1,"id":9007199254740993,"amount":1.10,"a":"ünï"}';
    const { body } = await postWebhook(created.ingest_url, raw);
    const { event_id } = decodeEnvelope(IngestAnswer, body);
    const answer = await call('GET', `${eventsPath(created.id)}/${event_id}`);
    expect(answer.text).toContain(`"payload":${raw}`);
  });

  it('stores a duplicate by idempotency_header_names once and answers the original event_id', async () => {
    const created = await createEndpoint({ name: 'dedupe', idempotency_header_names: ['X-Idempotency-Key'] });
    const first = await ingest(created.ingest_url, { id: 'evt_1' }, { 'X-Idempotency-Key': 'key-1' });
    const again = await ingest(created.ingest_url, { id: 'evt_1' }, { 'X-Idempotency-Key': 'key-1' });
    expect(again.event_id).toBe(first.event_id);
    expect((await listEvents(created.id)).items.map((e) => e.id)).toEqual([first.event_id]);
  });

  it('writes timestamps as RFC 3339 UTC with milliseconds', async () => {
    const created = await createEndpoint({ name: 'clock' });
    const { received_at, event_id } = await ingest(created.ingest_url, {});
    const event = await getEvent(created.id, event_id);
    const utcMillis = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
    for (const value of [created.created_at, created.updated_at, received_at, event.received_at, event.fetched_at]) expect(value).toMatch(utcMillis);
  });

  it('accepts a trailing slash and a query string on the URL', async () => {
    const created = await createEndpoint({ name: 'ingest slash' });
    expect((await postWebhook(`${created.ingest_url}/?source=shop&at=2026-03-01T00:00:00Z`, '{}')).status).toBe(202);
  });

  it('answers 401 UNAUTHORIZED to an unknown token', async () => {
    const answer = await postWebhook(`${ingestBase}/pull/pes_${'x'.repeat(40)}`, '{}');
    expect(answer.status).toBe(401);
    expect(decodeError(answer.body).code).toBe('UNAUTHORIZED');
  });

  it('takes a body of exactly 1 MiB and refuses one byte more with 413 PAYLOAD_TOO_LARGE', async () => {
    const created = await createEndpoint({ name: 'big' });
    const sized = (bytes: number) => `{"pad":"${'a'.repeat(bytes - '{"pad":""}'.length)}"}`;
    expect((await postWebhook(created.ingest_url, sized(1024 * 1024))).status).toBe(202);
    const tooBig = await postWebhook(created.ingest_url, sized(1024 * 1024 + 1));
    expect(tooBig.status).toBe(413);
    expect(decodeError(tooBig.body).code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('answers with the endpoint’s ingest_response_code', async () => {
    const created = await createEndpoint({ name: 'answers 200', ingest_response_code: 200 });
    const answer = await postWebhook(created.ingest_url, '{}');
    expect(answer.status).toBe(200);
    decodeEnvelope(IngestAnswer, answer.body);
  });
});

describe('GET /v1/pull-endpoints/{id}/events (list)', () => {
  it('lists stored events by default as PullEventSummary, metadata only, with timing and event_type null when not extracted', async () => {
    const { endpoint, ids } = await endpointWithEvents(3);
    const page = await listEvents(endpoint.id);
    expect(page.items.map((e) => e.id)).toEqual(ids);
    expect(page.hasMore).toBe(false);
    for (const item of page.items) {
      expect(item).toMatchObject({ status: 'stored', event_type: null, fetched_at: null, delivered_at: null });
      expect(item.timing).toMatchObject({ time_to_fetch_ms: null, time_to_ack_ms: null, total_lifecycle_ms: null });
      expect(item).not.toHaveProperty('payload');
    }
    await getEvent(endpoint.id, ids[0]!);
    expect((await listEvents(endpoint.id)).items.map((e) => e.id)).toEqual(ids.slice(1));
    expect((await listEvents(endpoint.id, '?status=fetched')).items.map((e) => e.id)).toEqual([ids[0]]);
  });

  it('takes since as HookBridge’s docs write it, unencoded (since=2026-03-01T00:00:00Z), and as Go’s url.Values encodes it', async () => {
    const { endpoint, ids } = await endpointWithEvents(2);
    expect((await listEvents(endpoint.id, '?since=2026-03-01T00:00:00Z')).items.map((e) => e.id)).toEqual(ids);
    expect((await listEvents(endpoint.id, '?since=2026-03-01T00%3A00%3A00Z')).items.map((e) => e.id)).toEqual(ids);
    expect((await listEvents(endpoint.id, '?since=2026-03-01T01%3A00%3A00%2B01%3A00')).items.map((e) => e.id)).toEqual(ids);
    const future = goRfc3339(new Date(Date.now() + 3_600_000));
    expect((await listEvents(endpoint.id, `?since=${future}`)).items).toEqual([]);
  });

  it('treats since as inclusive and before as exclusive', async () => {
    const { endpoint, ids } = await endpointWithEvents(3);
    const { items } = await listEvents(endpoint.id);
    const second = items[1]!.received_at;
    expect((await listEvents(endpoint.id, `?since=${second}`)).items.map((e) => e.id)).toEqual(ids.slice(1));
    expect((await listEvents(endpoint.id, `?before=${second}`)).items.map((e) => e.id)).toEqual(ids.slice(0, 1));
  });

  it('pages with limit and meta.has_more / meta.next_cursor', async () => {
    const { endpoint, ids } = await endpointWithEvents(3);
    const first = await listEvents(endpoint.id, '?limit=2');
    expect(first.items.map((e) => e.id)).toEqual(ids.slice(0, 2));
    expect(first.hasMore).toBe(true);
    expect(first.nextCursor).toEqual(expect.any(String));
    const rest = await listEvents(endpoint.id, `?limit=2&cursor=${encodeURIComponent(first.nextCursor!)}`);
    expect(rest.items.map((e) => e.id)).toEqual(ids.slice(2));
    expect(rest.hasMore).toBe(false);
    expect((await listEvents(endpoint.id, '?limit=1000')).items).toHaveLength(3);
    expectError(await call('GET', `${eventsPath(endpoint.id)}?limit=1001`), 400, 'INVALID_REQUEST');
  });

  it('filters by the event_type extracted from a dot path into the body', async () => {
    const endpoint = await createEndpoint({ name: 'typed', event_type_source: 'body', event_type_path: 'data.object.type' });
    const invoice = await ingest(endpoint.ingest_url, { data: { object: { type: 'invoice.paid' } } });
    const charge = await ingest(endpoint.ingest_url, { data: { object: { type: 'charge.succeeded' } } });
    const untyped = await ingest(endpoint.ingest_url, { data: {} });
    const { items } = await listEvents(endpoint.id);
    expect(items.map((e) => [e.id, e.event_type])).toEqual([
      [invoice.event_id, 'invoice.paid'],
      [charge.event_id, 'charge.succeeded'],
      [untyped.event_id, null],
    ]);
    expect((await listEvents(endpoint.id, '?event_type=invoice.paid')).items.map((e) => e.id)).toEqual([invoice.event_id]);
  });
});

describe('GET /v1/pull-endpoints/{id}/events/{event_id}', () => {
  it('answers the PullEventDetail with the payload as JSON, and moves stored to fetched once (fetched_at set, never moved)', async () => {
    const endpoint = await createEndpoint({ name: 'get' });
    const payload = { type: 'payment_intent.succeeded', id: 'evt_123', amount: 1099 };
    const { event_id } = await ingest(endpoint.ingest_url, payload, { 'X-Custom': 'kept' });

    const event = await getEvent(endpoint.id, event_id);
    expect(event).toMatchObject({ id: event_id, status: 'fetched', content_type: 'application/json', event_type: null, delivered_at: null });
    expect(event.payload).toEqual(payload);
    expect(event.headers).toMatchObject({ 'content-type': 'application/json', 'x-custom': 'kept' });
    expect(event.fetched_at).not.toBeNull();
    expect(event.timing.time_to_fetch_ms).toBeGreaterThanOrEqual(0);
    expect(event.timing.time_to_ack_ms).toBeNull();

    const again = await getEvent(endpoint.id, event_id);
    expect(again.fetched_at).toBe(event.fetched_at);
  });

  it('reads without moving with ?preview=true (as the Go SDK appends it)', async () => {
    const { endpoint, ids } = await endpointWithEvents(1);
    const preview = await getEvent(endpoint.id, ids[0]!, '?preview=true');
    expect(preview).toMatchObject({ status: 'stored', fetched_at: null });
    expect(preview.payload).toEqual({ id: 'evt_0', type: 'payment_intent.succeeded' });
    expect((await listEvents(endpoint.id)).items.map((e) => e.id)).toEqual(ids);
  });

  it('returns a non-JSON payload base64-encoded with its content type', async () => {
    const endpoint = await createEndpoint({ name: 'text' });
    const answer = await postWebhook(endpoint.ingest_url, 'a=1&b=2', { 'Content-Type': 'application/x-www-form-urlencoded' });
    const { event_id } = decodeEnvelope(IngestAnswer, expectStatus(answer, 202));
    const event = await getEvent(endpoint.id, event_id);
    expect(event.content_type).toBe('application/x-www-form-urlencoded');
    expect(event.payload).toBe(Buffer.from('a=1&b=2').toString('base64'));
  });

  it('reads back a webhook sent without a Content-Type with a string content_type (non-null in both SDKs)', async () => {
    const endpoint = await createEndpoint({ name: 'untyped body' });
    const answer = await postWebhook(endpoint.ingest_url, Buffer.from('raw bytes'), {});
    const { event_id } = decodeEnvelope(IngestAnswer, expectStatus(answer, 202));
    const event = await getEvent(endpoint.id, event_id);
    expect(event.payload).toBe(Buffer.from('raw bytes').toString('base64'));
  });

  it('answers a deleted event 410 MESSAGE_DELETED, and with preview 200 with payload and headers null and who deleted it when', async () => {
    const { endpoint, ids } = await endpointWithEvents(1);
    const { deleted_at } = await deleteEvent(endpoint.id, ids[0]!);
    expectError(await call('GET', `${eventsPath(endpoint.id)}/${ids[0]}`), 410, 'MESSAGE_DELETED');
    const preview = decodeEnvelope(DeletedPullEventPreview, expectStatus(await call('GET', `${eventsPath(endpoint.id)}/${ids[0]}?preview=true`), 200));
    expect(preview).toMatchObject({ id: ids[0], payload: null, headers: null, deleted_at, deleted_by_api_key_id: project.apiKeyId });
  });

  it('answers 404 NOT_FOUND for an unknown event and 404 ENDPOINT_NOT_FOUND for an unknown endpoint', async () => {
    const endpoint = await createEndpoint({ name: 'empty' });
    expectError(await call('GET', `${eventsPath(endpoint.id)}/${randomId()}`), 404, 'NOT_FOUND');
    expectError(await call('GET', `${eventsPath(randomId())}/${randomId()}`), 404, 'ENDPOINT_NOT_FOUND');
  });
});

describe('POST /v1/pull-endpoints/{id}/events/ack', () => {
  it('takes {event_ids}, answers {acknowledged}, sets delivered_at and the ack timings, and counts 0 the second time', async () => {
    const { endpoint, ids } = await endpointWithEvents(3);
    await getEvent(endpoint.id, ids[0]!);
    expect(await ack(endpoint.id, ids.slice(0, 2))).toEqual({ acknowledged: 2 });

    const delivered = await getEvent(endpoint.id, ids[0]!, '?preview=true');
    expect(delivered.status).toBe('delivered');
    expect(delivered.delivered_at).not.toBeNull();
    expect(delivered.timing.time_to_ack_ms).toBeGreaterThanOrEqual(0);
    expect(delivered.timing.total_lifecycle_ms).toBeGreaterThanOrEqual(delivered.timing.time_to_fetch_ms!);
    expect((await listEvents(endpoint.id, '?status=delivered')).items.map((e) => e.id)).toEqual(ids.slice(0, 2));

    expect(await ack(endpoint.id, ids.slice(0, 2))).toEqual({ acknowledged: 0 });
    expect((await getEvent(endpoint.id, ids[0]!, '?preview=true')).delivered_at).toBe(delivered.delivered_at);
  });

  it('takes up to 1000 event_ids and refuses 1001 with 400 INVALID_REQUEST', async () => {
    const { endpoint, ids } = await endpointWithEvents(1);
    const many = (n: number) => [ids[0]!, ...Array.from({ length: n - 1 }, () => randomId())];
    expect(await ack(endpoint.id, many(1000))).toEqual({ acknowledged: 1 });
    expectError(await call('POST', `${eventsPath(endpoint.id)}/ack`, { body: { event_ids: many(1001) } }), 400, 'INVALID_REQUEST');
  });
});

describe('DELETE /v1/pull-endpoints/{id}/events/{event_id}', () => {
  it('answers {event_id, deleted_at, already_deleted}, and the original deleted_at with already_deleted: true again', async () => {
    const { endpoint, ids } = await endpointWithEvents(1);
    const first = await deleteEvent(endpoint.id, ids[0]!);
    expect(first).toMatchObject({ event_id: ids[0], already_deleted: false });
    const second = await deleteEvent(endpoint.id, ids[0]!);
    expect(second).toEqual({ ...first, already_deleted: true });
  });
});

describe('POST /v1/pull-endpoints/{id}/events/delete-batch', () => {
  it('takes {message_ids} and answers one outcome per id in order, as the seed page shows', async () => {
    const { endpoint, ids } = await endpointWithEvents(2);
    const earlier = await deleteEvent(endpoint.id, ids[1]!);
    const unknown = randomId();
    const answer = await call('POST', `${eventsPath(endpoint.id)}/delete-batch`, { body: { message_ids: [ids[0], ids[1], unknown] } });
    const result = decodeEnvelope(DeleteBatchResult, expectStatus(answer, 200));

    expect(result.results.map((r) => [r.event_id, r.outcome])).toEqual([
      [ids[0], 'deleted'],
      [ids[1], 'already_deleted'],
      [unknown, 'not_found'],
    ]);
    expect(result.results[0]!.deleted_at).toEqual(expect.any(String));
    expect(result.results[1]!.deleted_at).toBe(earlier.deleted_at);
    expect(result.results[2]).not.toHaveProperty('deleted_at');
    expect(result).toMatchObject({ deleted_count: 1, already_deleted_count: 1, not_found_count: 1 });
  });

  it('refuses more than 100 message_ids with 400 INVALID_REQUEST and deletes nothing', async () => {
    const { endpoint, ids } = await endpointWithEvents(1);
    const tooMany = [ids[0]!, ...Array.from({ length: 100 }, () => randomId())];
    expectError(await call('POST', `${eventsPath(endpoint.id)}/delete-batch`, { body: { message_ids: tooMany } }), 400, 'INVALID_REQUEST');
    expect((await listEvents(endpoint.id)).items.map((e) => e.id)).toEqual(ids);
  });
});

describe('POST /v1/pull-endpoints/{id}/events/delete-all', () => {
  it('takes its filters as query parameters with no body (status=stored,fetched as the docs write it) and answers {deleted, deleted_event_ids}', async () => {
    const { endpoint, ids } = await endpointWithEvents(4);
    await getEvent(endpoint.id, ids[1]!);
    await ack(endpoint.id, [ids[2]!]);

    const answer = await call('POST', `${eventsPath(endpoint.id)}/delete-all?status=stored,fetched&limit=1000`);
    const result = decodeEnvelope(DeleteAllResult, expectStatus(answer, 200));
    expect(result.deleted).toBe(3);
    expect([...result.deleted_event_ids].sort()).toEqual([ids[0], ids[1], ids[3]].sort());

    expect((await listEvents(endpoint.id, '?status=delivered')).items.map((e) => e.id)).toEqual([ids[2]]);
    expectError(await call('GET', `${eventsPath(endpoint.id)}/${ids[0]}`), 410, 'MESSAGE_DELETED');
    expect((await getEndpoint(endpoint.id)).counts).toEqual({ stored: 0, fetched: 0, delivered: 1, total: 1 });
  });

  it('takes the query the Go SDK builds (url.Values encoding, RFC 3339 seconds) and keeps to limit', async () => {
    const { endpoint, ids } = await endpointWithEvents(3);
    const after = encodeURIComponent(goRfc3339(new Date(Date.now() - 3_600_000)));
    const before = encodeURIComponent(goRfc3339(new Date(Date.now() + 3_600_000)));
    const window = `received_after=${after}&received_before=${before}&status=stored%2Cfetched`;
    // No event type is extracted on this endpoint: an event_type filter matches none of them.
    const none = decodeEnvelope(DeleteAllResult, expectStatus(await call('POST', `${eventsPath(endpoint.id)}/delete-all?event_type=payment_intent.succeeded&${window}`), 200));
    expect(none).toEqual({ deleted: 0, deleted_event_ids: [] });

    const limited = decodeEnvelope(
      DeleteAllResult,
      expectStatus(await call('POST', `${eventsPath(endpoint.id)}/delete-all?limit=2&${window}`), 200),
    );
    expect(limited.deleted).toBe(2);
    expect(limited.deleted_event_ids).toHaveLength(2);
    expect(ids).toEqual(expect.arrayContaining(limited.deleted_event_ids));
    expect((await listEvents(endpoint.id)).items).toHaveLength(1);
  });
});

describe('errors', () => {
  it('answers 401 UNAUTHORIZED in the error envelope without a key or with a wrong one', async () => {
    for (const apiKey of [null, 'pk_wrong_key_0000000000000000']) {
      for (const [method, path] of [
        ['GET', '/v1/pull-endpoints'],
        ['POST', '/v1/pull-endpoints'],
        ['GET', `/v1/pull-endpoints/${randomId()}/events`],
      ] as const) {
        const error = expectError(await call(method, path, { apiKey, ...(method === 'POST' ? { body: { name: 'x' } } : {}) }), 401, 'UNAUTHORIZED');
        expect(error.message).toBe('Invalid or missing API key'); // [seed], [ref pull-api] "Conventions"
      }
    }
  });

  it('answers 404 ENDPOINT_NOT_FOUND from every event operation of an endpoint that is not the caller’s', async () => {
    const stranger = await buildProject(server.db, 'hookbridge intruder');
    const { endpoint, ids } = await endpointWithEvents(1);
    const event = `${eventsPath(endpoint.id)}/${ids[0]}`;
    const answers = [
      await call('GET', eventsPath(endpoint.id), { apiKey: stranger.apiKey }),
      await call('GET', event, { apiKey: stranger.apiKey }),
      await call('DELETE', event, { apiKey: stranger.apiKey }),
      await call('POST', `${eventsPath(endpoint.id)}/ack`, { apiKey: stranger.apiKey, body: { event_ids: ids } }),
      await call('POST', `${eventsPath(endpoint.id)}/delete-batch`, { apiKey: stranger.apiKey, body: { message_ids: ids } }),
      await call('POST', `${eventsPath(endpoint.id)}/delete-all?status=stored`, { apiKey: stranger.apiKey }),
      await call('POST', `/v1/pull-endpoints/${endpoint.id}/pause`, { apiKey: stranger.apiKey }),
    ];
    for (const answer of answers) expect(expectError(answer, 404, 'ENDPOINT_NOT_FOUND').message).toBe('endpoint not found'); // [seed]
    expect((await listEvents(endpoint.id)).items.map((e) => e.id)).toEqual(ids);
  });
});

describe('GET /v1/pull-logs', () => {
  /** A project of its own: two endpoints, three events in known states, received in this order. */
  async function logsFixture() {
    const owner = await buildProject(server.db, 'hookbridge logs');
    const a = await createEndpoint({ name: 'Logs A', event_type_source: 'body', event_type_path: 'type' }, owner.apiKey);
    const b = await createEndpoint({ name: 'Logs B' }, owner.apiKey);
    const delivered = (await ingest(a.ingest_url, { type: 'invoice.paid' })).event_id;
    await pause(5);
    const deleted = (await ingest(a.ingest_url, { type: 'charge.succeeded' })).event_id;
    await pause(5);
    const fetched = (await ingest(b.ingest_url, { type: 'ignored' })).event_id;
    const as = { apiKey: owner.apiKey };
    expectStatus(await call('POST', `${eventsPath(a.id)}/ack`, { ...as, body: { event_ids: [delivered] } }), 200);
    expectStatus(await call('DELETE', `${eventsPath(a.id)}/${deleted}`, as), 200);
    expectStatus(await call('GET', `${eventsPath(b.id)}/${fetched}`, as), 200);
    const logs = async (query = '') => decodeList(PullLogEntry, expectStatus(await call('GET', `/v1/pull-logs${query}`, as), 200));
    return { a, b, delivered, deleted, fetched, logs };
  }

  it('lists every event of the project’s pull endpoints, newest first, deleted ones too, as PullLogEntry', async () => {
    const { a, b, delivered, deleted, fetched, logs } = await logsFixture();
    const page = await logs();
    expect(page.items.map((e) => e.event_id)).toEqual([fetched, deleted, delivered]);
    expect(page.hasMore).toBe(false);
    const [third, second, first] = page.items;
    expect(third).toMatchObject({ pull_endpoint_id: b.id, endpoint_name: 'Logs B', event_type: null, status: 'fetched', deleted_at: null });
    expect(third!.fetched_at).not.toBeNull();
    expect(second).toMatchObject({ pull_endpoint_id: a.id, endpoint_name: 'Logs A', event_type: 'charge.succeeded' });
    expect(second!.deleted_at).not.toBeNull();
    expect(first).toMatchObject({ pull_endpoint_id: a.id, event_type: 'invoice.paid', status: 'delivered', deleted_at: null });
    expect(first!.delivered_at).not.toBeNull();
    expect(first!.size_bytes).toBe(Buffer.byteLength(JSON.stringify({ type: 'invoice.paid' })));
  });

  it('filters by pull_endpoint_id, status, event_type and start_time (inclusive) / end_time (exclusive), as the Go SDK sends them', async () => {
    const { a, delivered, deleted, fetched, logs } = await logsFixture();
    const ids = async (query: string) => (await logs(query)).items.map((e) => e.event_id);
    expect(await ids(`?pull_endpoint_id=${a.id}`)).toEqual([deleted, delivered]);
    expect(await ids('?status=delivered')).toEqual([delivered]);
    expect(await ids('?event_type=invoice.paid')).toEqual([delivered]);
    const past = encodeURIComponent(goRfc3339(new Date(Date.now() - 3_600_000)));
    const future = encodeURIComponent(goRfc3339(new Date(Date.now() + 3_600_000)));
    expect(await ids(`?start_time=${past}&end_time=${future}`)).toEqual([fetched, deleted, delivered]);
    const all = (await logs()).items;
    const secondAt = all.find((e) => e.event_id === deleted)!.received_at;
    expect(await ids(`?start_time=${secondAt}`)).toEqual([fetched, deleted]);
    expect(await ids(`?end_time=${secondAt}`)).toEqual([delivered]);
  });

  it('pages with limit and meta.has_more / meta.next_cursor', async () => {
    const { delivered, deleted, fetched, logs } = await logsFixture();
    const first = await logs('?limit=2');
    expect(first.items.map((e) => e.event_id)).toEqual([fetched, deleted]);
    expect(first.hasMore).toBe(true);
    const rest = await logs(`?limit=2&cursor=${encodeURIComponent(first.nextCursor!)}`);
    expect(rest.items.map((e) => e.event_id)).toEqual([delivered]);
    expect(rest.hasMore).toBe(false);
  });
});

describe('GET /v1/pull-metrics and /v1/pull-metrics/timeseries', () => {
  /** A project of its own: 3 webhooks received (1 fetched, 1 acknowledged) and 1 refused at ingest. */
  async function metricsFixture() {
    const owner = await buildProject(server.db, 'hookbridge metrics');
    rememberSecret('static-token-value-0123456789');
    const endpoint = await createEndpoint(
      { name: 'Metered', verify_static_token: true, token_header_name: 'X-Webhook-Token', token_value: 'static-token-value-0123456789' },
      owner.apiKey,
    );
    const other = await createEndpoint({ name: 'Quiet' }, owner.apiKey);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await ingest(endpoint.ingest_url, { i }, { 'X-Webhook-Token': 'static-token-value-0123456789' })).event_id);
    expect((await postWebhook(endpoint.ingest_url, '{}', { 'Content-Type': 'application/json', 'X-Webhook-Token': 'wrong-token-value-0000000' })).status).toBe(401);
    const as = { apiKey: owner.apiKey };
    expectStatus(await call('GET', `${eventsPath(endpoint.id)}/${ids[0]}`, as), 200);
    expectStatus(await call('POST', `${eventsPath(endpoint.id)}/ack`, { ...as, body: { event_ids: [ids[1]] } }), 200);
    const get = async (path: string) => expectStatus(await call('GET', path, as), 200);
    return { endpoint, other, get };
  }

  it('answers HookBridge’s Metrics: total_messages = received, succeeded = acknowledged, failed = refused at ingest, success_rate 0..1', async () => {
    const { endpoint, other, get } = await metricsFixture();
    const metrics = decodeEnvelope(PullMetrics, await get('/v1/pull-metrics?window=24h'));
    expect(metrics).toMatchObject({ window: '24h', total_messages: 3, succeeded: 1, failed: 1, retries: 0 });
    expect(metrics.success_rate).toBeGreaterThanOrEqual(0);
    expect(metrics.success_rate).toBeLessThanOrEqual(1);
    // The PHP SDK's fixture (total 10, succeeded 4, success_rate 0.4): succeeded / total_messages.
    expect(metrics.success_rate).toBeCloseTo(1 / 3, 5);

    const scoped = decodeEnvelope(PullMetrics, await get(`/v1/pull-metrics?window=24h&pull_endpoint_id=${endpoint.id}`));
    expect(scoped).toMatchObject({ total_messages: 3, succeeded: 1, failed: 1 });
    const quiet = decodeEnvelope(PullMetrics, await get(`/v1/pull-metrics?window=1h&pull_endpoint_id=${other.id}`));
    expect(quiet).toMatchObject({ window: '1h', total_messages: 0, succeeded: 0, failed: 0 });
  });

  it('answers the timeseries {window, buckets: [{timestamp, stored, fetched, succeeded, total}]} in 1-minute buckets for 1h and 15-minute ones for 24h', async () => {
    const { get } = await metricsFixture();
    for (const [window, stepMs] of [
      ['1h', 60_000],
      ['24h', 15 * 60_000],
    ] as const) {
      const series = decodeEnvelope(PullTimeSeries, await get(`/v1/pull-metrics/timeseries?window=${window}`));
      expect(series.window).toBe(window);
      expect(series.buckets.length).toBeGreaterThan(1);
      const times = series.buckets.map((bucket) => Date.parse(bucket.timestamp));
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBe(stepMs);
      expect(series.buckets.reduce((sum, bucket) => sum + bucket.total, 0)).toBe(3);
      expect(series.buckets.reduce((sum, bucket) => sum + bucket.succeeded, 0)).toBe(1);
    }
  });
});
