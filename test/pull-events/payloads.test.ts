import fc from 'fast-check';
import { buildEndpointWithToken, buildProject, type TestProject } from '../support/factories';
import { startTestServer, type TestServer } from '../support/server';
import { postWebhook } from '../support/webhooks';

let server: TestServer;
let owner: TestProject;
let endpoint: { id: string; ingestPath: string };

beforeAll(async () => {
  server = await startTestServer();
  owner = await buildProject(server.db);
  endpoint = await buildEndpointWithToken(server.db, owner.projectId);
});
afterAll(() => server.close());

const PAYLOADS = Number(process.env.PAYLOAD_RUNS ?? 1000);

/** JSON text as senders write it: numbers JavaScript cannot hold, unicode, odd spacing, duplicate keys. */
const jsonText: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
    fc.tuple(fc.integer(), fc.integer({ min: 0, max: 99999 }), fc.constantFrom('', 'e10', 'E-7', '00')).map(([i, f, e]) => `${i}.${f}${e}`),
    fc.string({ unit: 'binary' }).map((s) => JSON.stringify(s)),
    fc.constantFrom('true', 'false', 'null', '"\\u0000"', '"\\ud83d\\ude00"', '"\u2028"'),
    fc.array(tie('value'), { maxLength: 4 }).map((items) => `[${items.join(' , ')}]`),
    fc
      .array(fc.tuple(fc.constantFrom('a', 'a', 'b', 'ü', '$', ''), tie('value')), { maxLength: 4 })
      .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:\n\t${v}`).join(',')}}`),
  ),
})).value;

