/**
 * Load drivers: autocannon against an HTTP server, and the service's own SQL issued straight
 * through `pg` (`workerLoad`). Both give a Measurement computed the same way from every request's
 * latency.
 */
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import type { Pool } from 'pg';
import { liveApiKeySql } from '../src/projects/repository';
import { batchDeleteSql } from '../src/pull-events/repository';
import { startRunCpu, type CpuCost } from './cpu';

export interface Measurement {
  label: string;
  concurrency: number;
  idsPerRequest: number;
  /** Requests answered (2xx) within the measured window. */
  requests: number;
  durationSec: number;
  /** Requests per second. */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  /** True when the run ended before its duration because its prefetched ids ran out. */
  capped: boolean;
  /**
   * Non-2xx answers, in a run that allows them (`allowFailures`: the reads, whose slowest answers
   * can run into the service's statement timeout); their latencies are not in the figures.
   */
  failed?: number;
  /**
   * CPU ms per answered request, read from /proc over the run: the server's process (null for a
   * database floor) and every PostgreSQL process (null when the server is not on this machine).
   */
  cpu?: CpuCost;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

function round(value: number, digits = 3): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** The latencies behind each Measurement, kept out of results.json, for `merge`. */
const latenciesOf = new WeakMap<Measurement, number[]>();

function summarize(
  label: string,
  concurrency: number,
  idsPerRequest: number,
  latencies: number[],
  durationSec: number,
  capped: boolean,
): Measurement {
  const sorted = [...latencies].sort((a, b) => a - b);
  const total = sorted.reduce((sum, value) => sum + value, 0);
  const measurement: Measurement = {
    label,
    concurrency,
    idsPerRequest,
    requests: sorted.length,
    durationSec: round(durationSec),
    rps: round(sorted.length / durationSec, 1),
    p50Ms: round(percentile(sorted, 0.5)),
    p99Ms: round(percentile(sorted, 0.99)),
    meanMs: round(total / Math.max(1, sorted.length)),
    capped,
  };
  latenciesOf.set(measurement, sorted);
  return measurement;
}

/** The run with the most requests per second. */
export function best(runs: Measurement[]): Measurement {
  const first = runs[0];
  if (!first) throw new Error('no runs');
  return runs.reduce((a, b) => (b.rps > a.rps ? b : a), first);
}

/** One Measurement of several runs of the same kind: all their requests over all their time. */
export function merge(label: string, runs: Measurement[]): Measurement {
  const first = runs[0];
  if (!first) throw new Error('nothing to merge');
  const latencies = runs.flatMap((run) => latenciesOf.get(run) ?? []);
  const durationSec = runs.reduce((sum, run) => sum + run.durationSec, 0);
  const merged = summarize(label, first.concurrency, first.idsPerRequest, latencies, durationSec, runs.some((run) => run.capped));
  if (runs.every((run) => run.cpu)) {
    // Weighted by requests: the CPU of all the runs over all their requests.
    const total = (side: keyof CpuCost) =>
      runs.some((run) => run.cpu![side] === null) ? null : round(runs.reduce((sum, run) => sum + run.cpu![side]! * run.requests, 0) / Math.max(1, merged.requests));
    merged.cpu = { serviceMs: total('serviceMs'), postgresMs: total('postgresMs') };
  }
  return merged;
}

const FIRST_ID = '00000000-0000-0000-0000-000000000000';

/** The ids of one request, all of one endpoint. */
export interface Batch {
  endpointId: string;
  ids: string[];
}

interface Segment {
  endpointId: string;
  ids: string[];
  next: number;
}

/**
 * Live event ids, handed out in id order, endpoint after endpoint, and never twice. They are read
 * from the database ahead of a run (`ensure`), so a run does no bookkeeping queries. Past the last
 * of `endpoints`, `addEndpoint` seeds another with at least the events asked for.
 */
export class FreshIds {
  private segments: Segment[] = [];
  private current = 0;
  private cursor = FIRST_ID;
  private taken: Batch[] | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly endpoints: string[],
    private readonly addEndpoint: (minEvents: number) => Promise<string>,
  ) {}

  /** How many batches of `size` can be handed out now (a batch never mixes endpoints). */
  available(size: number): number {
    return this.segments.reduce((sum, segment) => sum + Math.floor((segment.ids.length - segment.next) / size), 0);
  }

