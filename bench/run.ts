/**
 * `npm run bench [-- --quick] [-- --out DIR] [-- --partitions N] [-- --node PATH]`: measures POST /v1/pull-endpoints/{id}/events/delete-batch
 * and the ingest URL, POST /pull/<token>, against their floors in one run, prints a table and
 * writes results.json and results.svg (into bench/ unless --out says otherwise).
 *
 *  1. the service over HTTP (auth, validation, database), 100 fresh ids per request, per concurrency;
 *  2. the database floor: the same two statements per request straight through pg;
 *  3. the HTTP floor: a bare node:http server with a canned answer of the real size, against the
 *     service on ids already deleted;
 *  4. the service with request validation off against on;
 *  5. 1 id against 100 ids per request, and p50 with a big table against a 10,000-row one;
 *  6. the service's peak RSS;
 *  7. ingest (bench/ingest.ts): a ~2 KB webhook on one endpoint and on 16, HMAC on and off,
 *     against the same SQL through pg;
 *  8. reads on a big table (bench/reads.ts), last and in a database of its own: the project's
 *     event log, its metrics (1h to 30d, and the 24h timeseries) and one endpoint's stored events,
 *     first page and deep cursor, on 6M events over 30 days;
 *  9. leases (bench/leases.ts), after ingest on the same service: competing workers receiving and
 *     acking 100 events per pair on one endpoint, against the same SQL through pg, and the wake-up
 *     of a waiting receive when a webhook arrives, on the same process and on a second one;
 * 10. cost (bench/cost.ts): CPU per request against a minimal Express + validator + pg peer, the
 *     database's CPU per delete against a primary-key-only copy of the table, Prisma's cost per
 *     call, and a burst of 256 connections. Every run records its CPU per request (bench/cpu.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { hashApiKey } from '../src/auth/api-keys';
import { partitionCountProblem } from '../src/db/partition';
import { createPrismaClient } from '../src/db/prisma';
import { createProject } from '../src/projects/repository';
import { createSecretBox, generateEncryptionKey, noSecretBox, parseEncryptionKey } from '../src/auth/encryption';
import { createEndpoint } from '../src/pull-endpoints/endpoints';
import { seedEvents } from '../src/pull-events/seed';
import { renderSvg } from './chart';
import { ingestSection } from './ingest';
import { costSection } from './cost';
import { watchPostgres } from './cpu';
import { leasesSection } from './leases';
import { readsSection } from './reads';
import { best, dbLoad, FreshIds, httpLoad, merge, warmedHttpLoad, type Batch, type Measurement } from './load';
import { checkTargets, formatReport, rowsLabel, type BenchResults } from './report';
import {
  createBenchDatabase,
  describeMachine,
  peakRssMb,
  resetPeakRss,
  rssMb,
  startHttpFloor,
  startPeer,
  startService,
  useNode,
  type ChildServer,
} from './setup';

const QUICK = process.argv.includes('--quick');
const OUT_DIR = path.resolve(argValue('--out') ?? path.join(__dirname));
/** `--node PATH`: the node binary that runs the servers (the service, the minimal-stack peer, the HTTP floor). */
const NODE = argValue('--node');
/** results.json for the bench's own node, results-node<major>.json for another. */
const RESULTS_NAME = NODE === undefined ? 'results' : `results-node${useNode(NODE).replace(/^v(\d+).*/, '$1')}`;
/** `--partitions N`: pull_events hash-partitioned by endpoint into N (src/db/partition.ts), in every database of the run. */
const PARTITIONS = partitionsArg();

