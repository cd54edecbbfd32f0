/**
 * The results of a run: their shape (bench/results.json), the targets they are held to and the
 * table printed at the end. The chart is bench/chart.ts.
 */
import type { CostResults } from './cost';
import { best, type Measurement } from './load';
import type { Machine } from './setup';

export type Verdict = 'PASS' | 'MISS' | 'N/A' | 'INFO';

export interface TargetCheck {
  name: string;
  measured: number;
  /** The measured value as printed, e.g. "0.84" or "12.3%". */
  shown: string;
  /** The target as printed, e.g. ">= 0.80"; "-" when the figure is reported only. */
  target: string;
  verdict: Verdict;
  note?: string;
}

export interface BenchResults {
  quick: boolean;
  startedAt: string;
  elapsedSec: number;
  machine: Machine;
  settings: {
    durationSec: number;
    warmupSec: number;
    concurrencies: number[];
    poolSize: number;
    idsPerRequest: number;
  };
  /** 1. The whole stack over HTTP, 100 fresh ids per request. */
  service: { runs: Measurement[] };
  /** 2. The same SQL through pg; ratio = best service req/s / best floor req/s. */
  databaseFloor: { runs: Measurement[]; serviceBestRps: number; floorBestRps: number; ratio: number; target: number };
  /** 3. A bare node:http server with a canned answer, against the service on already-deleted ids. */
  httpFloor: {
    responseBytes: number;
    floor: Measurement[];
    serviceAlreadyDeleted: Measurement[];
    ratio: number;
  };
  /** 4. The service with request validation on and off, same workload. */
  validation: { concurrency: number; on: Measurement; off: Measurement; ratioOffOn: number; costPercent: number; targetPercent: number };
  /** 5. Cost of 100 ids against 1, and p50 on a big table against a small one. */
  scaling: {
    oneId: Measurement;
    hundredIds: Measurement;
    costRatio: number;
    targetCostRatio: number;
    smallTable: { rows: number; run: Measurement };
    bigTable: { rows: number; run: Measurement };
    p50Ratio: number;
    targetP50Ratio: number;
    bigTableTargetRows: number;
  };
  /**
   * 6. The service process's RSS: `peakRssMb` is its VmHWM over the heaviest run (reset just before
   * it), or over its whole life where the reset is not permitted (`method` says which).
   */
  memory: {
    peakRssMb: number;
    method: string;
    heaviestRun: string;
    idleRssMb: number;
    lifetimePeakRssMb: number;
    targetMb: number;
    pid: number;
  };
  /** 7. The ingest URL. */
  ingest: IngestResults;
  /** 8. Reads on a big table (bench/reads.ts). */
  reads: ReadsResults;
  /** 9. Competing consumers: receive + ack, and long polling's wake-up (bench/leases.ts). */
  leases: LeasesResults;
  /** 10. CPU per request against the minimal stack and a primary-key-only table; a burst (bench/cost.ts). */
  cost: CostResults;
  targets: TargetCheck[];
}

export type ReadOperation =
  | 'pullLogs'
  | 'metrics1h'
  | 'metrics24h'
  | 'metrics7d'
  | 'metrics30d'
  | 'timeseries24h'
  | 'eventsFirstPage'
  | 'eventsDeepCursor';

/**
 * The service's read paths over HTTP on a table of `rows` events received over `spanDays` days in
 * `endpoints` endpoints of one project, loaded in SQL (`loadSec`), the metrics rollup rebuilt from
 * them with `rebuildFacts` (`rebuildSec`, `rollupRows` rows), then VACUUM (ANALYZE)d. Each
 * Measurement counts requests; `idsPerRequest` is the items in each answer (1 for figures).
 */
