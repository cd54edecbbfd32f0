import { getMetrics, getTimeseries, windowBounds, WINDOW_MS, type MetricsWindow } from '../../src/metrics/metrics';
import { rebuildFacts } from '../../src/metrics/repository';
import { nextEventId } from '../../src/pull-events/ids';
import { buildEndpointWithToken, buildProject, type TestProject } from '../support/factories';
import { startTestServer, type TestServer } from '../support/server';
import { postWebhook } from '../support/webhooks';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

const WINDOWS: MetricsWindow[] = ['1h', '24h', '7d', '30d'];
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The latency histogram's slot of `ms`, as pull_latency_slot computes it. */
const slotOf = (ms: number) => Math.min(127, Math.floor(4 * Math.log2(ms + 1)));

/** The nearest-rank q-quantile: the ceil(q * n)-th smallest value. */
function exactQuantile(values: number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
}

/** The histogram's estimate lies in the slot that holds the exact value (a neighbour at a float edge). */
function expectEstimate(estimate: number | null, exact: number | null, what: string) {
  if (exact === null) return expect({ what, estimate }).toEqual({ what, estimate: null });
  expect({ what, estimate }).toEqual({ what, estimate: expect.any(Number) });
  expect({ what, slotsApart: Math.abs(slotOf(estimate!) - slotOf(exact)) <= 1 }).toEqual({ what, slotsApart: true });
}

interface Recount {
  received: number;
  fetched: number;
  delivered: number;
  deleted: number;
  rejected: number;
  succeeded: number;
  lifecycleMs: number[];
  fetchMs: number[];
  ackMs: number[];
}

/** The window's figures counted straight from the events and rejections, row by row. */
async function recount(endpointIds: string[], from: Date, to: Date): Promise<Recount> {
  const events = await server.db.pullEvent.findMany({
    where: { pullEndpointId: { in: endpointIds } },
    select: { receivedAt: true, fetchedAt: true, deliveredAt: true, deletedAt: true },
  });
  const rejections = await server.db.pullEndpointRejection.findMany({
    where: { pullEndpointId: { in: endpointIds } },
    select: { receivedAt: true },
  });
  const inWindow = (at: Date | null): at is Date => at !== null && at >= from && at < to;
  const ms = (a: Date, b: Date) => Math.max(0, b.getTime() - a.getTime());
  const figures: Recount = { received: 0, fetched: 0, delivered: 0, deleted: 0, rejected: 0, succeeded: 0, lifecycleMs: [], fetchMs: [], ackMs: [] };
  for (const event of events) {
    if (inWindow(event.receivedAt)) {
      figures.received++;
      if (event.deliveredAt) figures.succeeded++;
    }
    if (inWindow(event.fetchedAt)) {
      figures.fetched++;
      figures.fetchMs.push(ms(event.receivedAt, event.fetchedAt));
    }
    if (inWindow(event.deliveredAt)) {
      figures.delivered++;
      figures.ackMs.push(ms(event.fetchedAt ?? event.receivedAt, event.deliveredAt));
      figures.lifecycleMs.push(ms(event.receivedAt, event.deliveredAt));
    }
    if (inWindow(event.deletedAt)) figures.deleted++;
  }
  figures.rejected = rejections.filter((rejection) => inWindow(rejection.receivedAt)).length;
  return figures;
}

type Metrics = Awaited<ReturnType<typeof getMetrics>>;

function expectMatches(metrics: Metrics, truth: Recount, what: string) {
  const mean = truth.lifecycleMs.length ? Math.round(truth.lifecycleMs.reduce((a, b) => a + b, 0) / truth.lifecycleMs.length) : null;
  expect({ what, ...metrics, time_to_fetch_ms: undefined, time_to_ack_ms: undefined }).toMatchObject({
    what,
    total_messages: truth.received,
    succeeded: truth.succeeded,
    failed: truth.rejected,
    success_rate: truth.received ? truth.succeeded / truth.received : 0,
    avg_latency_ms: mean,
    received: truth.received,
    fetched: truth.fetched,
    delivered: truth.delivered,
    deleted: truth.deleted,
    rejected: truth.rejected,
  });
  for (const q of [0.5, 0.95] as const) {
    const key = q === 0.5 ? 'p50' : 'p95';
    expectEstimate(metrics.time_to_fetch_ms[key], exactQuantile(truth.fetchMs, q), `${what} time_to_fetch ${key}`);
    expectEstimate(metrics.time_to_ack_ms[key], exactQuantile(truth.ackMs, q), `${what} time_to_ack ${key}`);
  }
}