const IDS = 100;
const SETTINGS = QUICK
  ? {
      durationSec: 1,
      warmupSec: 0.25,
      concurrencies: [1, 8],
      /** Events seeded up front for the fresh-id runs. */
      initialEvents: 150_000,
      /** Events added (at least) when the fresh ids run short. */
      topUpEvents: 50_000,
      /** Seeded before the big-table p50 run when the table has fewer rows. */
      bigTableRows: 50_000,
      jitWarmupRequests: 100,
      /** Unmeasured passes deleting the whole small table (then undeleting it) before its p50 run. */
      smallTablePasses: 1,
      /** Section 7: six runs per concurrency, then four half runs for the HMAC cost. */
      ingest: { concurrencies: [1, 8], durationSec: 0.5, warmupSec: 0.25 },
      /** Section 10: half runs of 1 s per side, a burst of 256 connections for 2 s, 400 calls per client variant. */
      cost: { readConcurrency: 8, burst: { connections: 256, durationSec: 2 }, primaryKeyOnlyEvents: 100_000, clientCalls: 400 },
      /** Section 8: eight reads per concurrency, on a table of `events`. */
      reads: { events: 60_000, bigEndpointEvents: 10_000, deepAfter: 8_000, concurrencies: [1, 8], durationSec: 0.5, warmupSec: 0.25, jitWarmupRequests: 200, loadWorkers: 2 },
      /**
       * Section 9: two runs per concurrency, then the wake-ups on each path. A pair (receive and ack
       * of 100 events) at 8 workers took over 0.5 s on a loaded machine: the window is 2 s, so
       * that some pairs end in it.
       */
      leases: { concurrencies: [1, 8], durationSec: 2, warmupSec: 0.25, jitWarmupPairs: 30, wakeupRounds: 30 },
    }
  : {
      durationSec: 6,
      warmupSec: 1.5,
      concurrencies: [1, 8, 32],
      initialEvents: 6_000_000,
      topUpEvents: 250_000,
      bigTableRows: 5_000_000,
      jitWarmupRequests: 1000,
      smallTablePasses: 3,
      ingest: { concurrencies: [1, 8, 32], durationSec: 4, warmupSec: 1 },
      cost: { readConcurrency: 8, burst: { connections: 256, durationSec: 10 }, primaryKeyOnlyEvents: 500_000, clientCalls: 2_000 },
      reads: { events: 6_000_000, bigEndpointEvents: 250_000, deepAfter: 200_000, concurrencies: [1, 8], durationSec: 4, warmupSec: 1, jitWarmupRequests: 1000, loadWorkers: 2 },
      leases: { concurrencies: [1, 8, 32], durationSec: 4, warmupSec: 1, jitWarmupPairs: 50, wakeupRounds: 200 },
    };
const POOL_SIZE = 16;
const SMALL_TABLE_ROWS = 10_000;
/**
 * Events are seeded into endpoints of at most this many: seeding an endpoint slows down as it
 * grows (its newest id is looked up for every 5,000 rows).
 */
const ENDPOINT_EVENTS = 250_000;
/** The p50 runs: requests at 1 connection after a few unmeasured ones, on either table. */
const LATENCY_REQUESTS = 95;
const LATENCY_WARMUP = 5;

const round1 = (value: number) => Math.round(value * 10) / 10;

function argValue(flag: string): string | undefined {
  const index = process.argv.indexOf(flag);
  if (index < 0) return undefined;
  const value = process.argv[index + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`${flag} needs a value`);
  return value;
}

function partitionsArg(): number | null {
  const value = argValue('--partitions');
  if (value === undefined) return null;
  const n = Number(value);
  const problem = partitionCountProblem(n);
  if (problem) throw new Error(`--partitions ${problem}`);
  return n;
}

const startedAt = Date.now();
function log(message: string): void {
  console.log(`[${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)} s] ${message}`);
}

const cleanups: (() => Promise<unknown>)[] = [];
async function cleanUp(): Promise<void> {
  for (let fn = cleanups.pop(); fn; fn = cleanups.pop()) {
    await fn().catch((error: unknown) => console.error('clean-up step failed:', error));
  }
}

