import net from 'node:net';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/http/logger';
import { buildEndpointWithToken, buildProject, type TestProject } from '../support/factories';
import { startTestServer, type TestServer } from '../support/server';
import { postWebhook } from '../support/webhooks';
import { waitFor } from '../support/processes';

let server: TestServer;
let owner: TestProject;

beforeAll(async () => {
  server = await startTestServer({ ingestBodyLimitBytes: 4096 });
  owner = await buildProject(server.db);
});
afterAll(() => server.close());

const post = (path: string, body: string | Buffer, headers: Record<string, string> = {}) => postWebhook(server.baseUrl, path, body, headers);

async function storedEvent(endpointId: string, eventId: string) {
  return server.db.pullEvent.findUniqueOrThrow({ where: { pullEndpointId_id: { pullEndpointId: endpointId, id: eventId } } });
}

it('stores the exact bytes, content type and headers without credentials, and answers 202 with the event id', async () => {
  const endpoint = await buildEndpointWithToken(server.db, owner.projectId);
  const raw = '{"id": 9007199254740993, "amount": 1.10, "z": 1, "a": "ünïcödé"}';
  const { status, body } = await post(endpoint.ingestPath, raw, { Cookie: 'session=1', Authorization: 'Basic eDp5', 'X-Custom': 'kept' });

  expect(status).toBe(202);
  expect(body.data.duplicate).toBe(false);
  const row = await storedEvent(endpoint.id, body.data.event_id);
  expect(Buffer.from(row.payload!).toString('utf8')).toBe(raw);
  expect(row).toMatchObject({ status: 'stored', eventType: null, contentType: 'application/json', payloadIsJson: true, sizeBytes: Buffer.byteLength(raw) });
  expect(row.receivedAt.toISOString()).toBe(body.data.received_at);
  const headers = row.headers as Record<string, string>;
  expect(headers['x-custom']).toBe('kept');
  expect(headers.authorization).toBeUndefined();
  expect(headers.cookie).toBeUndefined();
});

it('accepts a trailing slash and any query string, and keeps the query with the event', async () => {
  const endpoint = await buildEndpointWithToken(server.db, owner.projectId);
  const { status, body } = await post(`${endpoint.ingestPath}/?source=shop&at=2026-03-01T00:00:00Z`, '{}');
  expect(status).toBe(202);
  expect((await storedEvent(endpoint.id, body.data.event_id)).queryString).toBe('source=shop&at=2026-03-01T00:00:00Z');
});

it.each([
  ['form-encoded', 'application/x-www-form-urlencoded', Buffer.from('a=1&b=%C3%BC')],
  ['XML', 'application/xml', Buffer.from('<?xml version="1.0"?><order id="1"/>')],
  ['plain text', 'text/plain; charset=utf-8', Buffer.from('hello')],
  ['binary', 'application/octet-stream', Buffer.from([0, 255, 1, 254, 0])],
  ['malformed JSON', 'application/json', Buffer.from('{"a":')],
])('stores a %s body byte for byte, not as JSON', async (_kind, contentType, bytes) => {
  const endpoint = await buildEndpointWithToken(server.db, owner.projectId);
  const { status, body } = await post(endpoint.ingestPath, bytes, { 'content-type': contentType });
  expect(status).toBe(202);
  const row = await storedEvent(endpoint.id, body.data.event_id);
  expect(Buffer.from(row.payload!).equals(bytes)).toBe(true);
  expect(row).toMatchObject({ contentType, payloadIsJson: false, sizeBytes: bytes.length });
});

it('reads the event type from a dot path of the body or from a header, and stores null when it cannot', async () => {
  const byBody = await buildEndpointWithToken(server.db, owner.projectId, { event_type_source: 'body', event_type_path: '$.meta.kind' });
  const byHeader = await buildEndpointWithToken(server.db, owner.projectId, { event_type_source: 'header', event_type_path: 'X-Event-Type' });
  const typeOf = async (path: string, raw: string, headers: Record<string, string> = {}) => {
    const { body } = await post(path, raw, headers);
    return (await storedEvent(path === byBody.ingestPath ? byBody.id : byHeader.id, body.data.event_id)).eventType;
  };
  expect(await typeOf(byBody.ingestPath, '{"meta":{"kind":"invoice.paid"}}')).toBe('invoice.paid');
  expect(await typeOf(byBody.ingestPath, '{"meta":{}}')).toBeNull();
  expect(await typeOf(byBody.ingestPath, 'not json', { 'content-type': 'text/plain' })).toBeNull();
  expect(await typeOf(byBody.ingestPath, '{"meta":{"kind":"a\\u0000b"}}')).toBeNull();
  expect(await typeOf(byHeader.ingestPath, '{}', { 'X-Event-Type': 'order.created' })).toBe('order.created');
  expect(await typeOf(byHeader.ingestPath, '{}')).toBeNull();
});

it('answers the same 401 to an unknown token and to a deleted endpoint\'s token', async () => {
  const deleted = await buildEndpointWithToken(server.db, owner.projectId, { deletedAt: new Date() });
  for (const path of ['/pull/pes_unknown', deleted.ingestPath]) {
    const { status, body } = await post(path, '{}');
    expect(status).toBe(401);
    expect(body.error).toEqual({ code: 'UNAUTHORIZED', message: 'Invalid or missing ingest credentials' });
  }
});

