import { connect } from 'node:net';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/http/logger';
import { startMetricsServer, type MetricsServer } from '../../src/telemetry/server';
import { buildProject, markDeleted, randomId, type TestProject } from '../support/factories';
import { rememberSecret } from '../support/log-scan';
import { parsePrometheusText, type MetricFamily, type Sample } from '../support/prometheus-text';
import { startTestServer, type TestServer } from '../support/server';
import { postWebhook } from '../support/webhooks';

const DAY_SECONDS = 86_400;
/** Ours, then those of prom-client's process metrics: each takes a bounded set of values. */
const BOUNDED_LABELS = new Set(['operation', 'status', 'le', 'reason', 'outcome', 'state', 'kind', 'space', 'type', 'version', 'major', 'minor', 'patch']);
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

let server: TestServer;
let metrics: MetricsServer;
let owner: TestProject;
let endpoint: { id: string; token: string };
let scraped: { status: number; contentType: string | null; text: string; families: Map<string, MetricFamily> };

const api = () => server.client(owner.apiKey);
const on = () => ({ params: { path: { id: endpoint.id } } });

async function scrape(path = '/metrics', init: RequestInit = {}) {
  const response = await fetch(`http://127.0.0.1:${metrics.port}${path}`, init);
  return { status: response.status, contentType: response.headers.get('content-type'), text: await response.text() };
}

/** The value of the series `name` with exactly these labels; undefined when there is none. */
function valueOf(name: string, labels: Record<string, string> = {}): number | undefined {
  const matches = (sample: Sample) =>
    sample.name === name &&
    Object.keys(sample.labels).length === Object.keys(labels).length &&
    Object.entries(labels).every(([key, value]) => sample.labels[key] === value);
  return [...scraped.families.values()].flatMap((family) => family.samples).find(matches)?.value;
}

const leaseIdsOf = (events: { lease_id: string }[] | undefined) => (events ?? []).map((event) => event.lease_id);

/**
 * Drives one endpoint (max_deliveries 2) through ingest, reads, acks, leases, a dead letter and
 * deletions; each step's effect on the counters is noted beside it.
 */
async function driveTraffic() {
  const created = await api().POST('/v1/pull-endpoints', { body: { name: 'telemetry', max_deliveries: 2 } });
  const { id, secret_token } = created.data!.data;
  rememberSecret(secret_token);
  endpoint = { id, token: secret_token };

  for (const n of [1, 2, 3]) expect((await postWebhook(server.baseUrl, `/pull/${endpoint.token}`, JSON.stringify({ n }))).status).toBe(202); // ingested 3
  expect((await postWebhook(server.baseUrl, `/pull/pes_${'x'.repeat(32)}`, '{}')).status).toBe(401); // refused: unknown_token

  const listed = await api().GET('/v1/pull-endpoints/{id}/events', on()); // listing hands nothing out
  const [e1, e2, e3] = listed.data!.data.map((event) => event.id);
  await api().GET('/v1/pull-endpoints/{id}/events/{event_id}', { params: { path: { id, event_id: e1! } } }); // fetched 1
  await api().GET('/v1/pull-endpoints/{id}/events/{event_id}', { params: { path: { id, event_id: e1! }, query: { preview: true } } });
  await api().POST('/v1/pull-endpoints/{id}/events/ack', { ...on(), body: { event_ids: [e1!] } }); // acked 1
  await api().POST('/v1/pull-endpoints/{id}/events/ack', { ...on(), body: { event_ids: [e1!] } }); // already acknowledged

  const first = await api().POST('/v1/pull-endpoints/{id}/events/receive', { ...on(), body: { max_events: 10 } }); // fetched 2 (e2, e3)
  const [lease2, lease3] = leaseIdsOf(first.data?.data.events);
  await api().POST('/v1/pull-endpoints/{id}/events/leases/ack', { ...on(), body: { lease_ids: [lease2!] } }); // acked, by lease
  await api().POST('/v1/pull-endpoints/{id}/events/leases/ack', { ...on(), body: { lease_ids: [lease2!] } }); // already_acked
  await api().POST('/v1/pull-endpoints/{id}/events/leases/release', { ...on(), body: { lease_ids: [lease3!] } }); // released
  await api().POST('/v1/pull-endpoints/{id}/events/leases/release', { ...on(), body: { lease_ids: [lease3!] } }); // lease_expired

  const again = await api().POST('/v1/pull-endpoints/{id}/events/receive', { ...on(), body: {} }); // fetched 1, redelivered 1 (e3)
  const [lease3b] = leaseIdsOf(again.data?.data.events);
  await api().POST('/v1/pull-endpoints/{id}/events/leases/extend', { ...on(), body: { lease_ids: [lease3b!], lease_seconds: 60 } }); // extended
  await api().POST('/v1/pull-endpoints/{id}/events/leases/release', { ...on(), body: { lease_ids: [lease3b!] } }); // released
  const dead = await api().POST('/v1/pull-endpoints/{id}/events/receive', { ...on(), body: {} }); // e3 at max_deliveries: dead-lettered
  expect(dead.data?.data.events).toEqual([]);

  await api().POST('/v1/pull-endpoints/{id}/events/delete-batch', { ...on(), body: { message_ids: [e1!, e2!, randomId()] } }); // deleted 2
  await api().POST('/v1/pull-endpoints/{id}/events/delete-batch', { ...on(), body: { message_ids: [e1!] } }); // already deleted
  await api().DELETE('/v1/pull-endpoints/{id}/events/{event_id}', { params: { path: { id, event_id: e3! } } }); // deleted 1
  expect((await fetch(`${server.baseUrl}/v1/no-such-thing`)).status).toBe(404);

  // A payload deleted ten days ago and never erased (no sweeper runs here): the sweeper's lag.
  await markDeleted(server.db, id, e1!, new Date(Date.now() - 10 * DAY_SECONDS * 1000), owner.apiKeyId);
}

