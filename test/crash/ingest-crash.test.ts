import { createHash, createHmac } from 'node:crypto';
import pg from 'pg';
import { createPrismaClient } from '../../src/db/prisma';
import { answered, between, crashRounds, crashSeed, CrashRig, seededRandom, send, sleep, succeeded, type Answer } from '../support/crash';
import { buildEndpointWithToken, buildProject } from '../support/factories';
import { waitFor } from '../support/processes';

// Webhooks answered 2xx survive kill -9 of the service and an immediate stop of PostgreSQL;
// nothing else is half-stored; idempotency keys still deduplicate afterwards. See issue 12.

const WORKERS = 4;

interface Endpoint {
  id: string;
  path: string;
  /** The idempotency header the endpoint names (the provider's delivery id). */
  keyHeader: string;
  /** The provider's headers for one delivery of `body`, signed at `at`. */
  sign(delivery: string, body: Buffer, at: Date): Record<string, string>;
}

interface Webhook {
  seq: number;
  endpoint: Endpoint;
  delivery: string;
  body: Buffer;
  contentType: string;
  isJson: boolean;
}

type IngestBody = { data?: { event_id: string; duplicate: boolean } };

interface Attempt {
  headers: Record<string, string>;
  answer: Answer<IngestBody>;
}

const hmac = (key: Buffer | string, ...parts: (Buffer | string)[]) => parts.reduce((mac, part) => mac.update(part), createHmac('sha256', key)).digest();
const seconds = (at: Date) => String(Math.floor(at.getTime() / 1000));

/** Four endpoints: three verify a provider's HMAC (over the raw bytes), one verifies nothing; 202, 200 and 204 answers. */
async function buildEndpoints(url: string): Promise<Endpoint[]> {
  const db = createPrismaClient(url);
  try {
    const { projectId } = await buildProject(db, 'crash proof');
    const whsec = Buffer.from('crash-proof-standard-webhooks-key');
    const github = 'crash-proof-github-secret';
    const shopify = 'crash-proof-shopify-secret';
    const make = async (settings: Parameters<typeof buildEndpointWithToken>[2], keyHeader: string, sign: Endpoint['sign']) => {
      const { id, ingestPath } = await buildEndpointWithToken(db, projectId, { ...settings, idempotency_header_names: [keyHeader] });
      return { id, path: ingestPath, keyHeader, sign };
    };
    return [
      await make({ verify_hmac: true, hmac_scheme: 'standard_webhooks', hmac_secret: `whsec_${whsec.toString('base64')}` }, 'webhook-id', (id, body, at) => ({
        'webhook-id': id,
        'webhook-timestamp': seconds(at),
        'webhook-signature': `v1,${hmac(whsec, `${id}.${seconds(at)}.`, body).toString('base64')}`,
      })),
      await make({ verify_hmac: true, hmac_scheme: 'github', hmac_secret: github, ingest_response_code: 200 }, 'x-github-delivery', (id, body) => ({
        'x-github-event': 'push',
        'x-github-delivery': id,
        'x-hub-signature-256': `sha256=${hmac(github, body).toString('hex')}`,
      })),
      await make({ verify_hmac: true, hmac_scheme: 'shopify', hmac_secret: shopify, ingest_response_code: 204 }, 'x-shopify-webhook-id', (id, body) => ({
        'x-shopify-topic': 'orders/create',
        'x-shopify-webhook-id': id,
        'x-shopify-hmac-sha256': hmac(shopify, body).toString('base64'),
      })),
      await make({}, 'idempotency-key', (id) => ({ 'idempotency-key': id })),
    ];
  } finally {
    await db.$disconnect();
  }
}