it('answers 413 beyond the body cap and accepts a body of exactly the cap; records the refusal', async () => {
  const endpoint = await buildEndpointWithToken(server.db, owner.projectId);
  const { status, body } = await post(endpoint.ingestPath, 'x'.repeat(4097), { 'content-type': 'text/plain' });
  expect(status).toBe(413);
  expect(body.error.code).toBe('PAYLOAD_TOO_LARGE');
  expect((await post(endpoint.ingestPath, 'x'.repeat(4096), { 'content-type': 'text/plain' })).status).toBe(202);
  // Now the endpoint is one the service has looked up recently, as a busy one always is.
  expect((await post(endpoint.ingestPath, 'x'.repeat(4097), { 'content-type': 'text/plain' })).status).toBe(413);
  // Chunked, so the limit is found while reading, not from Content-Length.
  const chunked = await fetch(`${server.baseUrl}${endpoint.ingestPath}`, {
    method: 'POST',
    body: new ReadableStream({
      start(controller) {
        for (let i = 0; i < 5; i++) controller.enqueue(new Uint8Array(1000));
        controller.close();
      },
    }),
    duplex: 'half',
  } as RequestInit);
  expect(chunked.status).toBe(413);
  expect(await server.db.pullEvent.count({ where: { pullEndpointId: endpoint.id } })).toBe(1);
  const rejections = await server.db.pullEndpointRejection.findMany({ where: { pullEndpointId: endpoint.id } });
  expect(rejections.map((r) => r.reason)).toEqual(['too_large', 'too_large', 'too_large']);
});

it('answers 503 ENDPOINT_PAUSED and stores nothing while the endpoint is paused', async () => {
  const endpoint = await buildEndpointWithToken(server.db, owner.projectId);
  const path = { id: endpoint.id };
  await server.client(owner.apiKey).POST('/v1/pull-endpoints/{id}/pause', { params: { path } });
  const { status, body } = await post(endpoint.ingestPath, '{}');
  expect(status).toBe(503);
  expect(body.error.code).toBe('ENDPOINT_PAUSED');
  expect(await server.db.pullEvent.count({ where: { pullEndpointId: endpoint.id } })).toBe(0);

  await server.client(owner.apiKey).POST('/v1/pull-endpoints/{id}/resume', { params: { path } });
  expect((await post(endpoint.ingestPath, '{}')).status).toBe(202);
});

it('answers with the endpoint\'s ingest_response_code, 204 without a body', async () => {
  const ok = await buildEndpointWithToken(server.db, owner.projectId, { ingest_response_code: 200 });
  const empty = await buildEndpointWithToken(server.db, owner.projectId, { ingest_response_code: 204 });
  expect((await post(ok.ingestPath, '{}')).status).toBe(200);
  const { status, body } = await post(empty.ingestPath, '{}');
  expect(status).toBe(204);
  expect(body).toBeUndefined();
  expect(await server.db.pullEvent.count({ where: { pullEndpointId: empty.id } })).toBe(1);
});

it('refuses a compressed body with 415 instead of storing bytes it cannot vouch for', async () => {
  const endpoint = await buildEndpointWithToken(server.db, owner.projectId);
  const { status, body } = await post(endpoint.ingestPath, '{}', { 'content-encoding': 'gzip' });
  expect(status).toBe(415);
  expect(body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
});

it('gives ids that grow in the order events are stored, even under concurrent ingest', async () => {
  const endpoint = await buildEndpointWithToken(server.db, owner.projectId);
  const results = await Promise.all(Array.from({ length: 40 }, (_, i) => post(endpoint.ingestPath, JSON.stringify({ i }))));
  const ids = results.map((r) => r.body.data.event_id);
  expect(new Set(ids).size).toBe(40);
  const rows = await server.db.pullEvent.findMany({ where: { pullEndpointId: endpoint.id }, orderBy: { id: 'asc' } });
  expect(rows.map((r) => r.id).sort()).toEqual([...ids].sort());
  for (const row of rows) expect(row.receivedAt.getTime()).toBe(parseInt(row.id.replaceAll('-', '').slice(0, 12), 16));
  const endpointRow = await server.db.pullEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } });
  expect(endpointRow.lastEventId).toBe(rows.at(-1)!.id);
});

it('answers 400 when the body is cut off before its announced length, and stores nothing', async () => {
  const endpoint = await buildEndpointWithToken(server.db, owner.projectId);
  const url = new URL(`${server.baseUrl}${endpoint.ingestPath}`);
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname, () => {
      socket.write(`POST ${url.pathname} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nonly part`);
      socket.end();
    });
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
  });
  expect(answer).toMatch(/^HTTP\/1.1 400 /);
  expect(await server.db.pullEvent.count({ where: { pullEndpointId: endpoint.id } })).toBe(0);
});

it('treats a sender that hangs up before its body is read as gone, not as a server error', async () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const logged = await startTestServer({ db: server.db, logger: createLogger('info', sink) });
  try {
    const endpoint = await buildEndpointWithToken(server.db, owner.projectId);
    const url = new URL(`${logged.baseUrl}${endpoint.ingestPath}`);
    await new Promise<void>((resolve) => {
      const socket = net.connect(Number(url.port), url.hostname, () => {
        socket.write(`POST ${url.pathname} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n`);
        socket.destroy();
        resolve();
      });
    });
    await waitFor(async () => lines.some((line) => line.includes('request')), 5000, 'the request to be logged');
    expect(lines.filter((line) => JSON.parse(line).level >= 50)).toEqual([]);
    expect(await server.db.pullEvent.count({ where: { pullEndpointId: endpoint.id } })).toBe(0);
  } finally {
    await logged.close();
  }
});