describe('figures kept by the transitions', () => {
  let project: TestProject;
  let endpoints: { id: string; ingestPath: string }[];
  let redeliveries = 0;

  beforeAll(async () => {
    project = await buildProject(server.db, 'metrics workload');
    endpoints = [
      await buildEndpointWithToken(server.db, project.projectId),
      await buildEndpointWithToken(server.db, project.projectId, { verify_static_token: true, token_header_name: 'x-token', token_value: 'a-static-token-of-16+' }),
    ];
    const [plain, guarded] = endpoints as [{ id: string; ingestPath: string }, { id: string; ingestPath: string }];
    const api = server.client(project.apiKey);
    const ids: string[] = [];
    for (let i = 0; i < 14; i++) ids.push((await postWebhook(server.baseUrl, plain.ingestPath, `{"n":${i}}`)).body.data.event_id);
    const guardedIds: string[] = [];
    for (let i = 0; i < 5; i++) {
      guardedIds.push((await postWebhook(server.baseUrl, guarded.ingestPath, '{}', { 'x-token': 'a-static-token-of-16+' })).body.data.event_id);
    }
    for (let i = 0; i < 3; i++) expect((await postWebhook(server.baseUrl, guarded.ingestPath, '{}', { 'x-token': 'wrong' })).status).toBe(401);

    const get = (id: string, event_id: string) => api.GET('/v1/pull-endpoints/{id}/events/{event_id}', { params: { path: { id, event_id } } });
    for (const id of ids.slice(0, 8)) await get(plain.id, id);
    await new Promise((resolve) => setTimeout(resolve, 30));
    for (const id of ids.slice(0, 3)) {
      await get(plain.id, id);
      redeliveries++;
    }
    // Reading the raw bytes of a fetched event is part of its delivery, not a redelivery.
    const raw = await fetch(`${server.baseUrl}/v1/pull-endpoints/${plain.id}/events/${ids[5]}/payload`, {
      headers: { authorization: `Bearer ${project.apiKey}` },
    });
    expect([raw.status, await raw.text()]).toEqual([200, '{"n":5}']);
    // A preview is not a fetch, and a delivered event fetched again is not a redelivery.
    await api.GET('/v1/pull-endpoints/{id}/events/{event_id}', { params: { path: { id: plain.id, event_id: ids[9]! }, query: { preview: true } } });
    await api.POST('/v1/pull-endpoints/{id}/events/ack', { params: { path: { id: plain.id } }, body: { event_ids: [...ids.slice(0, 5), ids[12]!, ids[13]!] } });
    await get(plain.id, ids[0]!);
    await api.POST('/v1/pull-endpoints/{id}/events/ack', { params: { path: { id: plain.id } }, body: { event_ids: ids.slice(0, 5) } });
    await api.POST('/v1/pull-endpoints/{id}/events/delete-batch', { params: { path: { id: plain.id } }, body: { message_ids: ids.slice(4, 7) } });
    await api.DELETE('/v1/pull-endpoints/{id}/events/{event_id}', { params: { path: { id: plain.id, event_id: ids[7]! } } });
    await api.POST('/v1/pull-endpoints/{id}/events/delete-all', { params: { path: { id: guarded.id }, query: { limit: 2 } } });
  });

  it('answer what a recount of the same events finds, in every window, project-wide and per endpoint', async () => {
    const api = server.client(project.apiKey);
    for (const window of WINDOWS) {
      const scopes = [undefined, ...endpoints.map((endpoint) => endpoint.id)];
      for (const endpointId of scopes) {
        const { data } = await api.GET('/v1/pull-metrics', { params: { query: { window, ...(endpointId && { pull_endpoint_id: endpointId }) } } });
        const metrics = data!.data;
        expect(Date.parse(metrics.to) - Date.parse(metrics.from)).toBe(WINDOW_MS[window]);
        const truth = await recount(endpointId ? [endpointId] : endpoints.map((endpoint) => endpoint.id), new Date(metrics.from), new Date(metrics.to));
        expectMatches(metrics, truth, `${window} ${endpointId ?? 'project'}`);
        expect(metrics.retries).toBe(endpointId === endpoints[1]!.id ? 0 : redeliveries);
      }
    }
    const { data } = await api.GET('/v1/pull-metrics', { params: { query: { window: '1h' } } });
    expect(data!.data).toMatchObject({ total_messages: 19, failed: 3, retries: 3, deleted: 6, fetched: 8, delivered: 7, succeeded: 7 });
  });

  it('split each bucket’s received events into stored, fetched and succeeded as they are now', async () => {
    const { data } = await server.client(project.apiKey).GET('/v1/pull-metrics/timeseries', { params: { query: { window: '1h' } } });
    const series = data!.data;
    expect(series).toMatchObject({ window: '1h', pull_endpoint_id: null, bucket_seconds: 60 });
    expect(series.buckets).toHaveLength(60);
    const events = await server.db.pullEvent.findMany({ where: { pullEndpointId: { in: endpoints.map((e) => e.id) } } });
    for (const bucket of series.buckets) {
      const start = Date.parse(bucket.timestamp);
      const inBucket = events.filter((event) => event.receivedAt.getTime() >= start && event.receivedAt.getTime() < start + MINUTE);
      expect(bucket).toMatchObject({
        total: inBucket.length,
        succeeded: inBucket.filter((event) => event.deliveredAt).length,
        fetched: inBucket.filter((event) => event.fetchedAt && !event.deliveredAt).length,
        stored: inBucket.filter((event) => !event.fetchedAt && !event.deliveredAt).length,
      });
    }
    expect(series.buckets.reduce((sum, bucket) => sum + bucket.total, 0)).toBe(19);
  });

  it('are what rebuilding them from the events gives (redeliveries aside, which only the transitions see)', async () => {
    const scopes = [project.projectId, ...endpoints.map((endpoint) => endpoint.id)];
    const snapshot = () => server.db.$queryRaw<{ key: string; events: bigint; sum_ms: bigint }[]>`
      SELECT concat_ws(' ', scope_id, bucket_seconds, bucket_start, kind, slot) AS key, sum(events)::bigint AS events, sum(sum_ms)::bigint AS sum_ms
      FROM pull_event_metrics WHERE scope_id = ANY(${scopes}::uuid[])
      GROUP BY 1 ORDER BY 1`;
    const kept = await snapshot();
    await rebuildFacts(server.db, project.projectId);
    const rebuilt = await snapshot();
    expect(rebuilt).toEqual(kept);
    expect(kept.length).toBeGreaterThan(20);
  });

  it('are the project’s own: another project sees none of them and cannot name its endpoints', async () => {
    const stranger = await buildProject(server.db, 'metrics stranger');
    const api = server.client(stranger.apiKey);
    const { data } = await api.GET('/v1/pull-metrics', { params: { query: { window: '1h' } } });
    expect(data!.data).toMatchObject({ total_messages: 0, failed: 0, retries: 0, deleted: 0, fetched: 0 });
    const series = await api.GET('/v1/pull-metrics/timeseries', { params: { query: { window: '1h' } } });
    expect(series.data!.data.buckets.every((bucket) => bucket.total === 0 && bucket.rejected === 0)).toBe(true);
    for (const path of ['/v1/pull-metrics', '/v1/pull-metrics/timeseries'] as const) {
      const probe = await api.GET(path, { params: { query: { pull_endpoint_id: endpoints[0]!.id } } });
      expect(probe.response.status).toBe(404);
      expect(probe.error!.error.code).toBe('ENDPOINT_NOT_FOUND');
    }
  });
});

