/**
 * Section 7, ingest: `POST /pull/<token>` with a ~2 KB JSON webhook, all on one endpoint and
 * spread over ENDPOINTS, HMAC verification on and off, against its database floor: per webhook
 * the service's statement (`storeEventSql`; the endpoint lookup by token hash once per endpoint, as
 * the service caches it) through pg.
 */
import { createHmac } from 'node:crypto';
import type { Pool } from 'pg';
import type { SecretBox } from '../src/auth/encryption';
import { sha256Hex } from '../src/auth/secrets';
import type { Database } from '../src/db/prisma';
import { ingestEndpointSql, storeEventSql } from '../src/ingest/repository';
import { createEndpoint } from '../src/pull-endpoints/endpoints';
import { best, httpLoad, merge, workerLoad, type Measurement, type Window } from './load';
import type { IngestResults } from './report';
import type { ChildServer, Log } from './setup';

/** The endpoints webhooks are spread over in the "many endpoints" runs. */
const ENDPOINTS = 16;
const BODY_BYTES = 2048;
const HMAC_SECRET = 'bench-github-webhook-secret';

export interface IngestContext {
  /** For bookkeeping queries, outside the measured pools. */
  control: Pool;
  /** The floor's pool: as many connections as the service's. */
  floorPool: Pool;
  db: Database;
  /** Seals the HMAC secrets with the key the service was started with. */
  box: SecretBox;
  projectId: string;
  service: ChildServer;
  log: Log;
  settings: { concurrencies: number[]; durationSec: number; warmupSec: number; jitWarmupRequests: number };
}

interface EndpointSet {
  ids: string[];
  tokens: string[];
}

/** A GitHub push event, its commit message filled so that the JSON is exactly `bytes` long. */
function webhookBody(bytes: number): string {
  const user = { login: 'octocat', id: 583231, node_id: 'MDQ6VXNlcjU4MzIzMQ==', type: 'User', site_admin: false };
  const event = {
    ref: 'refs/heads/main',
    before: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
    after: '0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c',
    created: false,
    deleted: false,
    forced: false,
    compare: 'https://github.com/octocat/Hello-World/compare/6113728f27ae...0d1a26e67d8f',
    repository: {
      id: 1296269,
      node_id: 'MDEwOlJlcG9zaXRvcnkxMjk2MjY5',
      name: 'Hello-World',
      full_name: 'octocat/Hello-World',
      private: false,
      owner: user,
      html_url: 'https://github.com/octocat/Hello-World',
      default_branch: 'main',
      pushed_at: 1795000000,
    },
    pusher: { name: 'octocat', email: 'octocat@github.com' },
    sender: user,
    head_commit: {
      id: '0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c',
      tree_id: 'f9d2a07e9488b91af2641b26b9407fe22a451433',
      distinct: true,
      message: '',
      timestamp: '2026-11-30T12:00:00Z',
      url: 'https://github.com/octocat/Hello-World/commit/0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c',
      author: { name: 'The Octocat', email: 'octocat@github.com', username: 'octocat' },
      committer: { name: 'GitHub', email: 'noreply@github.com', username: 'web-flow' },
      added: ['docs/ingest.md'],
      removed: [],
      modified: ['README.md', 'src/ingest/handlers.ts'],
    },
  };
  const room = bytes - Buffer.byteLength(JSON.stringify(event));
  if (room < 0) throw new Error(`the webhook is already longer than ${bytes} bytes`);
  event.head_commit.message = 'Document the ingest URL and its verification options. '.repeat(Math.ceil(room / 50)).slice(0, room);
  return JSON.stringify(event);
}

async function createEndpoints(ctx: IngestContext, count: number, hmac: boolean): Promise<EndpointSet> {
  const set: EndpointSet = { ids: [], tokens: [] };
  const settings = hmac ? { verify_hmac: true, hmac_scheme: 'github' as const, hmac_secret: HMAC_SECRET } : {};
  for (let i = 1; i <= count; i++) {
    const name = `bench ingest, ${count} endpoint${count === 1 ? '' : 's'}, HMAC ${hmac ? 'on' : 'off'}, ${i}`;
    const { row, secretToken } = await createEndpoint({ db: ctx.db, box: ctx.box }, ctx.projectId, { name, ...settings });
    set.ids.push(row.id);
    set.tokens.push(secretToken);
  }
  return set;
}

/** The tokens of `set` in turn, across all connections: each request goes to the next endpoint. */
function rotation(set: EndpointSet): () => string {
  let turn = 0;
  return () => set.tokens[turn++ % set.tokens.length]!;
}

