import type { components } from '../../generated/openapi';
import type { Database } from '../db/prisma';
import { requireEndpoint } from '../pull-endpoints/endpoints';
import * as metricsRepository from './repository';
import type { FactKind, FactSum, MetricsScope, Segment } from './repository';

type PullMetrics = components['schemas']['PullMetrics'];
type PullMetricsTimeseries = components['schemas']['PullMetricsTimeseries'];
type MetricsBucket = components['schemas']['MetricsBucket'];
export type MetricsWindow = components['schemas']['MetricsWindow'];

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const WINDOW_MS: Record<MetricsWindow, number> = { '1h': HOUR, '24h': DAY, '7d': 7 * DAY, '30d': 30 * DAY };

/** Timeseries buckets per window, and the rollup rows each is summed from. */
const SERIES: Record<MetricsWindow, { bucketMs: number; sourceMs: number }> = {
  '1h': { bucketMs: MINUTE, sourceMs: MINUTE },
  '24h': { bucketMs: 15 * MINUTE, sourceMs: MINUTE },
  '7d': { bucketMs: HOUR, sourceMs: HOUR },
  '30d': { bucketMs: 6 * HOUR, sourceMs: HOUR },
};

const floorTo = (ms: number, unit: number) => Math.floor(ms / unit) * unit;
const ceilTo = (ms: number, unit: number) => Math.ceil(ms / unit) * unit;

/** The unit a window is counted in: minutes up to a day, hours beyond (whose rows are kept longer). */
const WINDOW_UNIT_MS: Record<MetricsWindow, number> = { '1h': MINUTE, '24h': MINUTE, '7d': HOUR, '30d': HOUR };

/**
 * A window's bounds: whole units (minutes for 1h and 24h, hours for 7d and 30d), the last one the
 * unit `now` falls in; `to` is exclusive.
 */
export function windowBounds(window: MetricsWindow, now: Date): { from: Date; to: Date } {
  const unit = WINDOW_UNIT_MS[window];
  const to = floorTo(now.getTime(), unit) + unit;
  return { from: new Date(to - WINDOW_MS[window]), to: new Date(to) };
}

/**
 * [from, to) (minute-aligned) as the fewest rollup rows: whole days in the middle, whole hours
 * beside them, minutes at the edges.
 */
export function coverWindow(from: number, to: number): Segment[] {
  const segments: Segment[] = [];
  const cover = (lo: number, hi: number, units: number[]) => {
    if (lo >= hi) return;
    const [unit, ...smaller] = units;
    if (unit === undefined) throw new Error(`window edge ${new Date(lo).toISOString()} is not minute-aligned`);
    const start = ceilTo(lo, unit);
    const end = floorTo(hi, unit);
    if (start >= end) return cover(lo, hi, smaller);
    segments.push({ seconds: unit / 1000, from: new Date(start), to: new Date(end) });
    cover(lo, start, smaller);
    cover(end, hi, smaller);
  };
  cover(from, to, [DAY, HOUR, MINUTE]);
  return segments;
}

// Latency slot s holds [2^(s/4) - 1, 2^((s+1)/4) - 1) ms, as pull_latency_slot in SQL.
const slotLow = (slot: number) => 2 ** (slot / 4) - 1;

/**
 * The q-quantile (0..1) of a histogram, interpolated inside the slot that holds it; null when empty.
 * Rank is nearest-rank (the ceil(q * n)-th value), the same definition the exact figure would use.
 */