/** Arrays and objects nested hundreds deep, deeper than any parser of ours should walk. */
const deepJson = fc
  .tuple(fc.integer({ min: 50, max: 3000 }), fc.boolean())
  .map(([depth, objects]) => (objects ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}` : `${'['.repeat(depth)}${']'.repeat(depth)}`));

const webhook = fc.oneof(
  jsonText.map((text) => ({ bytes: Buffer.from(` ${text} `), contentType: 'application/json', encoding: 'json' })),
  deepJson.map((text) => ({ bytes: Buffer.from(text), contentType: 'application/json; charset=utf-8', encoding: 'json' })),
  fc.array(fc.tuple(fc.string(), fc.string()), { maxLength: 5 }).map((pairs) => ({
    bytes: Buffer.from(pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')),
    contentType: 'application/x-www-form-urlencoded',
    encoding: 'base64',
  })),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => ({ bytes: Buffer.from(bytes), contentType: 'application/octet-stream', encoding: 'base64' })),
);

async function read(path: string) {
  return fetch(`${server.baseUrl}/v1/pull-endpoints/${endpoint.id}${path}`, { headers: { Authorization: `Bearer ${owner.apiKey}` } });
}

async function roundTrip({ bytes, contentType, encoding }: { bytes: Buffer; contentType: string; encoding: string }) {
  const { status, body } = await postWebhook(server.baseUrl, endpoint.ingestPath, bytes, { 'content-type': contentType });
  expect(status).toBe(202);
  const id = body.data.event_id;

  // The event's JSON answer holds the body itself: its text is found verbatim in the answer.
  const answer = await (await read(`/events/${id}?preview=true`)).text();
  const event = (JSON.parse(answer) as { data: { payload: unknown; payload_encoding: string; size_bytes: number } }).data;
  expect(event.payload_encoding).toBe(encoding);
  expect(event.size_bytes).toBe(bytes.length);
  if (encoding === 'json') expect(answer).toContain(`"payload":${bytes.toString('utf8')}}`);
  else expect(Buffer.from(event.payload as string, 'base64').equals(bytes)).toBe(true);

  const raw = await read(`/events/${id}/payload?preview=true`);
  expect(raw.headers.get('content-type')).toBe(contentType);
  expect(Buffer.from(await raw.arrayBuffer()).equals(bytes)).toBe(true);
}

it(`returns ${PAYLOADS} generated payloads byte for byte through get and through /payload`, async () => {
  const seed = Number(process.env.FUZZ_SEED ?? Date.now());
  const samples = fc.sample(webhook, { numRuns: PAYLOADS, seed });
  // Sent 16 at a time; a failure names the seed that replays it (FUZZ_SEED).
  for (let start = 0; start < samples.length; start += 16) {
    await Promise.all(
      samples.slice(start, start + 16).map((sample, i) =>
        roundTrip(sample).catch((error: unknown) => {
          throw new Error(`payload ${start + i} of seed ${seed} (${sample.contentType}, ${sample.bytes.toString('base64')}): ${String(error)}`);
        }),
      ),
    );
  }
});

describe('GET .../events/{event_id}/payload', () => {
  it('answers the raw bytes as a sandboxed attachment, and moves the event to fetched unless preview', async () => {
    const { body } = await postWebhook(server.baseUrl, endpoint.ingestPath, '<html><script>alert(1)</script></html>', { 'content-type': 'text/html' });
    const id = body.data.event_id;
    const preview = await read(`/events/${id}/payload?preview=true`);
    expect(preview.status).toBe(200);
    expect(preview.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
    expect(preview.headers.get('content-disposition')).toBe(`attachment; filename="${id}"`);
    expect(preview.headers.get('x-content-type-options')).toBe('nosniff');
    expect(preview.headers.get('x-request-id')).toMatch(/^req_/);
    const status = async () => (await server.db.pullEvent.findFirstOrThrow({ where: { id } })).status;
    expect(await status()).toBe('stored');
    await read(`/events/${id}/payload`);
    expect(await status()).toBe('fetched');
  });

  it('answers 410 for a deleted event, with preview too, and 404 for an unknown one', async () => {
    const { body } = await postWebhook(server.baseUrl, endpoint.ingestPath, '{}');
    const id = body.data.event_id;
    await server.client(owner.apiKey).DELETE('/v1/pull-endpoints/{id}/events/{event_id}', { params: { path: { id: endpoint.id, event_id: id } } });
    for (const query of ['', '?preview=true']) {
      const answer = await read(`/events/${id}/payload${query}`);
      expect(answer.status).toBe(410);
      expect(((await answer.json()) as { error: { code: string } }).error.code).toBe('MESSAGE_DELETED');
    }
    expect((await read('/events/01a22f6e-0000-7000-8000-000000000000/payload')).status).toBe(404);
  });

  it('sends no Content-Type when the sender sent none', async () => {
    const response = await fetch(`${server.baseUrl}${endpoint.ingestPath}`, { method: 'POST', body: new Uint8Array([1, 2, 3]) });
    const { data } = (await response.json()) as { data: { event_id: string } };
    const raw = await read(`/events/${data.event_id}/payload?preview=true`);
    expect(raw.headers.get('content-type')).toBeNull();
    expect(Buffer.from(await raw.arrayBuffer())).toEqual(Buffer.from([1, 2, 3]));
  });
});

describe('query strings as clients write them', () => {
  const query = (path: string, raw: string) => read(`${path}?${raw}`);

  it.each([
    ['since and before with unencoded colons', '/events', 'since=2026-03-01T00:00:00Z&before=2099-01-01T00:00:00.000%2B00:00'],
    ['since with an offset', '/events', 'since=2026-03-01T00:00:00+01:00'.replace('+', '%2B')],
    ['an event type with / : and @', '/events', 'event_type=shop/orders:created@v2&status=any'],
  ])('GET events accepts %s', async (_case, path, raw) => {
    const response = await query(path, raw);
    expect({ status: response.status, body: response.status === 200 ? 'ok' : await response.text() }).toEqual({ status: 200, body: 'ok' });
  });

  it('filters by an event type holding reserved characters, sent unencoded', async () => {
    const typed = await buildEndpointWithToken(server.db, owner.projectId, { event_type_source: 'header', event_type_path: 'X-Kind' });
    await postWebhook(server.baseUrl, typed.ingestPath, '{}', { 'X-Kind': 'shop/orders:created@v2' });
    await postWebhook(server.baseUrl, typed.ingestPath, '{}', { 'X-Kind': 'other' });
    const response = await fetch(`${server.baseUrl}/v1/pull-endpoints/${typed.id}/events?event_type=shop/orders:created@v2`, {
      headers: { Authorization: `Bearer ${owner.apiKey}` },
    });
    const { data } = (await response.json()) as { data: { event_type: string }[] };
    expect(data.map((e) => e.event_type)).toEqual(['shop/orders:created@v2']);
  });

  it.each([
    ['events', `/v1/pull-endpoints/ENDPOINT/events`],
    ['rejections', `/v1/pull-endpoints/ENDPOINT/rejections`],
    ['endpoints', '/v1/pull-endpoints'],
  ])('reads a cursor with unencoded reserved characters on the %s list as a cursor, not as an encoding error', async (_list, path) => {
    const response = await fetch(`${server.baseUrl}${path.replace('ENDPOINT', endpoint.id)}?cursor=a:b/c@d`, {
      headers: { Authorization: `Bearer ${owner.apiKey}` },
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/^cursor is malformed/);
  });
});
