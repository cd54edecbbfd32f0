import { Prisma } from '../db/generated/client';
import type { Database } from '../db/prisma';

/**
 * What a transition adds to the rollup (table `pull_event_metrics`, see its migration):
 * - received: a webhook stored; fetched: an event's first fetch, by time to fetch;
 * - delivered: an event's first acknowledgement, by time to ack; lifecycle: the same
 *   acknowledgement, with received-to-acknowledged as its milliseconds;
 * - redelivered: a fetch of an event already fetched and not yet acknowledged;
 * - deleted: by the API or by retention; rejected: a webhook the ingest URL refused;
 * - receipt_*: a first fetch, a first ack, and a first ack of an event never fetched, counted at
 *   the time the event was received, so a receipt bucket knows how many of its events moved on;
 *   receipt_replayed (a delivered event replayed back to stored) and receipt_replayed_unread (one
 *   that had been acknowledged unread) take back what its first fetch and ack added there.
 */
export type FactKind =
  | 'received'
  | 'fetched'
  | 'delivered'
  | 'lifecycle'
  | 'redelivered'
  | 'deleted'
  | 'rejected'
  | 'receipt_fetched'
  | 'receipt_delivered'
  | 'receipt_delivered_unread'
  | 'receipt_replayed'
  | 'receipt_replayed_unread';

/**
 * The rollup keeps every fact in its minute, its hour and its day: minute rows for 26 hours (the
 * 1h and 24h windows and the 24h timeseries read them), hour rows for 32 days (the edges of the
 * 7d and 30d windows, and their timeseries), day rows for good.
 */
export const ROLLUP_HORIZONS = [
  { seconds: 60, keptHours: 26 },
  { seconds: 3600, keptHours: 32 * 24 },
  { seconds: 86400, keptHours: null },
] as const;

/** Milliseconds from `from` to `to` (SQL expressions), never negative. */
export const millisBetween = (from: Prisma.Sql, to: Prisma.Sql) =>
  Prisma.sql`greatest(0, round(extract(epoch FROM ${to} - ${from}) * 1000))::bigint`;

/**
 * An INSERT adding the facts `source` yields (columns pull_endpoint_id, project_id, kind, at, ms)
 * to their minute, hour and day, for the endpoint and for its project. It runs as a CTE of the
 * statement that makes the transition, so the rollup and the events commit together. Rows are
 * upserted in key order, so two statements adding to the same counters queue rather than
 * deadlock; the shard (the backend's pid) spreads concurrent writers over different rows. A fact
 * older than a row size's horizon (a late ack of an old event, counted at its receipt) skips it.
 */
export function addFactsSql(source: Prisma.Sql) {
  const horizons = Prisma.join(
    ROLLUP_HORIZONS.map((h) => Prisma.sql`(${h.seconds}::int, ${h.keptHours === null ? null : `${h.keptHours} hours`}::interval)`),
  );
  return Prisma.sql`
    INSERT INTO pull_event_metrics AS m (scope_id, bucket_seconds, bucket_start, kind, slot, shard, events, sum_ms)
    SELECT s.scope_id, g.seconds, to_timestamp(floor(extract(epoch FROM f.at) / g.seconds) * g.seconds), f.kind,
           CASE WHEN f.kind IN ('fetched', 'delivered') THEN pull_latency_slot(f.ms) ELSE 0 END,
           pg_backend_pid() % 4, count(*), coalesce(sum(f.ms), 0)
    FROM (${source}) f
    CROSS JOIN LATERAL (VALUES (f.pull_endpoint_id), (f.project_id)) s(scope_id)
    CROSS JOIN (VALUES ${horizons}) g(seconds, horizon)
    WHERE g.horizon IS NULL OR f.at >= now() - g.horizon
    GROUP BY 1, 2, 3, 4, 5, 6
    ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (scope_id, bucket_seconds, bucket_start, kind, slot, shard)
    DO UPDATE SET events = m.events + excluded.events, sum_ms = m.sum_ms + excluded.sum_ms`;
}

/** Project-wide, or one endpoint of the project. */
export interface MetricsScope {
  projectId: string;
  endpointId?: string;
}

/** The rollup's scope: the endpoint's rows, or the project's (the caller checked the endpoint is the project's). */
const scopeSql = (scope: MetricsScope) => Prisma.sql`m.scope_id = ${scope.endpointId ?? scope.projectId}::uuid`;

/** Rows of one bucket size whose start lies in [from, to). */
export interface Segment {
  seconds: number;
  from: Date;
  to: Date;
}

export interface FactSum {
  kind: FactKind;
  slot: number;
  events: bigint;
  sum_ms: bigint;
}

/**
 * Totals by kind and latency slot over the rows the segments name: one range of the primary key
 * per segment (a join with a list of ranges is planned as a scan of the whole table).
 */