it('counts each event once when requests race on the same events (acks, fetches and deletes from many connections)', async () => {
  const project = await buildProject(server.db, 'metrics races');
  const endpoint = await buildEndpointWithToken(server.db, project.projectId);
  const api = server.client(project.apiKey);
  const path = { id: endpoint.id };
  for (let round = 0; round < 6; round++) {
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push((await postWebhook(server.baseUrl, endpoint.ingestPath, `{"n":${i}}`)).body.data.event_id);
    // Six requests of each kind over the same ids at once: only the one that moves an event counts it.
    await Promise.all([
      ...Array.from({ length: 6 }, () => api.POST('/v1/pull-endpoints/{id}/events/ack', { params: { path }, body: { event_ids: ids.slice(0, 8) } })),
      ...Array.from({ length: 6 }, () => api.GET('/v1/pull-endpoints/{id}/events/{event_id}', { params: { path: { ...path, event_id: ids[9]! } } })),
      ...Array.from({ length: 6 }, () => api.POST('/v1/pull-endpoints/{id}/events/delete-batch', { params: { path }, body: { message_ids: ids.slice(4, 12) } })),
    ]);
  }
  const { data } = await api.GET('/v1/pull-metrics', { params: { query: { window: '1h' } } });
  const truth = await recount([endpoint.id], new Date(data!.data.from), new Date(data!.data.to));
  expect(truth).toMatchObject({ received: 72, deleted: 48 });
  expectMatches(data!.data, truth, 'raced');
});