export interface ReadsResults {
  rows: number;
  endpoints: number;
  spanDays: number;
  /** The endpoint whose list is read: its events, those live and stored, and where the deep cursor points. */
  bigEndpoint: { events: number; liveStored: number; deepAfter: number };
  /** Percent of the table's events in each state (fetched and delivered: ever; deleted: soft-deleted). */
  mix: { stored: number; fetched: number; delivered: number; deleted: number };
  loadSec: number;
  loadRowsPerSec: number;
  rebuildSec: number;
  vacuumAnalyzeSec: number;
  rollupRows: number;
  tableMb: number;
  rollupMb: number;
  /** The whole section: database, load, rebuild, paging, checks and runs. */
  sectionSec: number;
  concurrencies: number[];
  durationSec: number;
  warmupSec: number;
  operations: Record<ReadOperation, { request: string; responseBytes: number; runs: Measurement[] }>;
  /** p50 of the deep page / p50 of the first page, at 1 connection. */
  deepCursorRatio: number;
  /** The targets hold on a table of at least `rows` events (N/A below). */
  targets: { rows: number; metrics30dP50Ms: number; firstPageP50Ms: number; deepCursorRatio: number };
}

/** The p50 at 1 connection (or at the lowest measured). */
export function readP50(reads: ReadsResults, key: ReadOperation): number {
  const runs = reads.operations[key].runs;
  return (runs.find((run) => run.concurrency === 1) ?? runs[0])?.p50Ms ?? Number.NaN;
}

/**
 * `POST /pull/<token>` with a `bodyBytes` JSON webhook, all on one endpoint and spread over
 * `endpoints`, HMAC verification on and off, against the floor: the same statement per webhook
 * through pg. Each Measurement counts webhooks (one per request).
 */
export interface IngestResults {
  bodyBytes: number;
  endpoints: number;
  concurrencies: number[];
  durationSec: number;
  warmupSec: number;
  service: {
    manyEndpoints: { hmacOff: Measurement[]; hmacOn: Measurement[] };
    oneEndpoint: { hmacOff: Measurement[]; hmacOn: Measurement[] };
  };
  floor: { manyEndpoints: Measurement[]; oneEndpoint: Measurement[] };
  /** Best service (many endpoints, HMAC off) / best floor on the same endpoints. */
  floorRatio: number;
  targetFloorRatio: number;
  /** Best service on one endpoint (HMAC off) / best floor on it. */
  oneEndpointFloorRatio: number;
  /** Best service on one endpoint / best on many (HMAC off both). */
  oneEndpointRatio: number;
  targetOneEndpointRatio: number;
  /** On many endpoints, at the concurrency where HMAC off did best: cost = 1 - on/off. */
  hmac: { concurrency: number; on: Measurement; off: Measurement; costPercent: number; targetPercent: number };
}

/**
 * A run of receive + ack pairs: `requests`, `rps`, `p50Ms` and `p99Ms` count pairs (a receive of
 * up to 100 events and the ack of their lease ids; for the floor, the same four statements).
 */
export interface LeaseRun extends Measurement {
  /** Events acked per second. */
  eventsPerSec: number;
  /** HTTP requests per second: two per pair (for the floor, pairs of statements). */
  requestsPerSec: number;
  /** Receives that answered fewer than 100 events (the queue is never left short of 100 per pair). */
  shortReceives: number;
}