async function main(): Promise<void> {
  log(`benchmark${QUICK ? ' --quick' : ''}${PARTITIONS ? ` --partitions ${PARTITIONS}` : ''}: results go to ${OUT_DIR}`);
  const database = await createBenchDatabase(log, PARTITIONS);
  cleanups.push(() => database.drop());
  log(`database ${database.name} (${database.server}) created and migrated${PARTITIONS ? `; pull_events hash-partitioned into ${PARTITIONS}` : ''}`);

  const control = new pg.Pool({ connectionString: database.url, max: 2 });
  cleanups.push(() => control.end());
  const floorPool = new pg.Pool({ connectionString: database.url, max: POOL_SIZE });
  cleanups.push(() => floorPool.end());
  // An idle client the server drops (the database dropped at the end, a restart) is an 'error'
  // event on its pool, which crashes the process unless someone listens.
  for (const pool of [control, floorPool]) pool.on('error', (error) => log(`an idle database connection closed: ${error.message}`));
  const postmaster = await watchPostgres(control);
  log(postmaster === null ? 'PostgreSQL is not on this machine: no PostgreSQL CPU figures' : `PostgreSQL CPU read from /proc: postmaster pid ${postmaster} and its children`);
  const prisma = createPrismaClient(database.url, { poolSize: 2 });
  cleanups.push(() => prisma.$disconnect());
  const machine = await describeMachine(control, database);
  log(`machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGb} GB, load ${machine.loadStart.toFixed(2)}; node ${machine.node}`);
  log(`database: ${machine.postgres}`);
  if (machine.loadStart >= machine.cores / 2) log(`note: the machine is busy (load ${machine.loadStart.toFixed(2)}); figures will be pessimistic`);

  const { project, apiKey } = await createProject(prisma, 'benchmark');
  const keyHash = hashApiKey(apiKey.key);
  const newEndpoint = async (name: string) => (await createEndpoint({ db: prisma, box: noSecretBox }, project.id, { name })).row.id;
  const smallEndpoint = await newEndpoint('bench small table');
  const headers = { authorization: `Bearer ${apiKey.key}`, 'content-type': 'application/json' };
  const pathOf = (endpointId: string) => `/v1/pull-endpoints/${endpointId}/events/delete-batch`;
  const bodyOf = (ids: string[]) => JSON.stringify({ message_ids: ids });
  // Should fresh ids run out mid-run, an empty list answers 400 and fails the run loudly.
  const deleteRequest = (batch: Batch | undefined) =>
    batch ? { path: pathOf(batch.endpointId), body: bodyOf(batch.ids) } : { path: pathOf(smallEndpoint), body: bodyOf([]) };

  /**
   * Seeds `count` events into each of `endpoints` with seedEvents, printing progress. (It is
   * called in slices: seedEvents returns every id it made.)
   */
  async function seed(endpoints: string[], count: number, what: string): Promise<void> {
    const total = endpoints.length * count;
    const began = Date.now();
    let lastReport = began;
    let done = 0;
    const SLICE = 250_000;
    for (const endpointId of endpoints) {
      for (let seeded = 0; seeded < count; ) {
        const size = Math.min(SLICE, count - seeded);
        await seedEvents(prisma, endpointId, size, (inserted) => {
          if (Date.now() - lastReport < 5000) return;
          lastReport = Date.now();
          const sofar = done + inserted;
          const rate = sofar / ((Date.now() - began) / 1000);
          log(`  seeding ${what}: ${sofar.toLocaleString('en')} / ${total.toLocaleString('en')} (${Math.round(rate).toLocaleString('en')}/s, ~${Math.ceil((total - sofar) / rate)} s left)`);
        });
        seeded += size;
        done += size;
      }
    }
    log(`seeded ${total.toLocaleString('en')} ${what} in ${((Date.now() - began) / 1000).toFixed(1)} s`);
  }

  /** A new endpoint with `count` events. */
  async function seedEndpoint(count: number, what: string): Promise<string> {
    const endpointId = await newEndpoint(`bench ${what}`);
    await seed([endpointId], count, what);
    return endpointId;
  }

  /** `count` events in new endpoints of at most ENDPOINT_EVENTS each; returns them. */
  async function seedEndpoints(count: number, what: string): Promise<string[]> {
    const per = Math.min(count, ENDPOINT_EVENTS);
    const endpoints: string[] = [];
    for (let i = 0; i < Math.ceil(count / per); i++) endpoints.push(await newEndpoint(`bench ${what}`));
    await seed(endpoints, per, what);
    return endpoints;
  }

  async function tableRows(): Promise<number> {
    const { rows } = await control.query<{ n: number }>('SELECT count(*)::int AS n FROM pull_events');
    return rows[0]!.n;
  }

  /** Fails unless at least `expected` of the ids handed out during a run are now deleted. */
  async function verifyDeleted(taken: Batch[], expected: number, label: string): Promise<void> {
    const { rows } = await control.query<{ n: number }>(
      `SELECT count(*)::int AS n
       FROM unnest($1::uuid[], $2::uuid[]) AS t(endpoint_id, id)
       JOIN pull_events e ON e.pull_endpoint_id = t.endpoint_id AND e.id = t.id
       WHERE e.deleted_at IS NOT NULL`,
      [taken.flatMap((batch) => batch.ids.map(() => batch.endpointId)), taken.flatMap((batch) => batch.ids)],
    );
    const deleted = rows[0]!.n;
    if (deleted < expected) {
      throw new Error(`${label}: only ${deleted} of the ${expected} ids answered were deleted by the run: ids were not fresh`);
    }
  }

  // ---- 5b, first half: p50 on a 10,000-row table (before anything else is seeded) -----------
  await seed([smallEndpoint], SMALL_TABLE_ROWS, 'events (small table)');
  await control.query('VACUUM (ANALYZE) pull_events');

  log('starting the service twice (request validation on, and off) as child processes');
  // One key per run: the bench seals the ingest endpoints' HMAC secrets, the service opens them.
  const encryptionKey = generateEncryptionKey();
  const started = await Promise.allSettled([
    startService('service', database.url, { poolSize: POOL_SIZE, encryptionKey }),
    startService('service (VALIDATE_REQUESTS=0)', database.url, { poolSize: POOL_SIZE, encryptionKey, env: { VALIDATE_REQUESTS: '0' } }),
  ]);
  for (const result of started) if (result.status === 'fulfilled') cleanups.push(() => result.value.stop());
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
  const [service, unvalidated] = started.map((result) => (result as PromiseFulfilledResult<ChildServer>).value) as [ChildServer, ChildServer];
  const idleRss = rssMb(service.pid);
  log(`service pid ${service.pid} on ${service.baseUrl} (RSS ${idleRss.toFixed(0)} MB once ready); without validation pid ${unvalidated.pid} on ${unvalidated.baseUrl}`);

  /** Warms a server's code paths on ids that do not exist: nothing is deleted. */
  const jitWarmUp = (target: ChildServer) =>
    httpLoad(`JIT warm-up, ${target.name}`, IDS, {
      baseUrl: target.baseUrl,
      headers,
      connections: 4,
      amount: SETTINGS.jitWarmupRequests,
      request: () => ({ path: pathOf(smallEndpoint), body: bodyOf(Array.from({ length: IDS }, () => uuidv7())) }),
    });
  for (const target of [service, unvalidated]) await jitWarmUp(target);

  /** p50 at 1 connection on fresh ids of `ids` (a few unmeasured requests first). */
  async function latencyRun(ids: FreshIds, label: string): Promise<Measurement> {
    await ids.ensure(LATENCY_WARMUP + LATENCY_REQUESTS, IDS);
    const common = { baseUrl: service.baseUrl, headers, connections: 1, request: () => deleteRequest(ids.take(IDS)) };
    await httpLoad(`${label} (warm-up)`, IDS, { ...common, amount: LATENCY_WARMUP });
    const stop = ids.track();
    const run = await httpLoad(label, IDS, { ...common, amount: LATENCY_REQUESTS });
    await verifyDeleted(stop(), run.requests * IDS, label);
    return run;
  }

  // The service has served few requests yet: warm it on the real work first, deleting the whole
  // small table, then undeleting it (and vacuuming the dead rows away), so the table stays small.
  const noTopUp = () => Promise.reject(new Error('the small table is not topped up'));
  for (let pass = 1; pass <= SETTINGS.smallTablePasses; pass++) {
    const ids = new FreshIds(control, [smallEndpoint], noTopUp);
    await ids.ensure(SMALL_TABLE_ROWS / IDS, IDS);
    await httpLoad('small-table warm-up', IDS, {
      baseUrl: service.baseUrl,
      headers,
      connections: 1,
      amount: SMALL_TABLE_ROWS / IDS,
      request: () => deleteRequest(ids.take(IDS)),
    });
    await control.query(
      'UPDATE pull_events SET deleted_at = NULL, deleted_by_api_key_id = NULL WHERE pull_endpoint_id = $1 AND deleted_at IS NOT NULL',
      [smallEndpoint],
    );
    await control.query('VACUUM (ANALYZE) pull_events');
  }
  const smallRows = await tableRows();
  const smallRun = await latencyRun(new FreshIds(control, [smallEndpoint], noTopUp), `p50, ${rowsLabel(smallRows)}-row table`);
  log(`p50 with ${smallRows} rows in the table: ${smallRun.p50Ms} ms`);

  // ---- the fresh-id pool for everything else ------------------------------------------------
  const workEndpoints = await seedEndpoints(SETTINGS.initialEvents, 'events');
  // Section 10's primary-key-only copy takes its events from endpoints seeded now, so that seeding
  // them later does not set autovacuum going on the big table in the middle of that section.
  const copyEndpoints = await seedEndpoints(SETTINGS.cost.primaryKeyOnlyEvents, 'events (for the primary-key-only copy)');
  log('VACUUM (ANALYZE) pull_events, so that autovacuum does not start during the runs');
  await control.query('VACUUM (ANALYZE) pull_events');
  // After each top-up, ANALYZE as autovacuum would sooner or later: until the statistics know an
  // endpoint, PostgreSQL plans the batch delete's UPDATE as a scan of all of that endpoint's events.
  const fresh = new FreshIds(control, workEndpoints, async (count) => {
    const events = Math.min(ENDPOINT_EVENTS, Math.ceil(Math.max(count, SETTINGS.topUpEvents) / 5000) * 5000);
    const endpointId = await seedEndpoint(events, 'more events (top-up)');
    await control.query('ANALYZE pull_events');
    return endpointId;
  });

  let rateGuess = 300;
  type Drive = (window: { connections: number; durationSec: number; maxRequests: number }, next: () => Batch | undefined) => Promise<Measurement>;

  /** A warm-up (unless told otherwise), then a measured run, on fresh ids, checked to be deleted. */
  async function freshRun(
    label: string,
    connections: number,
    idsPerRequest: number,
    drive: Drive,
    { durationSec = SETTINGS.durationSec, warmUp = true } = {},
  ): Promise<Measurement> {
    const next = () => fresh.take(idsPerRequest);
    let rate = rateGuess;
    if (warmUp) {
      const warmBudget = Math.ceil(rateGuess * SETTINGS.warmupSec * 2) + connections * 4;
      await fresh.ensure(warmBudget, idsPerRequest);
      rate = (await drive({ connections, durationSec: SETTINGS.warmupSec, maxRequests: warmBudget }, next)).rps;
    }
    const budget = Math.ceil(Math.max(rate, 20) * durationSec * 1.5) + connections * 4;
    await fresh.ensure(budget, idsPerRequest);
    const stop = fresh.track();
    const run = await drive({ connections, durationSec, maxRequests: fresh.available(idsPerRequest) }, next);
    await verifyDeleted(stop(), run.requests * idsPerRequest, label);
    rateGuess = Math.max(rateGuess, run.rps);
    log(`${label.padEnd(34)} ${String(connections).padStart(2)} conn: ${run.rps.toFixed(0).padStart(6)} req/s  p50 ${run.p50Ms.toFixed(2)} ms  p99 ${run.p99Ms.toFixed(2)} ms${run.capped ? '  (ids ran out)' : ''}`);
    return run;
  }

  const overHttp = (target: ChildServer, idsPerRequest: number, label: string): Drive => (window, next) =>
    httpLoad(label, idsPerRequest, { baseUrl: target.baseUrl, headers, ...window, request: () => deleteRequest(next()) });
  const overPg = (label: string): Drive => (window, next) =>
    dbLoad(label, IDS, { pool: floorPool, keyHash, ...window, next });

  // ---- 1 and 2: the service and the database floor, interleaved per concurrency ---------------
  const serviceRuns: Measurement[] = [];
  const dbFloorRuns: Measurement[] = [];
  // The heaviest run is the service's at the highest concurrency: its peak RSS is read over it alone.
  const heaviest = Math.max(...SETTINGS.concurrencies);
  let heaviestPeak = Number.NaN;
  let peakBefore = Number.NaN;
  let peakReset = false;
  for (const c of SETTINGS.concurrencies) {
    if (c === heaviest) {
      peakBefore = peakRssMb(service.pid);
      peakReset = resetPeakRss(service.pid);
    }
    serviceRuns.push(await freshRun('service, fresh ids', c, IDS, overHttp(service, IDS, 'service, fresh ids')));
    if (c === heaviest) heaviestPeak = peakRssMb(service.pid);
    dbFloorRuns.push(await freshRun('database floor (pg), fresh ids', c, IDS, overPg('database floor (pg), fresh ids')));
  }
  const serviceBest = best(serviceRuns);
  const dbFloorBest = best(dbFloorRuns);

  // ---- 3: the HTTP floor against the service on already-deleted ids ---------------------------
  // Ids the first runs deleted: those of the first endpoint.
  const deletedEndpoint = workEndpoints[0]!;
  const { rows: deletedRows } = await control.query<{ id: string }>(
    'SELECT id::text FROM pull_events WHERE pull_endpoint_id = $1 AND deleted_at IS NOT NULL ORDER BY pull_events.id LIMIT $2',
    [deletedEndpoint, 200 * IDS],
  );
  const deletedBatches: string[][] = [];
  for (let i = 0; i + IDS <= deletedRows.length; i += IDS) deletedBatches.push(deletedRows.slice(i, i + IDS).map((row) => row.id));
  if (deletedBatches.length < 2 * Math.max(...SETTINGS.concurrencies)) throw new Error('too few deleted events for the already-deleted runs');
  const deletedBodies = deletedBatches.map(bodyOf);
  let turn = 0;
  const alreadyDeletedRequest = () => ({ path: pathOf(deletedEndpoint), body: deletedBodies[turn++ % deletedBodies.length]! });
  const sample = await fetch(`${service.baseUrl}${pathOf(deletedEndpoint)}`, { method: 'POST', headers, body: deletedBodies[0]! });
  const canned = await sample.text();
  const parsed = JSON.parse(canned) as { data?: { already_deleted_count?: number } };
  if (sample.status !== 200 || parsed.data?.already_deleted_count !== IDS) throw new Error(`unexpected answer on already-deleted ids: ${sample.status} ${canned.slice(0, 200)}`);
  const floor = await startHttpFloor(canned);
  cleanups.push(() => floor.stop());
  log(`HTTP floor pid ${floor.pid} answers a canned ${Buffer.byteLength(canned)}-byte delete-batch response`);

  async function cyclingRun(target: ChildServer, label: string, connections: number): Promise<Measurement> {
    const load = { baseUrl: target.baseUrl, headers, connections, request: alreadyDeletedRequest, durationSec: SETTINGS.durationSec };
    const run = await warmedHttpLoad(label, IDS, load, SETTINGS.warmupSec);
    log(`${label.padEnd(34)} ${String(connections).padStart(2)} conn: ${run.rps.toFixed(0).padStart(6)} req/s  p50 ${run.p50Ms.toFixed(2)} ms  p99 ${run.p99Ms.toFixed(2)} ms`);
    return run;
  }
  const httpFloorRuns: Measurement[] = [];
  const alreadyDeletedRuns: Measurement[] = [];
  for (const c of SETTINGS.concurrencies) {
    httpFloorRuns.push(await cyclingRun(floor, 'HTTP floor (bare node:http)', c));
    alreadyDeletedRuns.push(await cyclingRun(service, 'service, already-deleted ids', c));
  }
  await floor.stop();

  // ---- 4: request validation on and off, at the service's best concurrency --------------------
  const vc = serviceBest.concurrency;
  // The process without validation has served only its JIT warm-up so far: bring it level with
  // the other first, on already-deleted ids (no fresh ids spent).
  await httpLoad('warm-up without validation', IDS, {
    baseUrl: unvalidated.baseUrl,
    headers,
    connections: vc,
    durationSec: SETTINGS.warmupSec * 4,
    request: alreadyDeletedRequest,
  });
  // In the order on, off, off, on, half the time each, so that a drift (table, machine) during
  // the section weighs on both sides alike.
  const on = overHttp(service, IDS, 'service, validation on');
  const off = overHttp(unvalidated, IDS, 'service, validation off');
  const half = { durationSec: SETTINGS.durationSec / 2 };
  const onFirst = await freshRun('service, validation on (1/2)', vc, IDS, on, half);
  const offFirst = await freshRun('service, validation off (1/2)', vc, IDS, off, half);
  const offSecond = await freshRun('service, validation off (2/2)', vc, IDS, off, { ...half, warmUp: false });
  const onSecond = await freshRun('service, validation on (2/2)', vc, IDS, on, { ...half, warmUp: false });
  const validationOn = merge('service, validation on', [onFirst, onSecond]);
  const validationOff = merge('service, validation off', [offFirst, offSecond]);
  await unvalidated.stop();

  // ---- 5a: 1 id against 100 ids per request, 1 connection --------------------------------------
  const oneId = await freshRun('service, 1 fresh id', 1, 1, overHttp(service, 1, 'service, 1 fresh id'));
  const hundredIds = await freshRun('service, 100 fresh ids', 1, IDS, overHttp(service, IDS, 'service, 100 fresh ids'));

  // ---- 5b, second half: p50 on the big table ----------------------------------------------------
  let bigRows = await tableRows();
  if (bigRows < SETTINGS.bigTableRows) {
    await seedEndpoints(SETTINGS.bigTableRows - bigRows, 'events (big table)');
    await control.query('VACUUM (ANALYZE) pull_events');
    bigRows = await tableRows();
  }
  const bigRun = await latencyRun(fresh, `p50, ${rowsLabel(bigRows)}-row table`);
  log(`p50 with ${bigRows} rows in the table: ${bigRun.p50Ms} ms (against ${smallRun.p50Ms} ms with ${smallRows})`);

  // ---- 7: ingest, after the delete-batch runs: the events it stores change none of them -----
  const ingest = await ingestSection({
    control,
    floorPool,
    db: prisma,
    box: createSecretBox(parseEncryptionKey(encryptionKey)),
    projectId: project.id,
    service,
    log,
    settings: { ...SETTINGS.ingest, jitWarmupRequests: SETTINGS.jitWarmupRequests },
  });

  // ---- 9: leases, after ingest: its queues are endpoints of their own ---------------------------
  const leases = await leasesSection({
    control,
    floorPool,
    db: prisma,
    projectId: project.id,
    headers,
    keyHash,
    service,
    startPeer: () => startService('service B (leases)', database.url, { poolSize: POOL_SIZE, encryptionKey }),
    seed: (endpointId, count) => seed([endpointId], count, 'events (leases)'),
    log,
    cleanUp: (step) => cleanups.push(step),
    settings: SETTINGS.leases,
  });

  // ---- 6: memory ----------------------------------------------------------------------------
  // Without the reset, VmHWM of the heaviest run is the peak over the process's life so far.
  const lifetimePeak = Math.max(peakBefore, peakRssMb(service.pid));
  const memoryMethod = peakReset
    ? 'VmHWM reset (clear_refs) just before the heaviest run, read just after it'
    : 'VmHWM over the process life up to the end of the heaviest run (reset not permitted)';
  log(`service peak RSS over the heaviest run (${heaviest} conn): ${heaviestPeak.toFixed(1)} MB (${memoryMethod})`);

  // ---- 10: cost per request, against the minimal stack and a primary-key-only table; a burst last
  const peer = await startPeer(database.url, POOL_SIZE);
  cleanups.push(() => peer.stop());
  await jitWarmUp(peer);
  const cost = await costSection({
    control,
    databaseUrl: database.url,
    db: prisma,
    projectId: project.id,
    keyHash,
    headers,
    service,
    peer,
    freshRun,
    overHttp,
    overPg,
    copyEndpoints,
    seedEndpoint: async (count, what) => {
      const endpointId = await seedEndpoint(count, what);
      await control.query('ANALYZE pull_events');
      return endpointId;
    },
    log,
    cleanUp: (step) => cleanups.push(step),
    settings: { ...SETTINGS.cost, concurrency: heaviest, durationSec: SETTINGS.durationSec, warmupSec: SETTINGS.warmupSec },
  });
  await peer.stop();
  await service.stop();

  // ---- 8: reads on a big table, last, in a database of its own (see bench/reads.ts) ----------
  const reads = await readsSection({
    database,
    log,
    cleanUp: (step) => cleanups.push(step),
    encryptionKey,
    poolSize: POOL_SIZE,
    settings: SETTINGS.reads,
  });

  machine.loadEnd = os.loadavg()[0] ?? Number.NaN;
  const body: Omit<BenchResults, 'targets'> = {
    quick: QUICK,
    startedAt: new Date(startedAt).toISOString(),
    elapsedSec: Math.round((Date.now() - startedAt) / 100) / 10,
    machine,
    settings: {
      durationSec: SETTINGS.durationSec,
      warmupSec: SETTINGS.warmupSec,
      concurrencies: SETTINGS.concurrencies,
      poolSize: POOL_SIZE,
      idsPerRequest: IDS,
    },
    service: { runs: serviceRuns },
    databaseFloor: {
      runs: dbFloorRuns,
      serviceBestRps: serviceBest.rps,
      floorBestRps: dbFloorBest.rps,
      ratio: serviceBest.rps / dbFloorBest.rps,
      target: 0.8,
    },
    httpFloor: {
      responseBytes: Buffer.byteLength(canned),
      floor: httpFloorRuns,
      serviceAlreadyDeleted: alreadyDeletedRuns,
      ratio: best(alreadyDeletedRuns).rps / best(httpFloorRuns).rps,
    },
    validation: {
      concurrency: vc,
      on: validationOn,
      off: validationOff,
      ratioOffOn: validationOff.rps / validationOn.rps,
      costPercent: (1 - validationOn.rps / validationOff.rps) * 100,
      targetPercent: 25,
    },
    scaling: {
      oneId,
      hundredIds,
      // At 1 connection the mean latency is the cost of a request.
      costRatio: hundredIds.meanMs / oneId.meanMs,
      targetCostRatio: 3,
      smallTable: { rows: smallRows, run: smallRun },
      bigTable: { rows: bigRows, run: bigRun },
      p50Ratio: bigRun.p50Ms / smallRun.p50Ms,
      targetP50Ratio: 1.3,
      bigTableTargetRows: 5_000_000,
    },
    memory: {
      peakRssMb: round1(heaviestPeak),
      method: memoryMethod,
      heaviestRun: `service, fresh ids, ${heaviest} connections`,
      idleRssMb: round1(idleRss),
      lifetimePeakRssMb: round1(lifetimePeak),
      targetMb: 200,
      pid: service.pid,
    },
    ingest,
    reads,
    leases,
    cost,
  };
  const results: BenchResults = { ...body, targets: checkTargets(body) };

  fs.mkdirSync(OUT_DIR, { recursive: true });
  fs.writeFileSync(path.join(OUT_DIR, `${RESULTS_NAME}.json`), `${JSON.stringify(results, null, 2)}\n`);
  fs.writeFileSync(path.join(OUT_DIR, `${RESULTS_NAME}.svg`), renderSvg(results));
  console.log(`\n${formatReport(results)}\n`);
  log(`wrote ${path.join(OUT_DIR, `${RESULTS_NAME}.json`)} and ${RESULTS_NAME}.svg`);
}

// A closed stdout (`npm run bench | head`) must not kill the run before it cleans up.
process.stdout.on('error', () => undefined);
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    interrupted = true;
    console.error(`\n${signal}: stopping the processes and dropping the database`);
    void cleanUp().finally(() => process.exit(130));
  });
}

main()
  .catch((error: unknown) => {
    // Once interrupted, the clean-up closes what the run was using: its errors are expected.
    if (!interrupted) console.error(error);
    process.exitCode = 1;
  })
  .finally(() => cleanUp());
