/**
 * Section 8, reads on a big table: the service's read paths over HTTP on a table of `events`
 * events received over the last 30 days in ENDPOINTS endpoints of one project: the project's
 * event log (`GET /v1/pull-logs`), its figures (`GET /v1/pull-metrics`, 1h to 30d, and the 24h
 * timeseries), and one endpoint's stored events (`GET /v1/pull-endpoints/{id}/events`), first page
 * and a page deep into the list. p50, p99 and req/s per concurrency.
 *
 * It runs in a database of its own beside the bench's (`<bench database>_reads`), dropped when the
 * section ends: the earlier sections leave ~6M events of their own in theirs, all received within
 * minutes and thousands of them deleted, which would make this table twice as big and its mix
 * nothing like the one below; and these 6M rows (and their rollup) leave the earlier sections'
 * figures as they were. It runs last, so nothing it does weighs on them either.
 *
 * The events are generated in SQL (generate_series), one INSERT per endpoint in id order, as the
 * service would have stored them: a UUIDv7 id whose time is received_at, received_at uniform over
 * 30 days, a lifecycle (fetched, acknowledged, deleted) drawn per event, and a status that agrees
 * with it. The metrics rollup is then rebuilt from them with the service's own `rebuildFacts`.
 */
import pg from 'pg';
import { noSecretBox } from '../src/auth/encryption';
import { createPrismaClient } from '../src/db/prisma';
import { rebuildFacts } from '../src/metrics/repository';
import { createProject } from '../src/projects/repository';
import { createEndpoint } from '../src/pull-endpoints/endpoints';
import { httpLoad, type Measurement } from './load';
import type { ReadOperation, ReadsResults } from './report';
import { startService, type BenchDatabase, type ChildServer, type Log } from './setup';

/** Endpoints of the project; one of them is the big, mostly-stored endpoint whose list is read. */
const ENDPOINTS = 24;
const SPAN_DAYS = 30;
/** The page size of the reads measured; the deep cursor is found with pages of PAGING_LIMIT. */
const PAGE = 100;
const PAGING_LIMIT = 1000;
/** The fewest requests a measured run makes, however slow the read. */
const MIN_REQUESTS = 10;

/**
 * Shares of an endpoint's events, drawn per event: fetched and then acknowledged, fetched only,
 * acknowledged without a fetch; and, independently, deleted. A fetch comes 200 ms to 10 min after
 * receipt, an acknowledgement 50 ms to 2 min after that (log-uniform); a step that would fall after
 * the load's `now` has not happened yet, so the newest events are mostly stored.
 */
interface Mix {
  fetchedDelivered: number;
  fetchedOnly: number;
  deliveredUnread: number;
  deleted: number;
}
/** ~70% fetched, ~60% delivered, 3% deleted. */
const MIX: Mix = { fetchedDelivered: 0.58, fetchedOnly: 0.12, deliveredUnread: 0.02, deleted: 0.03 };
/** The endpoint whose list is read: ~95% stored, as a consumer that has fallen behind. */
const BIG_MIX: Mix = { fetchedDelivered: 0.03, fetchedOnly: 0.02, deliveredUnread: 0, deleted: 0.01 };

/**
 * $1 endpoint, $2 events, $3..$6 the mix, $7 now. Ids: the receive millisecond in the first 48
 * bits, version 7, 12 + 62 bits from md5(endpoint, n) (the variant nibble always 8); inserted in
 * id order so that every index grows at its end, as under ingest.
 */