  /** Makes sure `batches` batches of `size` ids are buffered. */
  async ensure(batches: number, size: number): Promise<void> {
    while (this.available(size) < batches) {
      const wanted = (batches - this.available(size)) * size;
      const known = this.endpoints[this.current];
      const endpointId = known ?? (await this.added(wanted));
      const fetched = await this.fetch(endpointId, wanted);
      if (known === undefined && fetched === 0) throw new Error(`the endpoint added, ${endpointId}, has no live events`);
      if (fetched < wanted) {
        // This endpoint has no more live ids: go on with the next.
        this.current += 1;
        this.cursor = FIRST_ID;
      }
    }
  }

  private async added(minEvents: number): Promise<string> {
    const endpointId = await this.addEndpoint(minEvents);
    this.endpoints.push(endpointId);
    return endpointId;
  }

  private async fetch(endpointId: string, wanted: number): Promise<number> {
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT id::text FROM pull_events
       WHERE pull_endpoint_id = $1 AND id > $2 AND deleted_at IS NULL
       ORDER BY pull_events.id LIMIT $3`,
      [endpointId, this.cursor, wanted],
    );
    if (rows.length === 0) return 0;
    let segment = this.segments[this.segments.length - 1];
    if (segment?.endpointId !== endpointId) {
      segment = { endpointId, ids: [], next: 0 };
      this.segments.push(segment);
    }
    for (const row of rows) segment.ids.push(row.id);
    this.cursor = rows[rows.length - 1]!.id;
    return rows.length;
  }

  /** The next `size` ids of one endpoint, or undefined when none are buffered. */
  take(size: number): Batch | undefined {
    for (;;) {
      const segment = this.segments[0];
      if (!segment) return undefined;
      if (segment.ids.length - segment.next >= size) {
        const batch = { endpointId: segment.endpointId, ids: segment.ids.slice(segment.next, segment.next + size) };
        segment.next += size;
        this.taken?.push(batch);
        return batch;
      }
      // Fewer than `size` left of this endpoint: they stay unused.
      this.segments.shift();
    }
  }

  /** Starts recording the batches handed out; the function returned stops and returns them. */
  track(): () => Batch[] {
    const taken: Batch[] = [];
    this.taken = taken;
    return () => {
      this.taken = undefined;
      return taken;
    };
  }
}

export interface Window {
  connections: number;
  /** The base URL of the server whose process the run's CPU is charged to (workerLoad; httpLoad knows it). */
  cpuOf?: string;
  /** Measure for this long... */
  durationSec?: number;
  /** ...or for exactly this many requests. */
  amount?: number;
}

export interface HttpLoad extends Window {
  baseUrl: string;
  /** POST unless told otherwise. */
  method?: 'GET' | 'POST';
  headers: Record<string, string>;
  /** The path and body (none for a GET) of each request; called just before the request is sent. */
  request: () => { path: string; body?: string };
  /** With a duration: stop after this many requests (the ids prefetched). */
  maxRequests?: number;
  /** Count non-2xx answers in `failed` instead of failing the run (connection errors still fail it). */
  allowFailures?: boolean;
  /** Seconds before autocannon gives a request up as a connection error (its default: 10). */
  timeoutSec?: number;
}

/** Drives an HTTP server with autocannon; every answer must be 2xx. */
export function httpLoad(label: string, idsPerRequest: number, load: HttpLoad): Promise<Measurement> {
  const window = windowOptions(load);
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    const failures = new Map<number, number>();
    const options: autocannon.Options = {
      url: load.baseUrl,
      connections: load.connections,
      // autocannon notices the end of its duration only when it takes a sample (default: every
      // second, which would round every duration up to whole seconds).
      sampleInt: 50,
      ...window,
      ...(load.maxRequests !== undefined && window.amount === undefined && { maxOverallRequests: load.maxRequests }),
      ...(load.timeoutSec !== undefined && { timeout: load.timeoutSec }),
      requests: [
        {
          method: load.method ?? 'POST',
          headers: load.headers,
          setupRequest: (request) => ({ ...request, ...load.request() }),
        },
      ],
    };
    const cpu = startRunCpu(load.baseUrl);
    const instance = autocannon(options, (error: unknown, result: autocannon.Result) => {
      const cpuCost = cpu(latencies.length);
      if (error) return reject(error instanceof Error ? error : new Error(String(error)));
      if (result.errors > 0 || (failures.size > 0 && !load.allowFailures)) {
        const statuses = [...failures].map(([status, count]) => `${count} x ${status}`).join(', ');
        return reject(new Error(`${label}: ${result.errors} connection errors, ${statuses || 'no'} non-2xx answers`));
      }
      const capped = window.duration !== undefined && result.duration < window.duration - 0.05;
      const measurement = summarize(label, load.connections, idsPerRequest, latencies, result.duration, capped);
      if (load.allowFailures) measurement.failed = [...failures.values()].reduce((sum, count) => sum + count, 0);
      measurement.cpu = cpuCost;
      resolve(measurement);
    });
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) latencies.push(ms);
      else failures.set(status, (failures.get(status) ?? 0) + 1);
    });
  });
}

/** httpLoad after an unmeasured run of the same load for `warmupSec`. */
export async function warmedHttpLoad(label: string, idsPerRequest: number, load: HttpLoad & { durationSec: number }, warmupSec: number): Promise<Measurement> {
  await httpLoad(`${label} (warm-up)`, idsPerRequest, { ...load, durationSec: warmupSec });
  return httpLoad(label, idsPerRequest, load);
}

function windowOptions(window: Window): { duration: number; amount?: never } | { amount: number; duration?: never } {
  if (window.amount !== undefined) return { amount: window.amount };
  if (window.durationSec !== undefined) return { duration: window.durationSec };
  throw new Error('a load needs a duration or an amount');
}


export interface DbLoad extends Window {
  pool: Pool;
  keyHash: string;
  /** The ids of the next request, or undefined when none are left. */
  next: () => Batch | undefined;
}

/**
 * The database floor: per request, the service's API-key lookup and its batch-delete statement,
 * straight through `pg` from `connections` concurrent workers. Every id must come back deleted now.
 */
export function dbLoad(label: string, idsPerRequest: number, load: DbLoad): Promise<Measurement> {
  return workerLoad(label, idsPerRequest, load, () => {
    const batch = load.next();
    if (!batch) return undefined;
    return async () => {
      const { endpointId, ids } = batch;
      const keySql = liveApiKeySql(load.keyHash);
      const key = await load.pool.query<{ id: string; project_id: string }>(keySql.text, keySql.values);
      const found = key.rows[0];
      if (!found) throw new Error('the API key was not found');
      const sql = batchDeleteSql(endpointId, found.project_id, found.id, ids);
      const result = await load.pool.query<{ deleted_now: boolean | null }>(sql.text, sql.values);
      const deletedNow = result.rows.filter((row) => row.deleted_now === true).length;
      if (deletedNow !== ids.length) throw new Error(`${label}: ${deletedNow} of ${ids.length} ids deleted: they were not fresh`);
    };
  });
}

/**
 * Runs requests from `connections` concurrent workers until the window closes: `next` gives the
 * work of one request (timed from its start to its end), or undefined when there is none left,
 * which ends the run early (capped). Only requests ending within the window count.
 */
export async function workerLoad(
  label: string,
  idsPerRequest: number,
  window: Window,
  next: () => (() => Promise<void>) | undefined,
): Promise<Measurement> {
  const latencies: number[] = [];
  const cpu = startRunCpu(window.cpuOf);
  const start = performance.now();
  const deadline = window.durationSec === undefined ? Number.POSITIVE_INFINITY : start + window.durationSec * 1000;
  let issued = 0;
  let capped = false;
  let lastEnd = start;

  const worker = async () => {
    while (performance.now() < deadline && (window.amount === undefined || issued < window.amount)) {
      const request = next();
      if (!request) {
        capped = true;
        return;
      }
      issued += 1;
      const began = performance.now();
      await request();
      const ended = performance.now();
      if (ended <= deadline) {
        latencies.push(ended - began);
        lastEnd = ended;
      }
    }
  };
  await Promise.all(Array.from({ length: window.connections }, worker));

  const durationSec = window.durationSec === undefined || capped ? (lastEnd - start) / 1000 : window.durationSec;
  const measurement = summarize(label, window.connections, idsPerRequest, latencies, durationSec, capped);
  measurement.cpu = cpu(latencies.length);
  return measurement;
}