beforeAll(async () => {
  server = await startTestServer();
  metrics = await startMetricsServer(server.telemetry.registry, { port: 0, host: '127.0.0.1' }, createLogger('silent'));
  owner = await buildProject(server.db, 'telemetry owner');
  await driveTraffic();
  const { status, contentType, text } = await scrape();
  scraped = { status, contentType, text, families: parsePrometheusText(text) };
});
afterAll(async () => {
  await metrics.close();
  await server.close();
});

describe('GET /metrics', () => {
  it('answers the Prometheus text format under the content type prom-client declares', () => {
    expect(scraped.status).toBe(200);
    expect(scraped.contentType).toBe(server.telemetry.registry.contentType);
    expect(scraped.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(scraped.families.get('http_requests_total')?.type).toBe('counter');
  });

  it('counts events ingested, handed out, acknowledged, redelivered, dead-lettered and deleted', () => {
    expect({
      ingested: valueOf('pull_events_ingested_total'),
      fetched: valueOf('pull_events_fetched_total'),
      acked: valueOf('pull_events_acked_total'),
      redelivered: valueOf('pull_events_redelivered_total'),
      deadLettered: valueOf('pull_events_dead_lettered_total'),
      deleted: valueOf('pull_events_deleted_total'),
    }).toEqual({ ingested: 3, fetched: 4, acked: 2, redelivered: 1, deadLettered: 1, deleted: 3 });
  });

  it('counts each lease outcome by operation, and refused webhooks by reason, every series present from 0', () => {
    const outcome = (operation: string, name: string) => valueOf('pull_events_lease_outcomes_total', { operation, outcome: name });
    expect([outcome('ack', 'acked'), outcome('ack', 'already_acked'), outcome('ack', 'lease_expired'), outcome('ack', 'not_found')]).toEqual([1, 1, 0, 0]);
    expect([outcome('release', 'released'), outcome('release', 'lease_expired'), outcome('extend', 'extended')]).toEqual([2, 1, 1]);
    expect(valueOf('pull_events_webhooks_rejected_total', { reason: 'unknown_token' })).toBe(1);
    expect(valueOf('pull_events_webhooks_rejected_total', { reason: 'bad_signature' })).toBe(0);
    expect(scraped.families.get('pull_events_webhooks_rejected_total')?.samples).toHaveLength(11);
  });

  it('counts and times requests by operationId and status code, with histogram buckets per series', () => {
    expect(valueOf('http_requests_total', { operation: 'ingestPullEvent', status: '202' })).toBe(3);
    expect(valueOf('http_requests_total', { operation: 'ingestPullEvent', status: '401' })).toBe(1);
    expect(valueOf('http_requests_total', { operation: 'deletePullEventsBatch', status: '200' })).toBe(2);
    expect(valueOf('http_requests_total', { operation: 'unmatched', status: '404' })).toBe(1);

    const histogram = scraped.families.get('http_request_duration_seconds')!;
    expect(histogram.type).toBe('histogram');
    const labels = { operation: 'receivePullEvents', status: '200' };
    const buckets = histogram.samples.filter((s) => s.name.endsWith('_bucket') && s.labels.operation === labels.operation && s.labels.status === '200');
    expect(buckets.map((s) => s.labels.le)).toEqual(['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '20', '30', '+Inf']);
    expect(valueOf('http_request_duration_seconds_count', labels)).toBe(3);
    expect(valueOf('http_request_duration_seconds_bucket', { ...labels, le: '+Inf' })).toBe(3);
  });

  it("reads the database pool's connections in use and idle, the waiting queries and its size", () => {
    const inUse = valueOf('pull_events_db_pool_connections', { state: 'in_use' });
    const idle = valueOf('pull_events_db_pool_connections', { state: 'idle' });
    expect(inUse! + idle!).toBeGreaterThan(0);
    expect(valueOf('pull_events_db_pool_waiting_requests')).toBe(0);
    expect(valueOf('pull_events_db_pool_max_connections')).toBe(10);
  });

  it('reports the age of the oldest deleted payload the sweeper has not erased', () => {
    // Other test files share the database and backdate deletions of their own, further back at
    // times: only the lower bound is this file's. sweeper-lag.test.ts, on a database of its own,
    // checks the age exactly.
    const age = valueOf('pull_events_sweeper_oldest_unerased_payload_age_seconds')!;
    expect(age).toBeGreaterThanOrEqual(10 * DAY_SECONDS - 60);
    expect(valueOf('pull_events_metrics_collect_errors_total')).toBe(0);
  });

  it("includes Node's process metrics", () => {
    for (const name of ['process_cpu_user_seconds_total', 'process_start_time_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds']) {
      expect(scraped.families.has(name)).toBe(true);
    }
  });

  it('holds no id, ingest token or API key, in a label or anywhere else', () => {
    expect(scraped.text).not.toMatch(UUID);
    expect(scraped.text).not.toContain(endpoint.token);
    expect(scraped.text).not.toContain(owner.apiKey);
    const labelNames = new Set([...scraped.families.values()].flatMap((f) => f.samples.flatMap((s) => Object.keys(s.labels))));
    expect([...labelNames].filter((name) => !BOUNDED_LABELS.has(name))).toEqual([]);
  });

  it('answers 404 to any other path or method', async () => {
    expect((await scrape('/')).status).toBe(404);
    expect((await scrape('/metrics/x')).status).toBe(404);
    expect((await scrape('/metrics', { method: 'POST' })).status).toBe(404);
    expect((await scrape('/metrics?name[]=x')).status).toBe(200);
  });
});

describe('where the metrics are served', () => {
  it('is not a route of the API: the API answers /metrics with its NOT_FOUND envelope', async () => {
    const response = await fetch(`${server.baseUrl}/metrics`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });

  it('is off unless METRICS_PORT is set, and on the loopback address unless METRICS_HOST says otherwise', () => {
    const saved = { port: process.env.METRICS_PORT, host: process.env.METRICS_HOST };
    try {
      delete process.env.METRICS_PORT;
      delete process.env.METRICS_HOST;
      expect(loadConfig().metrics).toEqual({ port: undefined, host: '127.0.0.1' });
      process.env.METRICS_PORT = '9464';
      expect(loadConfig().metrics).toEqual({ port: 9464, host: '127.0.0.1' });
      process.env.METRICS_PORT = 'nine';
      expect(() => loadConfig()).toThrow(/METRICS_PORT/);
    } finally {
      for (const [key, value] of [['METRICS_PORT', saved.port], ['METRICS_HOST', saved.host]] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });

  it('listens on 127.0.0.1 alone: the IPv6 loopback is refused', async () => {
    expect(metrics.host).toBe('127.0.0.1');
    const socket = connect({ host: '::1', port: metrics.port });
    const refused = await new Promise<boolean>((resolve) => {
      socket.once('connect', () => resolve(false));
      socket.once('error', () => resolve(true));
    });
    socket.destroy();
    expect(refused).toBe(true);
  });
});