const GENERATE_SQL = `
  WITH raw AS (
    SELECT n, h, ms,
           ms + floor(exp(ln(200) + random() * ln(600000 / 200.0)))::bigint AS fetch_ms,
           floor(exp(ln(50) + random() * ln(120000 / 50.0)))::bigint AS ack_after,
           random() AS fate, random() AS gone, random() AS gone_after
    FROM (
      SELECT n, md5($1::text || n) AS h,
             floor(extract(epoch FROM $7::timestamptz) * 1000)::bigint - floor(random() * ${SPAN_DAYS} * 86400000)::bigint AS ms
      FROM generate_series(1, $2::int) n
      OFFSET 0
    ) s
    OFFSET 0
  ), lifecycle AS (
    SELECT n, h, ms, gone, gone_after,
           CASE WHEN fate < $3::float8 + $4::float8 AND fetch_ms <= floor(extract(epoch FROM $7::timestamptz) * 1000) THEN fetch_ms END AS fetched_ms,
           CASE WHEN fate < $3::float8 AND fetch_ms + ack_after <= floor(extract(epoch FROM $7::timestamptz) * 1000) THEN fetch_ms + ack_after
                WHEN fate >= $3::float8 + $4::float8 AND fate < $3::float8 + $4::float8 + $5::float8
                     AND fetch_ms + ack_after <= floor(extract(epoch FROM $7::timestamptz) * 1000) THEN fetch_ms + ack_after
           END AS delivered_ms
    FROM raw
  ), ev AS (
    SELECT n, h,
           (lpad(to_hex(ms), 12, '0') || '7' || substr(h, 1, 3) || '8' || substr(h, 4, 15))::uuid AS id,
           (ARRAY['order.created', 'order.paid', 'invoice.sent', 'customer.updated'])[1 + n % 4] AS event_type,
           to_timestamp(ms / 1000.0) AS received_at,
           to_timestamp(fetched_ms / 1000.0) AS fetched_at,
           to_timestamp(delivered_ms / 1000.0) AS delivered_at,
           CASE WHEN gone < $6::float8
                THEN least($7::timestamptz, to_timestamp((coalesce(delivered_ms, fetched_ms, ms) + floor(gone_after * 3600000)) / 1000.0)) END AS deleted_at
    FROM lifecycle
  )
  INSERT INTO pull_events (pull_endpoint_id, id, event_type, status, received_at, headers, payload, content_type, payload_is_json,
                           size_bytes, fetched_at, delivered_at, ingest_processing_ms, deleted_at)
  SELECT $1::uuid, ev.id, ev.event_type,
         (CASE WHEN ev.delivered_at IS NOT NULL THEN 'delivered' WHEN ev.fetched_at IS NOT NULL THEN 'fetched' ELSE 'stored' END)::pull_event_status,
         ev.received_at,
         '{"content-type": "application/json", "user-agent": "pull-events-bench"}'::jsonb,
         p.payload, 'application/json', true, octet_length(p.payload),
         ev.fetched_at, ev.delivered_at, 1 + ev.n % 7, ev.deleted_at
  FROM ev, LATERAL (SELECT convert_to(json_build_object(
           'id', 'evt_' || substr(ev.h, 1, 24), 'type', ev.event_type, 'seq', ev.n, 'amount', ev.n * 7 % 100000,
           'currency', 'EUR', 'customer', 'cus_' || substr(ev.h, 9, 14),
           'description', 'Read-path benchmark event, a small JSON body')::text, 'UTF8') AS payload) p
  ORDER BY ev.id`;

export interface ReadsSettings {
  /** Events in the table, all in one project. */
  events: number;
  /** Events of the big endpoint whose list is read (the rest are spread evenly over the others). */
  bigEndpointEvents: number;
  /** Live stored events of the big endpoint before the deep cursor. */
  deepAfter: number;
  concurrencies: number[];
  durationSec: number;
  warmupSec: number;
  jitWarmupRequests: number;
  /** Concurrent statements loading events and rebuilding the rollup. */
  loadWorkers: number;
}

export interface ReadsContext {
  /** The bench's database: this section makes its own beside it on the same server. */
  database: BenchDatabase;
  log: Log;
  /** Registers a step the bench runs when it ends, also after a failure (each step runs once). */
  cleanUp: (step: () => Promise<unknown>) => void;
  encryptionKey: string;
  poolSize: number;
  settings: ReadsSettings;
}

/** `step`, run at most once: the section runs it when done, the bench's clean-up after a failure. */
function once(step: () => Promise<unknown>): () => Promise<void> {
  let done: Promise<unknown> | undefined;
  return async () => {
    done ??= step();
    await done;
  };
}