/** Webhook number `seq`: unique random bytes, as JSON, binary, JSON-typed invalid UTF-8 or Latin-1 text; now and then a large one. */
function makeWebhook(random: () => number, endpoints: Endpoint[], seq: number): Webhook {
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => between(random, 0, 255)));
  const nonce = bytes(16).toString('hex');
  const size = random() < 0.05 ? between(random, 64_000, 200_000) : between(random, 0, 4000);
  const kind = random();
  let body: Buffer;
  let contentType: string;
  if (kind < 0.5) {
    // Written as text: a big decimal that a parse and re-serialisation would round.
    body = Buffer.from(`{"seq":${seq},"nonce":"${nonce}","note":"Zürich ✓ 😀","amount":12345678901234567890.25,"pad":"${'x'.repeat(size)}"}`);
    contentType = 'application/json';
  } else if (kind < 0.75) {
    body = Buffer.concat([Buffer.from(`${seq}:${nonce}:`), Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28]), bytes(size)]);
    contentType = 'application/octet-stream';
  } else if (kind < 0.9) {
    body = Buffer.concat([Buffer.from(`{"seq":${seq},"nonce":"${nonce}","bad":"`), Buffer.from([0xc3, 0x28, 0xa0, 0xa1]), Buffer.from('"}')]);
    contentType = 'application/json; charset=utf-8';
  } else {
    body = Buffer.concat([Buffer.from(`${seq} ${nonce} caf`), Buffer.from([0xe9, 0x20, 0xfc, 0x62, 0x65, 0x72])]);
    contentType = 'text/plain; charset=iso-8859-1';
  }
  const endpoint = endpoints[between(random, 0, endpoints.length - 1)]!;
  return { seq, endpoint, delivery: `dlv_${seq}_${nonce}`, body, contentType, isJson: kind < 0.5 };
}

function deliver(baseUrl: string, hook: Webhook): Promise<Attempt> {
  const headers = { 'content-type': hook.contentType, 'x-crash-seq': String(hook.seq), ...hook.endpoint.sign(hook.delivery, hook.body, new Date()) };
  return send<IngestBody>(`${baseUrl}${hook.endpoint.path}?seq=${hook.seq}`, { method: 'POST', headers, body: hook.body })
    .then((answer) => ({ headers, answer }));
}

/** The key the service derives from the endpoint's idempotency header (src/ingest/verification.ts). */
const expectedKey = (hook: Webhook) =>
  createHash('sha256').update(JSON.stringify([`${hook.endpoint.keyHeader}=${hook.delivery}`])).digest('hex');

interface Row {
  pull_endpoint_id: string;
  id: string;
  payload: Buffer | null;
  headers: Record<string, string>;
  content_type: string | null;
  payload_is_json: boolean;
  size_bytes: number;
  query_string: string | null;
}

/**
 * Reads the events, idempotency keys, endpoints and rollup back, and lists every way they disagree
 * with what was sent. Half-stored, for this schema: an event whose bytes, content type, size, JSON
 * flag, query string or headers are not those of one attempt of its webhook; an event without its
 * idempotency key or a key without its event (or naming another); two events of one webhook; an
 * event nobody sent; an endpoint whose last_event_id or `received` counter disagrees with its events.
 */