/** Milliseconds until the waiting receive answered. */
export interface WakeupLatency {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * Competing consumers on one endpoint per run, over HTTP and through pg; and the wake-up of a
 * receive waiting on an empty endpoint, from the webhook's 202 and from its send, with the receive
 * on the process that stored the webhook and on another one (LISTEN/NOTIFY).
 */
export interface LeasesResults {
  eventsPerReceive: number;
  leaseSeconds: number;
  concurrencies: number[];
  durationSec: number;
  warmupSec: number;
  service: LeaseRun[];
  floor: LeaseRun[];
  serviceBestEventsPerSec: number;
  floorBestEventsPerSec: number;
  /** Best service events/s / best floor events/s. */
  floorRatio: number;
  targetFloorRatio: number;
  wakeup: {
    rounds: number;
    /** The webhook is sent this long after the receive. */
    settleMs: number;
    waitSeconds: number;
    sameProcess: { fromAnswer: WakeupLatency; fromSend: WakeupLatency };
    acrossProcesses: { fromAnswer: WakeupLatency; fromSend: WakeupLatency };
  };
}

export const fixed = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

export function checkTargets(results: Omit<BenchResults, 'targets'>): TargetCheck[] {
  const { databaseFloor, httpFloor, validation, scaling, memory, ingest, reads, leases, cost } = results;
  const verdict = (ok: boolean, value: number): Verdict => (Number.isFinite(value) ? (ok ? 'PASS' : 'MISS') : 'N/A');
  const bigEnough = scaling.bigTable.rows >= scaling.bigTableTargetRows;
  const readsBigEnough = reads.rows >= reads.targets.rows;
  const readsNote = readsBigEnough ? {} : { note: `the target needs >= ${rowsLabel(reads.targets.rows)} rows` };
  const readTarget = (name: string, measured: number, limit: number): TargetCheck => ({
    name: `${name}, p50 on ${rowsLabel(reads.rows)} rows (1 conn)`,
    measured,
    shown: `${fixed(measured)} ms`,
    target: `<= ${limit} ms`,
    verdict: readsBigEnough ? verdict(measured <= limit, measured) : 'N/A',
    ...readsNote,
  });
  return [
    {
      name: 'service / database floor (req/s, best of each)',
      measured: databaseFloor.ratio,
      shown: fixed(databaseFloor.ratio),
      target: `>= ${fixed(databaseFloor.target)}`,
      verdict: verdict(databaseFloor.ratio >= databaseFloor.target, databaseFloor.ratio),
    },
    {
      name: 'service (already deleted) / HTTP floor',
      measured: httpFloor.ratio,
      shown: fixed(httpFloor.ratio),
      target: '-',
      verdict: 'INFO',
    },
    {
      name: `validation cost (throughput lost, ${validation.concurrency} conn)`,
      measured: validation.costPercent,
      shown: `${fixed(validation.costPercent, 1)}%`,
      target: `<= ${validation.targetPercent}%`,
      verdict: verdict(validation.costPercent <= validation.targetPercent, validation.costPercent),
    },
    {
      name: 'per-request cost, 100 ids / 1 id',
      measured: scaling.costRatio,
      shown: `${fixed(scaling.costRatio)}x`,
      target: `<= ${scaling.targetCostRatio}x`,
      verdict: verdict(scaling.costRatio <= scaling.targetCostRatio, scaling.costRatio),
    },
    {
      name: `p50, ${rowsLabel(scaling.bigTable.rows)} rows / ${rowsLabel(scaling.smallTable.rows)} rows`,
      measured: scaling.p50Ratio,
      shown: `${fixed(scaling.p50Ratio)}x`,
      target: `<= ${scaling.targetP50Ratio}x`,
      verdict: bigEnough ? verdict(scaling.p50Ratio <= scaling.targetP50Ratio, scaling.p50Ratio) : 'N/A',
      ...(!bigEnough && { note: `the target needs >= ${rowsLabel(scaling.bigTableTargetRows)} rows` }),
    },
    {
      name: 'service peak RSS, heaviest run',
      measured: memory.peakRssMb,
      shown: `${fixed(memory.peakRssMb, 0)} MB`,
      target: `< ${memory.targetMb} MB`,
      verdict: verdict(memory.peakRssMb < memory.targetMb, memory.peakRssMb),
    },
    {
      name: `ingest, ${ingest.endpoints} endpoints / database floor`,
      measured: ingest.floorRatio,
      shown: fixed(ingest.floorRatio),
      target: `>= ${fixed(ingest.targetFloorRatio)}`,
      verdict: verdict(ingest.floorRatio >= ingest.targetFloorRatio, ingest.floorRatio),
    },
    {
      name: 'ingest, 1 endpoint / database floor',
      measured: ingest.oneEndpointFloorRatio,
      shown: fixed(ingest.oneEndpointFloorRatio),
      target: '-',
      verdict: 'INFO',
    },
    {
      name: `ingest, 1 endpoint / ${ingest.endpoints} endpoints`,
      measured: ingest.oneEndpointRatio,
      shown: fixed(ingest.oneEndpointRatio),
      target: `>= ${fixed(ingest.targetOneEndpointRatio)}`,
      verdict: verdict(ingest.oneEndpointRatio >= ingest.targetOneEndpointRatio, ingest.oneEndpointRatio),
    },
    {
      name: `HMAC verification cost (${ingest.hmac.concurrency} conn)`,
      measured: ingest.hmac.costPercent,
      shown: `${fixed(ingest.hmac.costPercent, 1)}%`,
      target: `<= ${ingest.hmac.targetPercent}%`,
      verdict: verdict(ingest.hmac.costPercent <= ingest.hmac.targetPercent, ingest.hmac.costPercent),
    },
    readTarget('GET /v1/pull-metrics?window=30d', readP50(reads, 'metrics30d'), reads.targets.metrics30dP50Ms),
    readTarget('GET /v1/pull-logs, first page', readP50(reads, 'pullLogs'), reads.targets.firstPageP50Ms),
    readTarget('GET …/events?status=stored, first page', readP50(reads, 'eventsFirstPage'), reads.targets.firstPageP50Ms),
    {
      name: `…/events, deep cursor (after ${rowsLabel(reads.bigEndpoint.deepAfter)}) / first page, p50`,
      measured: reads.deepCursorRatio,
      shown: `${fixed(reads.deepCursorRatio)}x`,
      target: `<= ${reads.targets.deepCursorRatio}x`,
      verdict: readsBigEnough ? verdict(reads.deepCursorRatio <= reads.targets.deepCursorRatio, reads.deepCursorRatio) : 'N/A',
      ...readsNote,
    },
    {
      name: 'leases, receive + ack / database floor (events/s, best of each)',
      measured: leases.floorRatio,
      shown: fixed(leases.floorRatio),
      target: `>= ${fixed(leases.targetFloorRatio)}`,
      verdict: verdict(leases.floorRatio >= leases.targetFloorRatio, leases.floorRatio),
    },
    {
      name: `delete-batch, service / minimal stack (req/s, ${cost.concurrency} conn)`,
      measured: cost.deleteBatch.throughputRatio,
      shown: fixed(cost.deleteBatch.throughputRatio),
      target: `>= ${fixed(cost.deleteBatch.targetThroughputRatio)}`,
      verdict: verdict(cost.deleteBatch.throughputRatio >= cost.deleteBatch.targetThroughputRatio, cost.deleteBatch.throughputRatio),
    },
    {
      name: `delete-batch, service CPU / minimal stack CPU per request`,
      measured: cost.deleteBatch.cpuRatio,
      shown: `${fixed(cost.deleteBatch.cpuRatio)}x`,
      target: `<= ${fixed(cost.deleteBatch.targetCpuRatio, 1)}x`,
      verdict: verdict(cost.deleteBatch.cpuRatio <= cost.deleteBatch.targetCpuRatio, cost.deleteBatch.cpuRatio),
    },
    {
      name: 'list 100 events, service CPU / PostgreSQL CPU',
      measured: cost.list.serviceToPostgres,
      shown: `${fixed(cost.list.serviceToPostgres)}x`,
      target: `<= ${cost.list.target}x`,
      verdict: verdict(cost.list.serviceToPostgres <= cost.list.target, cost.list.serviceToPostgres),
      note: `the minimal stack: ${fixed(cost.list.peerToPostgres)}x`,
    },
    {
      name: 'PostgreSQL CPU per 100-id delete, table / primary-key-only copy',
      measured: cost.postgresPerDelete.ratio,
      shown: `${fixed(cost.postgresPerDelete.ratio)}x`,
      target: `<= ${fixed(cost.postgresPerDelete.target, 1)}x`,
      verdict: verdict(cost.postgresPerDelete.ratio <= cost.postgresPerDelete.target, cost.postgresPerDelete.ratio),
    },
    {
      name: `service peak RSS, burst of ${cost.burst.connections} connections for ${cost.burst.durationSec} s`,
      measured: cost.burst.peakRssMb,
      shown: `${fixed(cost.burst.peakRssMb, 0)} MB${cost.burst.aliveAfter ? '' : ', then not serving'}`,
      target: 'no OOM',
      verdict: cost.burst.aliveAfter ? 'PASS' : 'MISS',
    },
  ];
}

/** The service's run of each hot path that did best (a lease pair is a receive and an ack). */
export function hotPaths({ cost, ingest, leases }: Pick<BenchResults, 'cost' | 'ingest' | 'leases'>): [string, Measurement][] {
  const bestLeases = leases.service.reduce((a, b) => (b.eventsPerSec > a.eventsPerSec ? b : a));
  return [
    ['delete-batch, 100 fresh ids', cost.deleteBatch.service],
    [`ingest, ${ingest.bodyBytes}-byte webhook, ${ingest.endpoints} endpoints`, best(ingest.service.manyEndpoints.hmacOff)],
    [`the same with HMAC verification`, best(ingest.service.manyEndpoints.hmacOn)],
    ['list, 100 events', cost.list.service],
    ['get an event with its payload', cost.get.service],
    [`receive ${leases.eventsPerReceive} + ack them (per pair)`, bestLeases],
  ];
}

export function rowsLabel(rows: number): string {
  if (rows >= 1_000_000) return `${fixed(rows / 1_000_000, rows % 1_000_000 === 0 ? 0 : 1)}M`;
  if (rows >= 1_000) return `${Math.round(rows / 1_000)}k`;
  return String(rows);
}

function table(headers: string[], rows: string[][], rightAligned: boolean[]): string {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (rightAligned[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function runRow(run: Measurement, what = run.label): string[] {
  return [
    what,
    String(run.concurrency),
    String(run.idsPerRequest),
    fixed(run.rps, 0),
    fixed(run.p50Ms),
    fixed(run.p99Ms),
    String(run.requests) + (run.capped ? ' (ids ran out)' : ''),
  ];
}

export function formatReport(results: BenchResults): string {
  const { machine, settings, cost } = results;
  const runs: string[][] = [];
  for (const c of settings.concurrencies) {
    const at = (list: Measurement[]) => list.filter((run) => run.concurrency === c);
    for (const run of at(results.service.runs)) runs.push(runRow(run, 'service, fresh ids'));
    for (const run of at(results.databaseFloor.runs)) runs.push(runRow(run, 'database floor (pg), fresh ids'));
    for (const run of at(results.httpFloor.serviceAlreadyDeleted)) runs.push(runRow(run, 'service, already-deleted ids'));
    for (const run of at(results.httpFloor.floor)) runs.push(runRow(run, `HTTP floor (${results.httpFloor.responseBytes} B answer)`));
  }
  runs.push(runRow(results.validation.on, 'service, validation on'));
  runs.push(runRow(results.validation.off, 'service, validation off'));
  runs.push(runRow(results.scaling.oneId, 'service, 1 fresh id'));
  runs.push(runRow(results.scaling.hundredIds, 'service, 100 fresh ids'));
  runs.push(runRow(results.scaling.smallTable.run, `service, ${rowsLabel(results.scaling.smallTable.rows)}-row table`));
  runs.push(runRow(results.scaling.bigTable.run, `service, ${rowsLabel(results.scaling.bigTable.rows)}-row table`));

  const ingest = results.ingest;
  const ingestRuns: string[][] = [];
  const ingestRow = (run: Measurement, what: string, endpoints: number, hmac: string) => [
    what,
    String(endpoints),
    hmac,
    String(run.concurrency),
    fixed(run.rps, 0),
    fixed(run.p50Ms),
    fixed(run.p99Ms),
    String(run.requests),
  ];
  for (const c of ingest.concurrencies) {
    const at = (list: Measurement[]) => list.filter((run) => run.concurrency === c);
    for (const [endpoints, service, floor] of [
      [ingest.endpoints, ingest.service.manyEndpoints, ingest.floor.manyEndpoints],
      [1, ingest.service.oneEndpoint, ingest.floor.oneEndpoint],
    ] as const) {
      for (const run of at(service.hmacOff)) ingestRuns.push(ingestRow(run, 'service', endpoints, 'off'));
      for (const run of at(service.hmacOn)) ingestRuns.push(ingestRow(run, 'service', endpoints, 'on'));
      for (const run of at(floor)) ingestRuns.push(ingestRow(run, 'database floor (pg)', endpoints, '-'));
    }
  }
  ingestRuns.push(ingestRow(ingest.hmac.off, 'service (off, on, on, off)', ingest.endpoints, 'off'));
  ingestRuns.push(ingestRow(ingest.hmac.on, 'service (off, on, on, off)', ingest.endpoints, 'on'));

  const reads = results.reads;
  const readRuns: string[][] = [];
  for (const c of reads.concurrencies) {
    for (const { request, responseBytes, runs } of Object.values(reads.operations)) {
      for (const run of runs.filter((r) => r.concurrency === c)) {
        const failed = run.failed ? ` (+${run.failed} non-2xx)` : '';
        readRuns.push([request, String(c), fixed(run.rps, 1), fixed(run.p50Ms), fixed(run.p99Ms), String(responseBytes), String(run.requests) + failed]);
      }
    }
  }

  const leases = results.leases;
  const leaseRuns: string[][] = [];
  for (const c of leases.concurrencies) {
    for (const [what, runs] of [
      ['service (HTTP)', leases.service],
      ['database floor (pg)', leases.floor],
    ] as const) {
      for (const run of runs.filter((r) => r.concurrency === c)) {
        leaseRuns.push([what, String(c), String(run.eventsPerSec), fixed(run.requestsPerSec, 0), fixed(run.p50Ms), fixed(run.p99Ms), String(run.requests) + (run.capped ? ' (queue ran short)' : ''), String(run.shortReceives)]);
      }
    }
  }
  const { wakeup } = leases;
  const wakeupRow = (what: string, figures: LeasesResults['wakeup']['sameProcess']) => [
    what,
    fixed(figures.fromAnswer.p50Ms),
    fixed(figures.fromAnswer.p99Ms),
    fixed(figures.fromSend.p50Ms),
    fixed(figures.fromSend.p99Ms),
    fixed(figures.fromSend.maxMs),
  ];

  const busy = machine.loadStart >= machine.cores / 2 || machine.loadEnd >= machine.cores;
  return [
    `Benchmark${results.quick ? ' (--quick: short runs, small tables; indicative only)' : ''}, ${results.startedAt}, ${fixed(results.elapsedSec, 0)} s`,
    `machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGb} GB; ${machine.platform}`,
    `node ${machine.node}; ${machine.postgres} (${machine.database})${machine.partitions ? `; pull_events in ${machine.partitions} hash partitions` : ''}`,
    `load average (1 min): ${fixed(machine.loadStart)} at start, ${fixed(machine.loadEnd)} at end${busy ? '  <- the machine was busy: figures are pessimistic' : ''}`,
    `service: DATABASE_POOL_SIZE=${settings.poolSize}, ${settings.durationSec} s per measurement after ${settings.warmupSec} s warm-up`,
    '',
    table(['run', 'conn', 'ids', 'req/s', 'p50 ms', 'p99 ms', 'requests'], runs, [false, true, true, true, true, true, true]),
    '',
    `ingest: POST /pull/<token>, a ${ingest.bodyBytes}-byte JSON webhook; ${ingest.durationSec} s per measurement after ${ingest.warmupSec} s warm-up`,
    table(
      ['run', 'endpoints', 'HMAC', 'conn', 'webhooks/s', 'p50 ms', 'p99 ms', 'webhooks'],
      ingestRuns,
      [false, true, false, true, true, true, true, true],
    ),
    '',
    `reads: ${reads.rows.toLocaleString('en')} events over ${reads.spanDays} days in ${reads.endpoints} endpoints of one project ` +
      `(${fixed(reads.mix.stored, 1)}% stored, ${fixed(reads.mix.fetched, 1)}% fetched, ${fixed(reads.mix.delivered, 1)}% delivered, ${fixed(reads.mix.deleted, 1)}% deleted; ` +
      `${fixed(reads.tableMb, 0)} MB); the listed endpoint holds ${reads.bigEndpoint.events.toLocaleString('en')} events, ` +
      `${reads.bigEndpoint.liveStored.toLocaleString('en')} live and stored, the deep cursor after ${reads.bigEndpoint.deepAfter.toLocaleString('en')}`,
    `reads: loaded in ${fixed(reads.loadSec, 1)} s (${reads.loadRowsPerSec.toLocaleString('en')} rows/s); rebuildFacts ${fixed(reads.rebuildSec, 1)} s ` +
      `(${reads.rollupRows.toLocaleString('en')} rollup rows, ${fixed(reads.rollupMb, 0)} MB); VACUUM (ANALYZE) ${fixed(reads.vacuumAnalyzeSec, 1)} s; ` +
      `${reads.durationSec} s per measurement after ${reads.warmupSec} s warm-up; section ${fixed(reads.sectionSec, 0)} s`,
    table(['read', 'conn', 'req/s', 'p50 ms', 'p99 ms', 'bytes', 'requests'], readRuns, [false, true, true, true, true, true, true]),
    '',
    `leases: per pair, receive (max_events ${leases.eventsPerReceive}, lease_seconds ${leases.leaseSeconds}) then ack of its lease ids, ` +
      `all workers on one endpoint (a new one per run); ${leases.durationSec} s per measurement after ${leases.warmupSec} s warm-up; p50 and p99 per pair`,
    table(
      ['run', 'workers', 'events/s', 'req/s', 'p50 ms', 'p99 ms', 'pairs', 'short receives'],
      leaseRuns,
      [false, true, true, true, true, true, true, true],
    ),
    `leases: wake-up of a receive waiting (wait_seconds ${wakeup.waitSeconds}) on an empty endpoint, a webhook sent ${wakeup.settleMs} ms after it; ${wakeup.rounds} rounds, ms`,
    table(
      ['receive waiting on', 'p50 from 202', 'p99 from 202', 'p50 from send', 'p99 from send', 'max from send'],
      [wakeupRow('the process storing the webhook', wakeup.sameProcess), wakeupRow('another process (LISTEN/NOTIFY)', wakeup.acrossProcesses)],
      [false, true, true, true, true, true],
    ),
    '',
    'CPU per request on the hot paths (from /proc: the service process, and all of PostgreSQL), each at the concurrency it did best (delete-batch: section 10)',
    table(
      ['path', 'conn', 'req/s', 'p50 ms', 'p99 ms', 'service CPU ms', 'PostgreSQL CPU ms', 'service / PostgreSQL'],
      hotPaths(results).map(([what, run]) => [
        what,
        String(run.concurrency),
        fixed(run.rps, 0),
        fixed(run.p50Ms),
        fixed(run.p99Ms),
        fixed(run.cpu?.serviceMs ?? Number.NaN, 3),
        fixed(run.cpu?.postgresMs ?? Number.NaN, 3),
        `${fixed((run.cpu?.serviceMs ?? Number.NaN) / (run.cpu?.postgresMs ?? Number.NaN))}x`,
      ]),
      [false, true, true, true, true, true, true, true],
    ),
    '',
    `cost: CPU ms per request from /proc, the server's process and all of PostgreSQL's; delete-batch and the database at ${cost.concurrency} connections, list and get at ${cost.list.concurrency}`,
    table(
      ['run', 'conn', 'req/s', 'p50 ms', 'p99 ms', 'server CPU ms', 'PostgreSQL CPU ms'],
      [cost.deleteBatch.service, cost.deleteBatch.peer, cost.postgresPerDelete.table, cost.postgresPerDelete.primaryKeyOnly, cost.list.service, cost.list.peer, cost.get.service, cost.burst.run].map(
        (run) => [run.label, String(run.concurrency), fixed(run.rps, 0), fixed(run.p50Ms), fixed(run.p99Ms), fixed(run.cpu?.serviceMs ?? Number.NaN, 3), fixed(run.cpu?.postgresMs ?? Number.NaN, 3)],
      ),
      [false, true, true, true, true, true, true],
    ),
    `cost: client CPU per call in the bench's process, ${cost.prismaPerCall.calls} calls 8 at a time, by way of Prisma and of pg`,
    table(
      ['statement', 'client', 'CPU ms/call', 'wall ms/call'],
      cost.prismaPerCall.runs.map((run) => [run.statement, run.client, fixed(run.cpuMsPerCall, 3), fixed(run.wallMsPerCall, 3)]),
      [false, false, true, true],
    ),
    '',
    table(
      ['target', 'measured', 'target', 'verdict'],
      results.targets.map((t) => [t.name, t.shown, t.target, t.verdict + (t.note ? ` (${t.note})` : '')]),
      [false, true, true, false],
    ),
    '',
    `service RSS (pid ${results.memory.pid}): ${fixed(results.memory.idleRssMb, 0)} MB once ready, ` +
      `${fixed(results.memory.peakRssMb, 0)} MB peak over the heaviest run (${results.memory.heaviestRun}), ` +
      `${fixed(results.memory.lifetimePeakRssMb, 0)} MB peak over its life; ${results.memory.method}`,
  ].join('\n');
}