describe('window edges', () => {
  // The clock read once: the rollup is rebuilt from events placed on and around each window's
  // edges as they are at that moment (minute and hour rows are kept only so far back).
  const now = new Date();
  let project: TestProject;
  let endpointIds: string[];

  /** Times on and beside every edge a window or its covering rows have, plus a spread over 32 days. */
  function edgeTimes(): number[] {
    const times: number[] = [];
    for (const window of WINDOWS) {
      const { from, to } = windowBounds(window, now);
      for (const edge of [from.getTime(), to.getTime()]) {
        times.push(edge - 1, edge, edge + 1);
        for (const unit of [HOUR, DAY]) {
          const up = Math.ceil(edge / unit) * unit;
          const down = Math.floor(edge / unit) * unit;
          times.push(up - 1, up, down - 1, down);
        }
      }
    }
    let seed = 7;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    for (let i = 0; i < 400; i++) times.push(now.getTime() - Math.floor(random() * 32 * DAY));
    return times.filter((time) => time <= now.getTime() + MINUTE).sort((a, b) => a - b);
  }

  beforeAll(async () => {
    project = await buildProject(server.db, 'metrics edges');
    // Their own retention, so that no sweep run by another test file expires these old events.
    const endpoints = [
      await buildEndpointWithToken(server.db, project.projectId, { retention_days: 3650 }),
      await buildEndpointWithToken(server.db, project.projectId, { retention_days: 3650 }),
    ];
    endpointIds = endpoints.map((endpoint) => endpoint.id);
    const times = edgeTimes();
    let last: string | undefined;
    const rows = times.map((time, i) => {
      const id = (last = nextEventId(last, time));
      const receivedAt = new Date(Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16));
      // Transitions land on the edges too: each shifted by an amount that crosses them often.
      const fetchedAt = i % 4 === 3 ? null : new Date(receivedAt.getTime() + ((i * 7919) % (3 * HOUR)));
      const deliveredAt = i % 3 === 0 ? new Date((fetchedAt ?? receivedAt).getTime() + ((i * 104729) % DAY)) : null;
      const deletedAt = i % 5 === 0 ? new Date(receivedAt.getTime() + ((i * 15485863) % (2 * DAY))) : null;
      return {
        pullEndpointId: endpointIds[i % 2]!,
        id,
        receivedAt,
        fetchedAt,
        deliveredAt,
        deletedAt,
        status: deliveredAt ? ('delivered' as const) : fetchedAt ? ('fetched' as const) : ('stored' as const),
        payload: Buffer.from('{}'),
      };
    });
    await server.db.pullEvent.createMany({ data: rows });
    let rejection: string | undefined;
    await server.db.pullEndpointRejection.createMany({
      data: times.filter((_time, i) => i % 6 === 0).map((time) => ({
        pullEndpointId: endpointIds[0]!,
        id: (rejection = nextEventId(rejection, time)),
        receivedAt: new Date(time),
        reason: 'bad_signature',
        sourceIp: '192.0.2.1',
        method: 'POST',
      })),
    });
    await rebuildFacts(server.db, project.projectId);
  });

  it.each(WINDOWS)('%s: the figures equal a recount over [from, to), project-wide and per endpoint', async (window) => {
    for (const endpointId of [undefined, ...endpointIds]) {
      const metrics = await getMetrics(server.db, project.projectId, { window, endpointId, now });
      const { from, to } = windowBounds(window, now);
      expect([metrics.from, metrics.to]).toEqual([from.toISOString(), to.toISOString()]);
      const truth = await recount(endpointId ? [endpointId] : endpointIds, from, to);
      expect(truth.received).toBeGreaterThan(0);
      expectMatches(metrics, truth, `${window} ${endpointId ?? 'project'}`);
    }
  });

  it.each(WINDOWS)('%s timeseries: each bucket’s received events split by what they are now', async (window) => {
    const series = await getTimeseries(server.db, project.projectId, { window, endpointId: undefined, now });
    const size = series.bucket_seconds * 1000;
    expect(series.buckets).toHaveLength(WINDOW_MS[window] / size);
    expect(Date.parse(series.buckets.at(-1)!.timestamp)).toBe(Math.floor(now.getTime() / size) * size);
    const events = await server.db.pullEvent.findMany({ where: { pullEndpointId: { in: endpointIds } } });
    const rejections = await server.db.pullEndpointRejection.findMany({ where: { pullEndpointId: { in: endpointIds } } });
    let total = 0;
    for (const bucket of series.buckets) {
      const start = Date.parse(bucket.timestamp);
      const within = (at: Date | null) => at !== null && at.getTime() >= start && at.getTime() < start + size;
      const received = events.filter((event) => within(event.receivedAt));
      total += received.length;
      expect({ at: bucket.timestamp, ...bucket }).toEqual({
        at: bucket.timestamp,
        timestamp: bucket.timestamp,
        total: received.length,
        succeeded: received.filter((event) => event.deliveredAt).length,
        fetched: received.filter((event) => event.fetchedAt && !event.deliveredAt).length,
        stored: received.filter((event) => !event.fetchedAt && !event.deliveredAt).length,
        redelivered: 0,
        deleted: events.filter((event) => within(event.deletedAt)).length,
        rejected: rejections.filter((rejection) => within(rejection.receivedAt)).length,
      });
    }
    expect(total).toBeGreaterThan(0);
  });
});