async function readBack(url: string, endpoints: Endpoint[], hooks: Map<number, Webhook>, attempts: Map<number, Attempt[]>) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  // One snapshot for every read: a statement of a killed service may still be committing.
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  const ids = endpoints.map((endpoint) => endpoint.id);
  try {
    const rows = (await client.query<Row>(`
      SELECT pull_endpoint_id::text, id::text, payload, headers, content_type, payload_is_json, size_bytes, query_string
      FROM pull_events WHERE pull_endpoint_id = ANY($1::uuid[])`, [ids])).rows;
    const keys = (await client.query<{ pull_endpoint_id: string; idempotency_key: string; event_id: string }>(`
      SELECT pull_endpoint_id::text, idempotency_key, event_id::text FROM pull_event_idempotency_keys WHERE pull_endpoint_id = ANY($1::uuid[])`, [ids])).rows;
    const lastIds = new Map((await client.query<{ id: string; last_event_id: string | null }>(
      'SELECT id::text, last_event_id::text FROM pull_endpoints WHERE id = ANY($1::uuid[])', [ids])).rows.map((r) => [r.id, r.last_event_id]));
    const counters = new Map((await client.query<{ scope_id: string; received: number }>(`
      SELECT scope_id::text, sum(events)::int AS received FROM pull_event_metrics
      WHERE scope_id = ANY($1::uuid[]) AND bucket_seconds = 86400 AND kind = 'received' GROUP BY 1`, [ids])).rows.map((r) => [r.scope_id, r.received]));

    const problems: string[] = [];
    const stored = new Map<number, Row[]>();
    for (const row of rows) {
      const seq = Number(row.headers['x-crash-seq']);
      const hook = hooks.get(seq);
      if (!hook) {
        problems.push(`event ${row.id} was never sent`);
        continue;
      }
      stored.set(seq, [...(stored.get(seq) ?? []), row]);
      const what = `webhook ${seq} (event ${row.id})`;
      if (row.pull_endpoint_id !== hook.endpoint.id) problems.push(`${what} is on another endpoint`);
      if (!row.payload?.equals(hook.body)) problems.push(`${what}: stored bytes differ from the ${hook.body.length} sent`);
      if (row.size_bytes !== hook.body.length) problems.push(`${what}: size_bytes ${row.size_bytes}, sent ${hook.body.length}`);
      if (row.content_type !== hook.contentType) problems.push(`${what}: content type ${row.content_type}`);
      if (row.payload_is_json !== hook.isJson) problems.push(`${what}: payload_is_json ${row.payload_is_json}`);
      if (row.query_string !== `seq=${seq}`) problems.push(`${what}: query string ${row.query_string}`);
      const headersOf = (attempt: Attempt) => Object.entries(attempt.headers).every(([name, value]) => row.headers[name] === value);
      if (!(attempts.get(seq) ?? []).some(headersOf)) problems.push(`${what}: stored headers are those of no attempt`);
    }
    const byEvent = new Map(rows.map((row) => [`${row.pull_endpoint_id}/${row.id}`, row]));
    const keyed = new Set<string>();
    for (const key of keys) {
      const row = byEvent.get(`${key.pull_endpoint_id}/${key.event_id}`);
      if (!row) {
        problems.push(`idempotency key ${key.idempotency_key} names event ${key.event_id}, which is not stored`);
        continue;
      }
      const hook = hooks.get(Number(row.headers['x-crash-seq']));
      if (hook && expectedKey(hook) !== key.idempotency_key) problems.push(`event ${row.id} has another webhook's idempotency key`);
      if (keyed.has(key.event_id)) problems.push(`event ${row.id} has two idempotency keys`);
      keyed.add(key.event_id);
    }
    for (const row of rows) if (!keyed.has(row.id)) problems.push(`event ${row.id} has no idempotency key`);
    for (const [seq, found] of stored) if (found.length > 1) problems.push(`webhook ${seq} is stored ${found.length} times`);
    for (const endpoint of endpoints) {
      const own = rows.filter((row) => row.pull_endpoint_id === endpoint.id).map((row) => row.id).sort();
      // Ingest moves last_event_id forward for a duplicate too, so it may run ahead of the newest event, never behind.
      const last = lastIds.get(endpoint.id) ?? '';
      if (own.length > 0 && last < own.at(-1)!) problems.push(`endpoint ${endpoint.id}: last_event_id ${last} is behind its newest event ${own.at(-1)}`);
      if ((counters.get(endpoint.id) ?? 0) !== own.length) problems.push(`endpoint ${endpoint.id}: counted ${counters.get(endpoint.id) ?? 0} received, stores ${own.length}`);
    }
    return { problems, stored: new Map([...stored].map(([seq, found]) => [seq, found[0]!.id])) };
  } finally {
    await client.end();
  }
}