/** `work` on every item, `workers` at a time, in order. */
async function inParallel<T>(items: T[], workers: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(workers, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

const seconds = (since: number) => Math.round((Date.now() - since) / 100) / 10;

interface Endpoint {
  id: string;
  events: number;
  mix: Mix;
}

interface Operation {
  key: ReadOperation;
  request: string;
  /** Items in each answer (events, logs; 1 for figures). */
  items: number;
  path: string;
}

export async function readsSection(ctx: ReadsContext): Promise<ReadsResults> {
  const { log, settings } = ctx;
  if (settings.bigEndpointEvents >= settings.events) throw new Error('the big endpoint must hold only part of the events');
  const began = Date.now();
  const database = await ctx.database.sibling('reads');
  const dropDatabase = once(() => database.drop());
  ctx.cleanUp(dropDatabase);
  log(`reads: database ${database.name} created and migrated`);

  const control = new pg.Pool({ connectionString: database.url, max: settings.loadWorkers });
  control.on('error', (error) => log(`an idle database connection closed: ${error.message}`));
  const endControl = once(() => control.end());
  ctx.cleanUp(endControl);
  // No statement timeout: rebuilding the rollup of 6M events is one statement of minutes.
  const prisma = createPrismaClient(database.url, { poolSize: 2, statementTimeoutMs: 0 });
  const disconnect = once(() => prisma.$disconnect());
  ctx.cleanUp(disconnect);

  // ---- the data ---------------------------------------------------------------------------
  const { project, apiKey } = await createProject(prisma, 'benchmark reads');
  const others = ENDPOINTS - 1;
  const perOther = Math.floor((settings.events - settings.bigEndpointEvents) / others);
  const endpoints: Endpoint[] = [];
  for (let i = 0; i < ENDPOINTS; i++) {
    const big = i === 0;
    // The last endpoint takes the remainder, so that the table holds exactly `events`.
    const events = big ? settings.bigEndpointEvents : i === others ? settings.events - settings.bigEndpointEvents - perOther * (others - 1) : perOther;
    const name = big ? 'bench reads, mostly stored' : `bench reads ${i}`;
    const { row } = await createEndpoint({ db: prisma, box: noSecretBox }, project.id, { name });
    endpoints.push({ id: row.id, events, mix: big ? BIG_MIX : MIX });
  }
  const bigEndpoint = endpoints[0]!;

  const now = new Date();
  const loadStart = Date.now();
  let loaded = 0;
  let lastReport = loadStart;
  await inParallel(endpoints, settings.loadWorkers, async (endpoint) => {
    const { mix } = endpoint;
    await control.query(GENERATE_SQL, [endpoint.id, endpoint.events, mix.fetchedDelivered, mix.fetchedOnly, mix.deliveredUnread, mix.deleted, now]);
    loaded += endpoint.events;
    if (Date.now() - lastReport < 5000) return;
    lastReport = Date.now();
    const rate = loaded / ((Date.now() - loadStart) / 1000);
    log(`  loading events: ${loaded.toLocaleString('en')} / ${settings.events.toLocaleString('en')} (${Math.round(rate).toLocaleString('en')}/s, ~${Math.ceil((settings.events - loaded) / rate)} s left)`);
  });
  await control.query(
    `UPDATE pull_endpoints p SET last_event_id = (SELECT e.id FROM pull_events e WHERE e.pull_endpoint_id = p.id ORDER BY e.id DESC LIMIT 1)
     WHERE p.project_id = $1`,
    [project.id],
  );
  const loadSec = seconds(loadStart);
  log(`reads: loaded ${settings.events.toLocaleString('en')} events into ${ENDPOINTS} endpoints in ${loadSec} s (${Math.round(settings.events / loadSec).toLocaleString('en')}/s)`);

  // The rollup (each endpoint's rows and the project's), rebuilt from the events as after any
  // bulk load: one statement over the project, in a transaction without a time limit.
  const rebuildStart = Date.now();
  await rebuildFacts(prisma, project.id);
  const rebuildSec = seconds(rebuildStart);
  log(`reads: rebuildFacts over the project's ${ENDPOINTS} endpoints took ${rebuildSec} s`);

  // As autovacuum would sooner or later, and so that it does not start during the runs.
  const vacuumStart = Date.now();
  await control.query('VACUUM (ANALYZE) pull_events, pull_event_metrics');
  const vacuumAnalyzeSec = seconds(vacuumStart);
  // The load's dirty pages, written out now rather than by a checkpoint in the middle of a run.
  await control.query('CHECKPOINT').catch((error: Error) => log(`reads: CHECKPOINT not permitted (${error.message}); a checkpoint may fall within a run`));
  log(`reads: VACUUM (ANALYZE) took ${vacuumAnalyzeSec} s`);

  const { rows: [facts] } = await control.query<{ rows: number; stored: number; fetched: number; delivered: number; deleted: number; table_mb: number; rollup_mb: number; rollup_rows: number }>(
    `SELECT count(*)::int AS rows,
            count(*) FILTER (WHERE status = 'stored')::int AS stored,
            count(fetched_at)::int AS fetched,
            count(delivered_at)::int AS delivered,
            count(deleted_at)::int AS deleted,
            (COALESCE((SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('pull_events')), pg_total_relation_size('pull_events')) / 1048576.0)::float8 AS table_mb,
            (pg_total_relation_size('pull_event_metrics') / 1048576.0)::float8 AS rollup_mb,
            (SELECT count(*)::int FROM pull_event_metrics) AS rollup_rows
     FROM pull_events`,
  );
  const { rows: [big] } = await control.query<{ live_stored: number }>(
    "SELECT count(*)::int AS live_stored FROM pull_events WHERE pull_endpoint_id = $1 AND status = 'stored' AND deleted_at IS NULL",
    [bigEndpoint.id],
  );
  if (!facts || !big) throw new Error('reads: the table could not be counted');
  if (facts.rows !== settings.events) throw new Error(`reads: ${facts.rows} events loaded, ${settings.events} expected`);
  if (big.live_stored < settings.deepAfter + PAGE) throw new Error(`reads: the big endpoint has ${big.live_stored} live stored events, too few for a cursor after ${settings.deepAfter}`);
  const percent = (n: number) => Math.round((n / facts.rows) * 1000) / 10;
  log(
    `reads: ${percent(facts.stored)}% stored, ${percent(facts.fetched)}% fetched, ${percent(facts.delivered)}% delivered, ${percent(facts.deleted)}% deleted; ` +
      `pull_events ${facts.table_mb.toFixed(0)} MB, pull_event_metrics ${facts.rollup_rows.toLocaleString('en')} rows, ${facts.rollup_mb.toFixed(0)} MB`,
  );

  // ---- the service --------------------------------------------------------------------------
  const service: ChildServer = await startService('service (reads)', database.url, { poolSize: ctx.poolSize, encryptionKey: ctx.encryptionKey });
  const stopService = once(() => service.stop());
  ctx.cleanUp(stopService);
  log(`reads: service pid ${service.pid} on ${service.baseUrl}`);
  const headers = { authorization: `Bearer ${apiKey.key}` };
  const get = async <T>(path: string): Promise<{ body: T; bytes: number }> => {
    const response = await fetch(`${service.baseUrl}${path}`, { headers });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`reads: GET ${path} answered ${response.status}: ${text.slice(0, 300)}`);
    return { body: JSON.parse(text) as T, bytes: Buffer.byteLength(text) };
  };
  type Page<T> = { data: T[]; meta: { has_more: boolean; next_cursor: string | null } };
  type EventSummary = { id: string; status: string };

  // The deep cursor: the list paged through once, as a consumer would, up to `deepAfter` events.
  const listPath = `/v1/pull-endpoints/${bigEndpoint.id}/events?status=stored`;
  const pagingStart = Date.now();
  let cursor: string | undefined;
  let lastId = '';
  for (let passed = 0; passed < settings.deepAfter; ) {
    const limit = Math.min(PAGING_LIMIT, settings.deepAfter - passed);
    const { body } = await get<Page<EventSummary>>(`${listPath}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    if (body.data.length !== limit || !body.meta.next_cursor) throw new Error(`reads: paging the big endpoint stopped after ${passed} events`);
    passed += body.data.length;
    cursor = body.meta.next_cursor;
    lastId = body.data.at(-1)!.id;
  }
  if (!cursor) throw new Error('reads: no deep cursor');
  log(`reads: paged through ${settings.deepAfter.toLocaleString('en')} stored events (pages of ${PAGING_LIMIT}) in ${seconds(pagingStart)} s for the deep cursor`);

  const operations: Operation[] = [
    { key: 'pullLogs', request: `GET /v1/pull-logs?limit=${PAGE}`, items: PAGE, path: `/v1/pull-logs?limit=${PAGE}` },
    ...(['1h', '24h', '7d', '30d'] as const).map((window) => ({
      key: `metrics${window}` as const,
      request: `GET /v1/pull-metrics?window=${window}`,
      items: 1,
      path: `/v1/pull-metrics?window=${window}`,
    })),
    { key: 'timeseries24h', request: 'GET /v1/pull-metrics/timeseries?window=24h', items: 1, path: '/v1/pull-metrics/timeseries?window=24h' },
    { key: 'eventsFirstPage', request: `GET /v1/pull-endpoints/{id}/events?status=stored&limit=${PAGE}`, items: PAGE, path: `${listPath}&limit=${PAGE}` },
    {
      key: 'eventsDeepCursor',
      request: `GET /v1/pull-endpoints/{id}/events?status=stored&limit=${PAGE}&cursor=<after ${settings.deepAfter.toLocaleString('en')}>`,
      items: PAGE,
      path: `${listPath}&limit=${PAGE}&cursor=${cursor}`,
    },
  ];

  // ---- every answer checked once against the table ---------------------------------------------
  const responseBytes = {} as Record<ReadOperation, number>;
  const byKey = (key: ReadOperation) => operations.find((op) => op.key === key)!;
  {
    const logs = await get<Page<{ event_id: string }>>(byKey('pullLogs').path);
    responseBytes.pullLogs = logs.bytes;
    const { rows: [newest] } = await control.query<{ id: string }>(
      'SELECT last_event_id::text AS id FROM pull_endpoints WHERE project_id = $1 ORDER BY last_event_id DESC LIMIT 1',
      [project.id],
    );
    const ids = logs.body.data.map((entry) => entry.event_id);
    if (ids.length !== PAGE || !logs.body.meta.has_more || ids[0] !== newest?.id || ids.some((id, i) => i > 0 && id >= ids[i - 1]!)) {
      throw new Error(`reads: the pull-logs page is not the project's ${PAGE} newest events, newest first`);
    }

    for (const window of ['1h', '24h', '7d', '30d'] as const) {
      const key = `metrics${window}` as const;
      const metrics = await get<{ data: { received: number; fetched: number; delivered: number; deleted: number; from: string; to: string } }>(byKey(key).path);
      responseBytes[key] = metrics.bytes;
      const figures = metrics.body.data;
      // The rollup against the events themselves: each count is of the events whose step fell in the window.
      const { rows: [counted] } = await control.query<{ received: number; fetched: number; delivered: number; deleted: number }>(
        `SELECT count(*) FILTER (WHERE received_at >= $1 AND received_at < $2)::int AS received,
                count(*) FILTER (WHERE fetched_at >= $1 AND fetched_at < $2)::int AS fetched,
                count(*) FILTER (WHERE delivered_at >= $1 AND delivered_at < $2)::int AS delivered,
                count(*) FILTER (WHERE deleted_at >= $1 AND deleted_at < $2)::int AS deleted
         FROM pull_events`,
        [figures.from, figures.to],
      );
      const mismatch = (['received', 'fetched', 'delivered', 'deleted'] as const).filter((kind) => figures[kind] !== counted?.[kind]);
      if (mismatch.length > 0 || figures.received <= 0) {
        throw new Error(`reads: pull-metrics window=${window} ${JSON.stringify(figures)} disagrees with the events ${JSON.stringify(counted)}`);
      }
    }

    const series = await get<{ data: { buckets: { total: number }[] } }>(byKey('timeseries24h').path);
    responseBytes.timeseries24h = series.bytes;
    const total = series.body.data.buckets.reduce((sum, bucket) => sum + bucket.total, 0);
    if (series.body.data.buckets.length !== 96 || total <= 0) throw new Error('reads: the 24h timeseries is not 96 buckets with events in them');

    const { rows: expected } = await control.query<{ id: string }>(
      `(SELECT id::text FROM pull_events WHERE pull_endpoint_id = $1 AND status = 'stored' AND deleted_at IS NULL ORDER BY id LIMIT 1)
       UNION ALL
       (SELECT id::text FROM pull_events WHERE pull_endpoint_id = $1 AND status = 'stored' AND deleted_at IS NULL AND id > $2 ORDER BY id LIMIT 1)`,
      [bigEndpoint.id, lastId],
    );
    for (const [key, firstId] of [
      ['eventsFirstPage', expected[0]?.id],
      ['eventsDeepCursor', expected[1]?.id],
    ] as const) {
      const page = await get<Page<EventSummary>>(byKey(key).path);
      responseBytes[key] = page.bytes;
      const ids = page.body.data.map((event) => event.id);
      if (ids.length !== PAGE || ids[0] !== firstId || page.body.data.some((event) => event.status !== 'stored') || ids.some((id, i) => i > 0 && id <= ids[i - 1]!)) {
        throw new Error(`reads: ${key} is not the ${PAGE} stored events expected, in id order`);
      }
    }
  }
  log('reads: every answer agrees with the table (pull-logs newest first, metrics counts, timeseries, both event pages)');

  // ---- the runs -------------------------------------------------------------------------------
  // Every run is a number of requests, all answered before the next run starts: a read can take
  // seconds, and a run cut off by a clock would leave its requests running into the next one. A
  // probe of one request per connection gives the rate; the warm-up then lasts about warmupSec
  // (the probe alone when it took that long), and the measured run, sized from the warm-up's rate,
  // about durationSec, and at least MIN_REQUESTS (and 2 per connection). A non-2xx answer (a
  // statement timeout under load) is counted, not fatal; autocannon waits 60 s for an answer.
  const drive = (op: Operation, connections: number, amount: number) =>
    httpLoad(op.request, op.items, {
      baseUrl: service.baseUrl,
      method: 'GET',
      headers,
      connections,
      amount,
      allowFailures: true,
      // Past the service's 15 s statement timeout, which answers 500: a slow read is measured, not dropped.
      timeoutSec: 60,
      request: () => ({ path: op.path }),
    });
  const forAbout = (seconds: number, after: Measurement) => Math.ceil(after.rps * seconds);
  // The JIT warm-up: about jitWarmupRequests / 8 requests of each, at most ~2 s of each.
  const jitConnections = 4;
  for (const op of operations) {
    const probe = await drive(op, jitConnections, jitConnections);
    const more = Math.min(Math.ceil(settings.jitWarmupRequests / operations.length), forAbout(2, probe)) - jitConnections;
    if (more > 0) await drive(op, jitConnections, more);
  }

  const runs = Object.fromEntries(operations.map((op) => [op.key, [] as Measurement[]])) as Record<ReadOperation, Measurement[]>;
  // Every operation at one concurrency before the next, so that a drift weighs on all alike.
  for (const c of settings.concurrencies) {
    for (const op of operations) {
      const probe = await drive(op, c, c);
      const more = forAbout(settings.warmupSec, probe) - c;
      const warm = more > 0 ? await drive(op, c, Math.max(c, more)) : probe;
      const run = await drive(op, c, Math.max(MIN_REQUESTS, 2 * c, forAbout(settings.durationSec, warm)));
      runs[op.key].push(run);
      const failed = run.failed ? `, ${run.failed} non-2xx answers` : '';
      log(`${op.request.slice(0, 60).padEnd(60)} ${String(c).padStart(2)} conn: ${run.rps.toFixed(1).padStart(6)} req/s  p50 ${run.p50Ms.toFixed(2)} ms  p99 ${run.p99Ms.toFixed(2)} ms  (${run.requests} requests${failed})`);
    }
  }

  await stopService();
  await disconnect();
  await endControl();
  await dropDatabase();
  log(`reads: section done in ${seconds(began)} s; database ${database.name} dropped`);

  const atOne = (key: ReadOperation) => runs[key].find((run) => run.concurrency === 1) ?? runs[key][0]!;
  return {
    rows: facts.rows,
    endpoints: ENDPOINTS,
    spanDays: SPAN_DAYS,
    bigEndpoint: { events: bigEndpoint.events, liveStored: big.live_stored, deepAfter: settings.deepAfter },
    mix: { stored: percent(facts.stored), fetched: percent(facts.fetched), delivered: percent(facts.delivered), deleted: percent(facts.deleted) },
    loadSec,
    loadRowsPerSec: Math.round(facts.rows / loadSec),
    rebuildSec,
    vacuumAnalyzeSec,
    rollupRows: facts.rollup_rows,
    tableMb: Math.round(facts.table_mb),
    rollupMb: Math.round(facts.rollup_mb),
    sectionSec: seconds(began),
    concurrencies: settings.concurrencies,
    durationSec: settings.durationSec,
    warmupSec: settings.warmupSec,
    operations: Object.fromEntries(
      operations.map((op) => [op.key, { request: op.request, responseBytes: responseBytes[op.key], runs: runs[op.key] }]),
    ) as ReadsResults['operations'],
    deepCursorRatio: atOne('eventsDeepCursor').p50Ms / atOne('eventsFirstPage').p50Ms,
    targets: { rows: 6_000_000, metrics30dP50Ms: 50, firstPageP50Ms: 10, deepCursorRatio: 1.5 },
  };
}