export async function sumFacts(db: Database, scope: MetricsScope, segments: Segment[]): Promise<FactSum[]> {
  if (segments.length === 0) return [];
  const ranges = Prisma.join(
    segments.map(
      (s) => Prisma.sql`
        SELECT m.kind, m.slot, m.events, m.sum_ms FROM pull_event_metrics m
        WHERE ${scopeSql(scope)} AND m.bucket_seconds = ${s.seconds}::int
          AND m.bucket_start >= ${s.from}::timestamptz AND m.bucket_start < ${s.to}::timestamptz`,
    ),
    ' UNION ALL ',
  );
  return db.$queryRaw<FactSum[]>`
    SELECT kind, slot, sum(events)::bigint AS events, sum(sum_ms)::bigint AS sum_ms
    FROM (${ranges}) rows
    GROUP BY kind, slot`;
}

export interface FactSeriesRow {
  bucket_start: Date;
  kind: FactKind;
  events: bigint;
}

/** Counts by kind per `bucketSeconds`, from the rollup's `sourceSeconds` rows in [from, to). */
export async function factSeries(
  db: Database,
  scope: MetricsScope,
  sourceSeconds: number,
  bucketSeconds: number,
  from: Date,
  to: Date,
): Promise<FactSeriesRow[]> {
  return db.$queryRaw<FactSeriesRow[]>`
    SELECT to_timestamp(floor(extract(epoch FROM m.bucket_start) / ${bucketSeconds}::int) * ${bucketSeconds}::int) AS bucket_start,
           m.kind, sum(m.events)::bigint AS events
    FROM pull_event_metrics m
    WHERE ${scopeSql(scope)} AND m.bucket_seconds = ${sourceSeconds}::int
      AND m.bucket_start >= ${from}::timestamptz AND m.bucket_start < ${to}::timestamptz
      AND m.kind IN ('received', 'receipt_fetched', 'receipt_delivered', 'receipt_delivered_unread', 'receipt_replayed',
                     'receipt_replayed_unread', 'redelivered', 'deleted', 'rejected')
    GROUP BY 1, 2`;
}

/**
 * Rebuilds a project's rollup (each endpoint's and the project's) from its events and kept
 * rejections: what the migration did for data from before it, and what a bulk load (the
 * benchmark's) does after writing events directly. Redeliveries are not on the events and are kept
 * as they are. One transaction, as long as it takes (a bulk load's millions of events take minutes:
 * give it a client made with `statementTimeoutMs: 0`, as the service's own cuts a statement off).
 */
export async function rebuildFacts(db: Database, projectId: string, timeoutMs = 60 * 60_000): Promise<void> {
  const source = Prisma.sql`
    SELECT e.pull_endpoint_id, p.project_id, f.kind, f.at, f.ms
    FROM pull_endpoints p
    JOIN pull_events e ON e.pull_endpoint_id = p.id
    CROSS JOIN LATERAL (VALUES
      ('received', e.received_at, NULL::bigint),
      ('fetched', e.fetched_at, ${millisBetween(Prisma.sql`e.received_at`, Prisma.sql`e.fetched_at`)}),
      ('delivered', e.delivered_at, ${millisBetween(Prisma.sql`coalesce(e.fetched_at, e.received_at)`, Prisma.sql`e.delivered_at`)}),
      ('lifecycle', e.delivered_at, ${millisBetween(Prisma.sql`e.received_at`, Prisma.sql`e.delivered_at`)}),
      ('deleted', e.deleted_at, NULL::bigint),
      ('receipt_fetched', CASE WHEN e.fetched_at IS NOT NULL THEN e.received_at END, NULL::bigint),
      ('receipt_delivered', CASE WHEN e.delivered_at IS NOT NULL THEN e.received_at END, NULL::bigint),
      ('receipt_delivered_unread', CASE WHEN e.delivered_at IS NOT NULL AND e.fetched_at IS NULL THEN e.received_at END, NULL::bigint)
    ) f(kind, at, ms)
    WHERE p.project_id = ${projectId}::uuid AND f.at IS NOT NULL
    UNION ALL
    SELECT r.pull_endpoint_id, p.project_id, 'rejected', r.received_at, NULL::bigint
    FROM pull_endpoints p JOIN pull_endpoint_rejections r ON r.pull_endpoint_id = p.id
    WHERE p.project_id = ${projectId}::uuid`;
  await db.$transaction(
    async (tx) => {
      await tx.$executeRaw`SET LOCAL statement_timeout = 0`;
      await tx.$executeRaw`
        DELETE FROM pull_event_metrics
        WHERE scope_id IN (SELECT id FROM pull_endpoints WHERE project_id = ${projectId}::uuid UNION ALL SELECT ${projectId}::uuid)
          AND kind <> 'redelivered'`;
      await tx.$executeRaw`${addFactsSql(source)}`;
    },
    { timeout: timeoutMs, maxWait: 60_000 },
  );
}

/** Deletes a scope's minute and hour rows past their horizons; returns how many went. */
export async function pruneFacts(db: Database, scopeId: string): Promise<number> {
  let pruned = 0;
  for (const { seconds, keptHours } of ROLLUP_HORIZONS) {
    if (keptHours === null) continue;
    pruned += await db.$executeRaw`
      DELETE FROM pull_event_metrics
      WHERE scope_id = ${scopeId}::uuid AND bucket_seconds = ${seconds}::int
        AND bucket_start < now() - make_interval(hours => ${keptHours}::int) - make_interval(secs => ${seconds}::int)`;
  }
  return pruned;
}