it('stores every webhook answered 2xx byte for byte through kill -9 of the service and a crash of PostgreSQL, half-stores none, and still deduplicates', async () => {
  const seed = crashSeed();
  const rounds = crashRounds();
  console.log(`ingest crash proof: CRASH_SEED=${seed} CRASH_ROUNDS=${rounds}`);
  const random = seededRandom(seed);
  const moments = seededRandom(seed ^ 0x5eed);
  const rig = await CrashRig.start();
  try {
    const endpoints = await buildEndpoints(rig.url);
    await rig.startService();
    const hooks = new Map<number, Webhook>();
    const attempts = new Map<number, Attempt[]>();
    const record = (hook: Webhook, attempt: Attempt) => attempts.set(hook.seq, [...(attempts.get(hook.seq) ?? []), attempt]);
    let inFlight = 0;
    let inFlightAtCrashes = 0;
    let running = true;
    const load = Promise.all(
      Array.from({ length: WORKERS }, async () => {
        while (running) {
          // A provider whose connection is refused backs off; sending into the gap proves nothing.
          if (!rig.serviceUp) {
            await sleep(50);
            continue;
          }
          const hook = makeWebhook(random, endpoints, hooks.size + 1);
          hooks.set(hook.seq, hook);
          inFlight += 1;
          const attempt = await deliver(rig.baseUrl, hook).finally(() => (inFlight -= 1));
          record(hook, attempt);
          if (!succeeded(attempt.answer)) await sleep(250);
        }
      }),
    );
    const twoXx = () => [...attempts.values()].flat().filter((a) => succeeded(a.answer)).length;
    /** Until the (re)started service has stored one more webhook: each crash falls under load. */
    const anotherTwoXx = async () => {
      const before = twoXx();
      await waitFor(async () => twoXx() > before, 30_000, 'a 2xx under load');
    };
    try {
      for (let round = 0; round < rounds; round += 1) {
        await anotherTwoXx();
        await sleep(between(moments, 200, 2000));
        inFlightAtCrashes += inFlight;
        await rig.killService();
        await rig.restartService();
      }
      await anotherTwoXx();
      await sleep(between(moments, 100, 1500));
      inFlightAtCrashes += inFlight;
      await rig.crashDatabase();
      await sleep(between(moments, 200, 1500));
      await rig.restartDatabase();
      await anotherTwoXx();
    } finally {
      running = false;
      await load;
    }

    const first = new Map([...attempts].map(([seq, [attempt]]) => [seq, attempt!]));
    const accepted = [...first].filter(([, attempt]) => succeeded(attempt.answer)).map(([seq]) => seq);
    const failed = [...first].filter(([, attempt]) => !succeeded(attempt.answer)).map(([seq]) => seq);
    const statuses = new Set([...first.values()].map((a) => (answered(a.answer) ? a.answer.status : 0)));
    // Nothing else is expected: 2xx, no answer (0), and 500/503 while PostgreSQL is down.
    expect([...statuses].filter((status) => ![0, 200, 202, 204, 500, 503].includes(status))).toEqual([]);

    const before = await readBack(rig.url, endpoints, hooks, attempts);
    expect(before.problems.slice(0, 20)).toEqual([]);
    const missing = accepted.filter((seq) => !before.stored.has(seq));
    expect(missing).toEqual([]);
    for (const seq of accepted) {
      const answer = first.get(seq)!.answer;
      if (succeeded(answer) && answer.body?.data) expect(answer.body.data).toMatchObject({ event_id: before.stored.get(seq), duplicate: false });
    }
    const storedThoughFailed = failed.filter((seq) => before.stored.has(seq)).length;

    // Every webhook again, as a provider retries: same delivery id (Standard Webhooks signs a new time).
    const resent = [...hooks.values()];
    const resends = new Map<number, Attempt>();
    let next = 0;
    await Promise.all(
      Array.from({ length: WORKERS }, async () => {
        for (let hook = resent[next++]; hook; hook = resent[next++]) {
          const attempt = await deliver(rig.baseUrl, hook);
          record(hook, attempt);
          resends.set(hook.seq, attempt);
        }
      }),
    );
    const after = await readBack(rig.url, endpoints, hooks, attempts);
    expect(after.problems.slice(0, 20)).toEqual([]);
    expect([...hooks.keys()].filter((seq) => !succeeded(resends.get(seq)!.answer))).toEqual([]);
    expect([...hooks.keys()].filter((seq) => !after.stored.has(seq))).toEqual([]);
    for (const seq of accepted) {
      expect(after.stored.get(seq)).toBe(before.stored.get(seq));
      const again = resends.get(seq)!.answer;
      if (succeeded(again) && again.body?.data) expect(again.body.data).toMatchObject({ event_id: before.stored.get(seq), duplicate: true });
    }

    const noAnswer = failed.filter((seq) => !answered(first.get(seq)!.answer)).length;
    console.log(
      `ingest crash figures: seed ${seed}; crashes injected ${rounds + 1} (service kill -9 ${rounds}, PostgreSQL immediate stop 1; requests in flight at them ${inFlightAtCrashes}); ` +
        `webhooks sent ${hooks.size} over ${endpoints.length} endpoints (3 with HMAC); 2xx'd ${accepted.length}, found afterwards ${accepted.length - missing.length}; ` +
        `failed ${failed.length} (no answer ${noAnswer}, 5xx ${failed.length - noAnswer}): found stored whole (answer lost) ${storedThoughFailed}, absent ${failed.length - storedThoughFailed}; ` +
        `re-sent ${resends.size}: 2xx'd ${resent.filter((hook) => succeeded(resends.get(hook.seq)!.answer)).length}, each webhook now stored once; ` +
        `events stored ${after.stored.size}, half-stored 0, duplicates 0`,
    );
  } finally {
    await rig.close();
  }
}, 90_000 + crashRounds() * 15_000);