export function histogramQuantile(histogram: Map<number, number>, q: number): number | null {
  const total = [...histogram.values()].reduce((sum, n) => sum + n, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (const slot of [...histogram.keys()].sort((a, b) => a - b)) {
    const n = histogram.get(slot)!;
    if (seen + n >= rank) {
      const low = slotLow(slot);
      const high = slotLow(slot + 1);
      // The rank's place among the slot's n values, each taken at the middle of its share.
      return Math.round((low + ((rank - seen - 0.5) / n) * (high - low)) * 10) / 10;
    }
    seen += n;
  }
  return null;
}

function tally(rows: FactSum[]) {
  const count: Record<FactKind, number> = {
    received: 0,
    fetched: 0,
    delivered: 0,
    lifecycle: 0,
    redelivered: 0,
    deleted: 0,
    rejected: 0,
    receipt_fetched: 0,
    receipt_delivered: 0,
    receipt_delivered_unread: 0,
    receipt_replayed: 0,
    receipt_replayed_unread: 0,
  };
  const sumMs: Record<FactKind, number> = { ...count };
  const histograms = { fetched: new Map<number, number>(), delivered: new Map<number, number>() };
  for (const row of rows) {
    const events = Number(row.events);
    count[row.kind] += events;
    sumMs[row.kind] += Number(row.sum_ms);
    if (row.kind === 'fetched' || row.kind === 'delivered') {
      histograms[row.kind].set(row.slot, (histograms[row.kind].get(row.slot) ?? 0) + events);
    }
  }
  Object.assign(count, netReceipts(count));
  return { count, sumMs, histograms };
}

/** Receipt counts net of replays: a replayed event is again neither fetched nor delivered. */
function netReceipts(fact: Partial<Record<FactKind, number>>) {
  const replayed = fact.receipt_replayed ?? 0;
  const replayedUnread = fact.receipt_replayed_unread ?? 0;
  return {
    receipt_fetched: (fact.receipt_fetched ?? 0) - (replayed - replayedUnread),
    receipt_delivered: (fact.receipt_delivered ?? 0) - replayed,
    receipt_delivered_unread: (fact.receipt_delivered_unread ?? 0) - replayedUnread,
  };
}

async function scopeOf(db: Database, projectId: string, endpointId: string | undefined): Promise<MetricsScope> {
  if (endpointId === undefined) return { projectId };
  await requireEndpoint(db, projectId, endpointId);
  return { projectId, endpointId };
}

export async function getMetrics(
  db: Database,
  projectId: string,
  query: { window: MetricsWindow; endpointId: string | undefined; now?: Date },
): Promise<PullMetrics> {
  const scope = await scopeOf(db, projectId, query.endpointId);
  const { from, to } = windowBounds(query.window, query.now ?? new Date());
  const { count, sumMs, histograms } = tally(await metricsRepository.sumFacts(db, scope, coverWindow(from.getTime(), to.getTime())));
  return {
    window: query.window,
    pull_endpoint_id: scope.endpointId ?? null,
    from: from.toISOString(),
    to: to.toISOString(),
    total_messages: count.received,
    succeeded: count.receipt_delivered,
    failed: count.rejected,
    retries: count.redelivered,
    success_rate: count.received === 0 ? 0 : count.receipt_delivered / count.received,
    avg_latency_ms: count.lifecycle === 0 ? null : Math.round(sumMs.lifecycle / count.lifecycle),
    received: count.received,
    fetched: count.fetched,
    delivered: count.delivered,
    redelivered: count.redelivered,
    deleted: count.deleted,
    rejected: count.rejected,
    time_to_fetch_ms: { p50: histogramQuantile(histograms.fetched, 0.5), p95: histogramQuantile(histograms.fetched, 0.95) },
    time_to_ack_ms: { p50: histogramQuantile(histograms.delivered, 0.5), p95: histogramQuantile(histograms.delivered, 0.95) },
  };
}

export async function getTimeseries(
  db: Database,
  projectId: string,
  query: { window: MetricsWindow; endpointId: string | undefined; now?: Date },
): Promise<PullMetricsTimeseries> {
  const scope = await scopeOf(db, projectId, query.endpointId);
  const { bucketMs, sourceMs } = SERIES[query.window];
  const count = WINDOW_MS[query.window] / bucketMs;
  const last = floorTo((query.now ?? new Date()).getTime(), bucketMs);
  const first = last - (count - 1) * bucketMs;
  const rows = await metricsRepository.factSeries(db, scope, sourceMs / 1000, bucketMs / 1000, new Date(first), new Date(last + bucketMs));
  const buckets = new Map<number, MetricsBucket>();
  for (let start = first; start <= last; start += bucketMs) {
    const timestamp = new Date(start).toISOString();
    buckets.set(start, { timestamp, stored: 0, fetched: 0, succeeded: 0, total: 0, redelivered: 0, deleted: 0, rejected: 0 });
  }
  const facts = new Map<number, Partial<Record<FactKind, number>>>();
  for (const row of rows) {
    const start = row.bucket_start.getTime();
    facts.set(start, { ...facts.get(start), [row.kind]: Number(row.events) });
  }
  for (const [start, bucket] of buckets) {
    const fact = facts.get(start);
    if (!fact) continue;
    const received = fact.received ?? 0;
    const net = netReceipts(fact);
    const fetched = net.receipt_fetched;
    const delivered = net.receipt_delivered;
    const deliveredUnread = net.receipt_delivered_unread;
    // Of the events received in the bucket: delivered now; fetched and not delivered; neither.
    bucket.total = received;
    bucket.succeeded = delivered;
    bucket.fetched = fetched - (delivered - deliveredUnread);
    bucket.stored = received - fetched - deliveredUnread;
    bucket.redelivered = fact.redelivered ?? 0;
    bucket.deleted = fact.deleted ?? 0;
    bucket.rejected = fact.rejected ?? 0;
  }
  return { window: query.window, pull_endpoint_id: scope.endpointId ?? null, bucket_seconds: (bucketMs / 1000) as PullMetricsTimeseries['bucket_seconds'], buckets: [...buckets.values()] };
}
