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
 *   the time the event was received, so a receipt bucket knows how many of its events moved on.
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
  | 'receipt_delivered_unread';

/** The rollup keeps every fact in its minute, its hour and its day. */
export const ROLLUP_SECONDS = [60, 3600, 86400] as const;

/** Milliseconds from `from` to `to` (SQL expressions), never negative. */
export const millisBetween = (from: Prisma.Sql, to: Prisma.Sql) =>
  Prisma.sql`greatest(0, round(extract(epoch FROM ${to} - ${from}) * 1000))::bigint`;

/**
 * An INSERT adding the facts `source` yields (columns pull_endpoint_id, project_id, kind, at, ms)
 * to their minute, hour and day. It runs as a CTE of the statement that makes the transition, so
 * the rollup and the events commit together. Rows are upserted in key order, so two statements
 * adding to the same counters queue rather than deadlock; the shard (the backend's pid) spreads
 * concurrent writers of one endpoint over different rows.
 */
export function addFactsSql(source: Prisma.Sql) {
  return Prisma.sql`
    INSERT INTO pull_event_metrics AS m (pull_endpoint_id, bucket_seconds, bucket_start, kind, slot, shard, project_id, events, sum_ms)
    SELECT f.pull_endpoint_id, g.seconds, to_timestamp(floor(extract(epoch FROM f.at) / g.seconds) * g.seconds), f.kind,
           CASE WHEN f.kind IN ('fetched', 'delivered') THEN pull_latency_slot(f.ms) ELSE 0 END,
           pg_backend_pid() % 4, f.project_id, count(*), coalesce(sum(f.ms), 0)
    FROM (${source}) f CROSS JOIN (VALUES (60), (3600), (86400)) g(seconds)
    GROUP BY 1, 2, 3, 4, 5, 6, 7
    ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (pull_endpoint_id, bucket_seconds, bucket_start, kind, slot, shard)
    DO UPDATE SET events = m.events + excluded.events, sum_ms = m.sum_ms + excluded.sum_ms`;
}

/** Project-wide, or one endpoint of the project. */
export interface MetricsScope {
  projectId: string;
  endpointId?: string;
}

const scopeSql = (scope: MetricsScope) =>
  scope.endpointId === undefined
    ? Prisma.sql`m.project_id = ${scope.projectId}::uuid`
    : Prisma.sql`m.project_id = ${scope.projectId}::uuid AND m.pull_endpoint_id = ${scope.endpointId}::uuid`;

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

/** Totals by kind and latency slot over the rows the segments name. */
export async function sumFacts(db: Database, scope: MetricsScope, segments: Segment[]): Promise<FactSum[]> {
  if (segments.length === 0) return [];
  const values = Prisma.join(segments.map((s) => Prisma.sql`(${s.seconds}::int, ${s.from}::timestamptz, ${s.to}::timestamptz)`));
  return db.$queryRaw<FactSum[]>`
    SELECT m.kind, m.slot, sum(m.events)::bigint AS events, sum(m.sum_ms)::bigint AS sum_ms
    FROM (VALUES ${values}) seg(seconds, lo, hi)
    JOIN pull_event_metrics m ON m.bucket_seconds = seg.seconds AND m.bucket_start >= seg.lo AND m.bucket_start < seg.hi
    WHERE ${scopeSql(scope)}
    GROUP BY m.kind, m.slot`;
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
      AND m.kind IN ('received', 'receipt_fetched', 'receipt_delivered', 'receipt_delivered_unread', 'redelivered', 'deleted', 'rejected')
    GROUP BY 1, 2`;
}

/**
 * Rebuilds the rollup of some endpoints from their events and kept rejections: what the migration
 * did for data from before it, and what a bulk load (the benchmark's) does after writing events
 * directly. Redeliveries are not on the events and are kept as they are.
 */
export async function rebuildFacts(db: Database, endpointIds: string[]): Promise<void> {
  const ms = (from: Prisma.Sql, to: Prisma.Sql) => millisBetween(from, to);
  const source = Prisma.sql`
    SELECT e.pull_endpoint_id, p.project_id, f.kind, f.at, f.ms
    FROM pull_events e
    JOIN pull_endpoints p ON p.id = e.pull_endpoint_id
    CROSS JOIN LATERAL (VALUES
      ('received', e.received_at, NULL::bigint),
      ('fetched', e.fetched_at, ${ms(Prisma.sql`e.received_at`, Prisma.sql`e.fetched_at`)}),
      ('delivered', e.delivered_at, ${ms(Prisma.sql`coalesce(e.fetched_at, e.received_at)`, Prisma.sql`e.delivered_at`)}),
      ('lifecycle', e.delivered_at, ${ms(Prisma.sql`e.received_at`, Prisma.sql`e.delivered_at`)}),
      ('deleted', e.deleted_at, NULL::bigint),
      ('receipt_fetched', CASE WHEN e.fetched_at IS NOT NULL THEN e.received_at END, NULL::bigint),
      ('receipt_delivered', CASE WHEN e.delivered_at IS NOT NULL THEN e.received_at END, NULL::bigint),
      ('receipt_delivered_unread', CASE WHEN e.delivered_at IS NOT NULL AND e.fetched_at IS NULL THEN e.received_at END, NULL::bigint)
    ) f(kind, at, ms)
    WHERE e.pull_endpoint_id = ANY(${endpointIds}::uuid[]) AND f.at IS NOT NULL
    UNION ALL
    SELECT r.pull_endpoint_id, p.project_id, 'rejected', r.received_at, NULL::bigint
    FROM pull_endpoint_rejections r JOIN pull_endpoints p ON p.id = r.pull_endpoint_id
    WHERE r.pull_endpoint_id = ANY(${endpointIds}::uuid[])`;
  await db.$transaction([
    db.$executeRaw`DELETE FROM pull_event_metrics WHERE pull_endpoint_id = ANY(${endpointIds}::uuid[]) AND kind <> 'redelivered'`,
    db.$executeRaw`${addFactsSql(source)}`,
  ]);
}