/** Each endpoint's newest event id: the events stored later have greater ids. */
async function newestIds(pool: Pool, set: EndpointSet): Promise<string[]> {
  const { rows } = await pool.query<{ newest: string }>(
    `SELECT coalesce(p.last_event_id, '00000000-0000-0000-0000-000000000000')::text AS newest
     FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, n) JOIN pull_endpoints p ON p.id = t.id ORDER BY t.n`,
    [set.ids],
  );
  return rows.map((row) => row.newest);
}

async function storedSince(pool: Pool, set: EndpointSet, newest: string[]): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM unnest($1::uuid[], $2::uuid[]) AS t(endpoint_id, after)
     JOIN pull_events e ON e.pull_endpoint_id = t.endpoint_id AND e.id > t.after`,
    [set.ids, newest],
  );
  return rows[0]!.n;
}

interface Webhook {
  body: string;
  headers: Record<string, string>;
}

type Drive = (window: Window) => Promise<Measurement>;

/** The service over HTTP, each request to the next endpoint of `set`. */
function overHttp(service: ChildServer, webhook: Webhook, label: string, set: EndpointSet): Drive {
  const token = rotation(set);
  return (window) =>
    httpLoad(label, 1, { baseUrl: service.baseUrl, headers: webhook.headers, ...window, request: () => ({ path: `/pull/${token()}`, body: webhook.body }) });
}

/**
 * The floor: per webhook the statements the service issues, through `pool`, each to the next
 * endpoint of `set`, storing `storedHeaders` (what the service stored of the webhook's headers)
 * and its body. Like the service, which keeps endpoints it looked up for a few seconds, it looks
 * each endpoint up once (`ingestEndpointSql`) and then stores every webhook with one statement.
 */
function overPg(pool: Pool, webhook: Webhook, storedHeaders: Record<string, string>, label: string, set: EndpointSet): Drive {
  const token = rotation(set);
  const payload = Buffer.from(webhook.body);
  const endpoints = new Map<string, Promise<{ id: string; config_version: number }>>();
  const endpointOf = (tokenHash: string) => {
    let found = endpoints.get(tokenHash);
    if (!found) {
      const lookup = ingestEndpointSql(tokenHash);
      found = pool.query<{ id: string; config_version: number }>(lookup.text, lookup.values).then(({ rows: [row] }) => {
        if (!row) throw new Error(`${label}: no endpoint has the token`);
        return row;
      });
      endpoints.set(tokenHash, found);
    }
    return found;
  };
  return (window) =>
    workerLoad(label, 1, window, () => {
      const tokenHash = sha256Hex(token());
      return async () => {
        const endpoint = await endpointOf(tokenHash);
        const store = storeEventSql({
          endpointId: endpoint.id,
          configVersion: endpoint.config_version,
          tokenHash,
          eventType: null,
          headers: storedHeaders,
          contentType: webhook.headers['content-type'] ?? null,
          payload,
          payloadIsJson: true,
          queryString: null,
          idempotencyKey: null,
          processingMs: 0,
        });
        const row = (await pool.query<{ id: string | null }>(store.text, store.values)).rows[0];
        if (!row?.id) throw new Error(`${label}: the event was not stored`);
      };
    });
}

/** A warm-up (unless told otherwise), then a measured run, after which the table must hold a new event per 2xx answer. */
async function measured(
  ctx: IngestContext,
  label: string,
  set: EndpointSet,
  connections: number,
  drive: Drive,
  { durationSec = ctx.settings.durationSec, warmUp = true } = {},
): Promise<Measurement> {
  if (warmUp) await drive({ connections, durationSec: ctx.settings.warmupSec });
  const newest = await newestIds(ctx.control, set);
  const run = await drive({ connections, durationSec });
  const events = await storedSince(ctx.control, set, newest);
  if (events < run.requests) throw new Error(`${label}, ${connections} conn: ${run.requests} webhooks answered 2xx, but only ${events} new events stored`);
  ctx.log(`${label.padEnd(38)} ${String(connections).padStart(2)} conn: ${run.rps.toFixed(0).padStart(6)} webhooks/s  p50 ${run.p50Ms.toFixed(2)} ms  p99 ${run.p99Ms.toFixed(2)} ms`);
  return run;
}

export async function ingestSection(ctx: IngestContext): Promise<IngestResults> {
  const { settings, service } = ctx;
  const body = webhookBody(BODY_BYTES);
  const webhook: Webhook = {
    body,
    // The same headers to every endpoint: those without verification store the signature unread.
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/bench',
      'x-github-event': 'push',
      'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      'x-github-hook-id': '292430182',
      'x-hub-signature-256': `sha256=${createHmac('sha256', HMAC_SECRET).update(body).digest('hex')}`,
    },
  };
  const many = await createEndpoints(ctx, ENDPOINTS, false);
  const manyHmac = await createEndpoints(ctx, ENDPOINTS, true);
  const one = await createEndpoints(ctx, 1, false);
  const oneHmac = await createEndpoints(ctx, 1, true);

  for (const set of [many, manyHmac]) {
    await overHttp(service, webhook, 'ingest JIT warm-up', set)({ connections: 4, amount: settings.jitWarmupRequests });
  }
  // The floor stores what the service stored: the headers of a webhook it took, as it kept them.
  const { rows: sample } = await ctx.control.query<{ headers: Record<string, string>; size_bytes: number; payload_is_json: boolean }>(
    'SELECT headers, size_bytes, payload_is_json FROM pull_events WHERE pull_endpoint_id = $1 ORDER BY id DESC LIMIT 1',
    [many.ids[0]],
  );
  const stored = sample[0];
  if (stored?.size_bytes !== BODY_BYTES || !stored.payload_is_json) throw new Error(`the service did not store the webhook as sent: ${JSON.stringify(stored)}`);

  const manyLabel = `ingest, ${ENDPOINTS} endpoints`;
  const variants = [
    { label: `${manyLabel}, HMAC off`, set: many, over: 'http' },
    { label: `${manyLabel}, HMAC on`, set: manyHmac, over: 'http' },
    { label: `ingest floor (pg), ${ENDPOINTS} endpoints`, set: many, over: 'pg' },
    { label: 'ingest, 1 endpoint, HMAC off', set: one, over: 'http' },
    { label: 'ingest, 1 endpoint, HMAC on', set: oneHmac, over: 'http' },
    { label: 'ingest floor (pg), 1 endpoint', set: one, over: 'pg' },
  ] as const;
  const drive = (variant: (typeof variants)[number]) =>
    variant.over === 'http' ? overHttp(service, webhook, variant.label, variant.set) : overPg(ctx.floorPool, webhook, stored.headers, variant.label, variant.set);
  // Interleaved per concurrency, so that a drift of the machine weighs on every variant alike.
  const runs = variants.map(() => [] as Measurement[]);
  for (const c of settings.concurrencies) {
    for (const [i, variant] of variants.entries()) runs[i]!.push(await measured(ctx, variant.label, variant.set, c, drive(variant)));
  }
  const [manyOff, manyOn, floorMany, oneOff, oneOn, floorOne] = runs as [Measurement[], Measurement[], Measurement[], Measurement[], Measurement[], Measurement[]];

  // HMAC on against off, on the same endpoints at the concurrency where off did best, in the order
  // off, on, on, off, half the time each, so that a drift weighs on both sides alike.
  const hc = best(manyOff).concurrency;
  const half = { durationSec: settings.durationSec / 2 };
  const off = overHttp(service, webhook, `${manyLabel}, HMAC off`, many);
  const on = overHttp(service, webhook, `${manyLabel}, HMAC on`, manyHmac);
  const offFirst = await measured(ctx, `${manyLabel}, HMAC off (1/2)`, many, hc, off, half);
  const onFirst = await measured(ctx, `${manyLabel}, HMAC on (1/2)`, manyHmac, hc, on, half);
  const onSecond = await measured(ctx, `${manyLabel}, HMAC on (2/2)`, manyHmac, hc, on, { ...half, warmUp: false });
  const offSecond = await measured(ctx, `${manyLabel}, HMAC off (2/2)`, many, hc, off, { ...half, warmUp: false });
  const hmacOff = merge(`${manyLabel}, HMAC off`, [offFirst, offSecond]);
  const hmacOn = merge(`${manyLabel}, HMAC on`, [onFirst, onSecond]);

  return {
    bodyBytes: BODY_BYTES,
    endpoints: ENDPOINTS,
    concurrencies: settings.concurrencies,
    durationSec: settings.durationSec,
    warmupSec: settings.warmupSec,
    service: {
      manyEndpoints: { hmacOff: manyOff, hmacOn: manyOn },
      oneEndpoint: { hmacOff: oneOff, hmacOn: oneOn },
    },
    floor: { manyEndpoints: floorMany, oneEndpoint: floorOne },
    floorRatio: best(manyOff).rps / best(floorMany).rps,
    targetFloorRatio: 0.7,
    oneEndpointFloorRatio: best(oneOff).rps / best(floorOne).rps,
    oneEndpointRatio: best(oneOff).rps / best(manyOff).rps,
    targetOneEndpointRatio: 0.5,
    hmac: { concurrency: hc, on: hmacOn, off: hmacOff, costPercent: (1 - hmacOn.rps / hmacOff.rps) * 100, targetPercent: 10 },
  };
}
