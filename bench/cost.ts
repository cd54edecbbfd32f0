/**
 * Section 10, cost: what each request costs in CPU, against what the mandated stack costs with
 * nothing of ours on top (bench/peer-server.ts), and what a batch delete costs PostgreSQL against
 * the same statement on a copy of the table with its primary key alone. Then a burst of many
 * connections, for memory. CPU comes from /proc (bench/cpu.ts) for every run.
 */
import { performance } from 'node:perf_hooks';
import type { Pool } from 'pg';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { createPrismaClient, type Database } from '../src/db/prisma';
import { liveApiKeySql } from '../src/projects/repository';
import { batchDeleteSql, listEvents } from '../src/pull-events/repository';
import { dbLoad, FreshIds, merge, warmedHttpLoad, type Batch, type Measurement } from './load';
import { peakRssMb, resetPeakRss, type ChildServer, type Log } from './setup';

export interface CostSettings {
  /** Connections of the delete-batch and database runs (the bench's heaviest). */
  concurrency: number;
  /** Connections of the list and get runs. */
  readConcurrency: number;
  durationSec: number;
  warmupSec: number;
  burst: { connections: number; durationSec: number };
  /** Events seeded up front (bench/run.ts) and copied into the primary-key-only table. */
  primaryKeyOnlyEvents: number;
  /** Calls per variant in the per-call comparison of Prisma and pg (as many again unmeasured). */
  clientCalls: number;
}

type Drive = (window: { connections: number; durationSec: number; maxRequests: number }, next: () => Batch | undefined) => Promise<Measurement>;

export interface CostContext {
  control: Pool;
  databaseUrl: string;
  db: Database;
  projectId: string;
  keyHash: string;
  headers: Record<string, string>;
  service: ChildServer;
  peer: ChildServer;
  /** A warm-up and a measured run on the bench's fresh ids, checked to be deleted (bench/run.ts). */
  freshRun: (label: string, connections: number, idsPerRequest: number, drive: Drive, options?: { durationSec?: number; warmUp?: boolean }) => Promise<Measurement>;
  overHttp: (target: ChildServer, idsPerRequest: number, label: string) => Drive;
  overPg: (label: string) => Drive;
  /** Endpoints of live events seeded for the primary-key-only copy (and not handed out as fresh ids). */
  copyEndpoints: string[];
  /** Seeds `count` events into a new endpoint of the project; returns its id. */
  seedEndpoint: (count: number, what: string) => Promise<string>;
  log: Log;
  cleanUp: (step: () => Promise<unknown>) => void;
  settings: CostSettings;
}

/** Client CPU per call of one statement, in the bench's own process, by way of each client. */
export interface ClientCall {
  statement: string;
  client: '$queryRaw' | 'query API' | 'pg';
  cpuMsPerCall: number;
  wallMsPerCall: number;
}

export interface CostResults {
  concurrency: number;
  deleteBatch: {
    service: Measurement;
    peer: Measurement;
    /** Service req/s / peer req/s. */
    throughputRatio: number;
    targetThroughputRatio: number;
    /** Service CPU per request / peer CPU per request. */
    cpuRatio: number;
    targetCpuRatio: number;
  };
  postgresPerDelete: {
    table: Measurement;
    primaryKeyOnly: Measurement;
    /** PostgreSQL CPU per request on the table / on the primary-key-only copy. */
    ratio: number;
    target: number;
  };
  list: { concurrency: number; service: Measurement; peer: Measurement; serviceToPostgres: number; peerToPostgres: number; target: number };
  get: { concurrency: number; service: Measurement };
  burst: { connections: number; durationSec: number; run: Measurement; peakRssMb: number; aliveAfter: boolean };
  /** What Prisma costs per call over pg, same statements, same pool size, 8 at a time (bench process). */
  prismaPerCall: { calls: number; runs: ClientCall[] };
}

const PK_SCHEMA = 'bench_pk_only';
const IDS = 100;

const cpuOf = (run: Measurement, side: 'serviceMs' | 'postgresMs') => run.cpu?.[side] ?? Number.NaN;

function line(log: Log, run: Measurement): void {
  const cpu = run.cpu ? `  CPU/request: server ${run.cpu.serviceMs ?? '-'} ms, PostgreSQL ${run.cpu.postgresMs ?? '-'} ms` : '';
  log(`${run.label.padEnd(40)} ${String(run.concurrency).padStart(3)} conn: ${run.rps.toFixed(0).padStart(6)} req/s  p50 ${run.p50Ms.toFixed(2)} ms  p99 ${run.p99Ms.toFixed(2)} ms${cpu}`);
}

/**
 * A copy of pull_events in a schema of its own with its primary key alone (same columns, defaults
 * and storage parameters), holding `events` live events of new endpoints; a pool whose
 * search_path finds it before the real table, so that the service's statements run on it as they are.
 */
async function primaryKeyOnlyTable(ctx: CostContext): Promise<{ pool: Pool; endpoints: string[] }> {
  const { control, copyEndpoints: endpoints } = ctx;
  // A partitioned table keeps its storage parameters on its partitions.
  const { rows: [storage] } = await control.query<{ options: string[] | null }>(`
    SELECT coalesce(c.reloptions, (SELECT p.reloptions FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhrelid WHERE i.inhparent = c.oid LIMIT 1)) AS options
    FROM pg_class c WHERE c.oid = 'public.pull_events'::regclass`);
  await control.query(`DROP SCHEMA IF EXISTS ${PK_SCHEMA} CASCADE`);
  await control.query(`CREATE SCHEMA ${PK_SCHEMA}`);
  ctx.cleanUp(() => control.query(`DROP SCHEMA IF EXISTS ${PK_SCHEMA} CASCADE`));
  await control.query(`
    CREATE TABLE ${PK_SCHEMA}.pull_events (LIKE public.pull_events INCLUDING DEFAULTS)${storage?.options ? ` WITH (${storage.options.join(', ')})` : ''}`);
  await control.query(`INSERT INTO ${PK_SCHEMA}.pull_events SELECT * FROM public.pull_events WHERE pull_endpoint_id = ANY($1::uuid[])`, [endpoints]);
  await control.query(`ALTER TABLE ${PK_SCHEMA}.pull_events ADD PRIMARY KEY (pull_endpoint_id, id)`);
  await control.query(`VACUUM (ANALYZE) ${PK_SCHEMA}.pull_events`);
  await setAutovacuum(control, `${PK_SCHEMA}.pull_events`, false);
  const pool = new pg.Pool({ connectionString: ctx.databaseUrl, max: 16, options: `-c search_path=${PK_SCHEMA},public` });
  pool.on('error', () => undefined);
  ctx.cleanUp(() => pool.end());
  return { pool, endpoints };
}

/**
 * Autovacuum on or off for a table (each partition of a partitioned one). Off for this section's
 * runs: a vacuum that the earlier sections' deletes call for would otherwise land on whichever
 * run is going, and the PostgreSQL CPU of that run with it.
 */
async function setAutovacuum(control: Pool, table: string, enabled: boolean): Promise<void> {
  const { rows } = await control.query<{ name: string }>('SELECT relid::regclass::text AS name FROM pg_partition_tree($1::regclass) WHERE isleaf', [table]);
  for (const { name } of rows) await control.query(`ALTER TABLE ${name} SET (autovacuum_enabled = ${enabled})`);
}

export async function costSection(ctx: CostContext): Promise<CostResults> {
  const { settings, service, peer, headers, log } = ctx;
  const c = settings.concurrency;
  const half = { durationSec: settings.durationSec / 2 };

  // The dead rows the earlier sections' deletes left, vacuumed now rather than during a run.
  const vacuumStarted = Date.now();
  await setAutovacuum(ctx.control, 'public.pull_events', false);
  ctx.cleanUp(() => setAutovacuum(ctx.control, 'public.pull_events', true));
  await ctx.control.query('VACUUM (ANALYZE) public.pull_events');
  log(`cost: VACUUM (ANALYZE) pull_events in ${((Date.now() - vacuumStarted) / 1000).toFixed(1)} s; autovacuum off on it for this section`);

  // ---- delete-batch: the service against the minimal stack, in the order service, peer, peer, service
  const onService = ctx.overHttp(service, IDS, 'cost: service, delete-batch');
  const onPeer = ctx.overHttp(peer, IDS, 'cost: minimal stack, delete-batch');
  const runs = [
    await ctx.freshRun('cost: service, delete-batch (1/2)', c, IDS, onService, half),
    await ctx.freshRun('cost: minimal stack, delete-batch (1/2)', c, IDS, onPeer, half),
    await ctx.freshRun('cost: minimal stack, delete-batch (2/2)', c, IDS, onPeer, { ...half, warmUp: false }),
    await ctx.freshRun('cost: service, delete-batch (2/2)', c, IDS, onService, { ...half, warmUp: false }),
  ];
  const serviceDelete = merge('service, delete-batch', [runs[0]!, runs[3]!]);
  const peerDelete = merge('minimal stack, delete-batch', [runs[1]!, runs[2]!]);
  line(log, serviceDelete);
  line(log, peerDelete);

  // ---- PostgreSQL per 100-id delete: the table against a primary-key-only copy, same statements
  const copy = await primaryKeyOnlyTable(ctx);
  const noMore = () => Promise.reject(new Error('the primary-key-only copy ran out of live events: raise primaryKeyOnlyEvents'));
  const copyIds = new FreshIds(copy.pool, copy.endpoints, noMore);
  let copyRate = 300;
  const onCopy = async (label: string, durationSec: number, warmUp: boolean): Promise<Measurement> => {
    const window = (seconds: number) => ({ pool: copy.pool, keyHash: ctx.keyHash, connections: c, durationSec: seconds, next: () => copyIds.take(IDS) });
    if (warmUp) {
      await copyIds.ensure(Math.ceil(copyRate * settings.warmupSec * 2) + c * 4, IDS);
      copyRate = Math.max(copyRate, (await dbLoad(`${label} (warm-up)`, IDS, window(settings.warmupSec))).rps);
    }
    await copyIds.ensure(Math.ceil(copyRate * durationSec * 1.5) + c * 4, IDS);
    return dbLoad(label, IDS, window(durationSec));
  };
  const onTable = ctx.overPg('cost: database, the table');
  const pgRuns = [
    await ctx.freshRun('cost: database, the table (1/2)', c, IDS, onTable, half),
    await onCopy('cost: database, primary key only (1/2)', half.durationSec, true),
    await onCopy('cost: database, primary key only (2/2)', half.durationSec, false),
    await ctx.freshRun('cost: database, the table (2/2)', c, IDS, onTable, { ...half, warmUp: false }),
  ];
  const table = merge('database floor, the table', [pgRuns[0]!, pgRuns[3]!]);
  const primaryKeyOnly = merge('database floor, primary-key-only copy', [pgRuns[1]!, pgRuns[2]!]);
  line(log, table);
  line(log, primaryKeyOnly);

  // ---- list (100 stored events) and get (with its payload), on endpoints of their own
  const listEndpoint = await ctx.seedEndpoint(1_000, 'events (list)');
  const getEndpoint = await ctx.seedEndpoint(1_000, 'events (get)');
  await ctx.control.query('ANALYZE pull_events');
  const { rows: getRows } = await ctx.control.query<{ id: string }>('SELECT id::text FROM pull_events WHERE pull_endpoint_id = $1 ORDER BY id', [getEndpoint]);
  let turn = 0;
  const read = { method: 'GET' as const, headers: { authorization: headers.authorization! }, connections: settings.readConcurrency };
  const listPath = `/v1/pull-endpoints/${listEndpoint}/events?limit=100`;
  const reading = (target: ChildServer, label: string, request: () => { path: string }) =>
    warmedHttpLoad(label, 100, { ...read, baseUrl: target.baseUrl, durationSec: settings.durationSec / 2, request }, settings.warmupSec);
  const list = () => ({ path: listPath });
  const listRuns = [
    await reading(service, 'service, list events (1/2)', list),
    await reading(peer, 'minimal stack, list events (1/2)', list),
    await reading(peer, 'minimal stack, list events (2/2)', list),
    await reading(service, 'service, list events (2/2)', list),
  ];
  const serviceList = merge('service, list 100 events', [listRuns[0]!, listRuns[3]!]);
  const peerList = merge('minimal stack, list 100 events', [listRuns[1]!, listRuns[2]!]);
  line(log, serviceList);
  line(log, peerList);
  const get = () => ({ path: `/v1/pull-endpoints/${getEndpoint}/events/${getRows[turn++ % getRows.length]!.id}` });
  const serviceGet = merge('service, get event', [await reading(service, 'service, get event', get)]);
  line(log, serviceGet);

  // ---- a burst of connections on delete-batch: peak memory, and the process still serving after it
  const { connections: burstConnections, durationSec: burstSec } = settings.burst;
  resetPeakRss(service.pid);
  const burst = await ctx.freshRun(`cost: service, burst of ${burstConnections} connections`, burstConnections, IDS, onService, { durationSec: burstSec, warmUp: false });
  const burstPeak = peakRssMb(service.pid);
  const aliveAfter = await fetch(`${service.baseUrl}/readyz`).then((res) => res.ok, () => false);
  log(`burst of ${burstConnections} connections for ${burstSec} s: peak RSS ${burstPeak.toFixed(0)} MB, ${aliveAfter ? 'still serving' : 'NOT SERVING'} after it`);
  await setAutovacuum(ctx.control, 'public.pull_events', true);

  const prismaPerCall = await clientCalls(ctx, listEndpoint, settings.clientCalls);
  for (const call of prismaPerCall.runs) log(`per call, ${call.statement} through ${call.client}: ${call.cpuMsPerCall.toFixed(3)} ms CPU, ${call.wallMsPerCall.toFixed(3)} ms wall`);

  return {
    prismaPerCall,
    concurrency: c,
    deleteBatch: {
      service: serviceDelete,
      peer: peerDelete,
      throughputRatio: serviceDelete.rps / peerDelete.rps,
      targetThroughputRatio: 0.9,
      cpuRatio: cpuOf(serviceDelete, 'serviceMs') / cpuOf(peerDelete, 'serviceMs'),
      targetCpuRatio: 1.2,
    },
    postgresPerDelete: {
      table,
      primaryKeyOnly,
      ratio: cpuOf(table, 'postgresMs') / cpuOf(primaryKeyOnly, 'postgresMs'),
      target: 1.3,
    },
    list: {
      concurrency: settings.readConcurrency,
      service: serviceList,
      peer: peerList,
      serviceToPostgres: cpuOf(serviceList, 'serviceMs') / cpuOf(serviceList, 'postgresMs'),
      peerToPostgres: cpuOf(peerList, 'serviceMs') / cpuOf(peerList, 'postgresMs'),
      target: 2,
    },
    get: { concurrency: settings.readConcurrency, service: serviceGet },
    burst: { connections: burstConnections, durationSec: burstSec, run: burst, peakRssMb: Math.round(burstPeak * 10) / 10, aliveAfter },
  };
}

/**
 * Prisma's own cost per call: the service's hot statements through Prisma ($queryRaw, and the
 * query API where it can say the same) and straight through pg, timed by this process's CPU
 * (process.cpuUsage) over `calls` calls, 8 at a time, after as many unmeasured. The batch delete
 * names 100 ids that do not exist (it runs whole and changes nothing); the list reads 100 events.
 */
async function clientCalls(ctx: CostContext, listEndpoint: string, calls: number): Promise<{ calls: number; runs: ClientCall[] }> {
  const db = createPrismaClient(ctx.databaseUrl, { poolSize: 8 });
  const pool = new pg.Pool({ connectionString: ctx.databaseUrl, max: 8 });
  pool.on('error', () => undefined);
  try {
    const { rows: [key] } = await pool.query<{ id: string; project_id: string }>('SELECT id::text, project_id::text FROM api_keys WHERE key_hash = $1', [ctx.keyHash]);
    const absent = Array.from({ length: IDS }, () => uuidv7());
    const deleteSql = () => batchDeleteSql(listEndpoint, key!.project_id, key!.id, absent);
    const listFilter = { status: 'stored' as const, includeDeleted: false };
    const variants: [string, ClientCall['client'], () => Promise<unknown>][] = [
      ['batch delete (100 ids)', '$queryRaw', () => db.$queryRaw(deleteSql())],
      ['batch delete (100 ids)', 'pg', () => pool.query(deleteSql().text, deleteSql().values)],
      ['API-key look-up', '$queryRaw', () => db.$queryRaw(liveApiKeySql(ctx.keyHash))],
      ['API-key look-up', 'query API', () => db.apiKey.findFirst({ where: { keyHash: ctx.keyHash, revokedAt: null }, select: { id: true, projectId: true } })],
      ['API-key look-up', 'pg', () => pool.query(liveApiKeySql(ctx.keyHash).text, liveApiKeySql(ctx.keyHash).values)],
      ['list page (100 events)', '$queryRaw', () => listEvents(db, { projectId: ctx.projectId, endpointId: listEndpoint }, listFilter, undefined, 101)],
      ['endpoint look-up', '$queryRaw', () => db.$queryRaw`SELECT * FROM pull_endpoints WHERE id = ${listEndpoint}::uuid AND project_id = ${ctx.projectId}::uuid AND deleted_at IS NULL`],
      ['endpoint look-up', 'query API', () => db.pullEndpoint.findFirst({ where: { id: listEndpoint, projectId: ctx.projectId, deletedAt: null } })],
    ];
    const runs: ClientCall[] = [];
    for (const [statement, client, call] of variants) {
      const batch = () => Promise.all(Array.from({ length: 8 }, call));
      for (let i = 0; i < calls / 8; i++) await batch();
      const cpu = process.cpuUsage();
      const started = performance.now();
      for (let i = 0; i < calls / 8; i++) await batch();
      const used = process.cpuUsage(cpu);
      const round = (ms: number) => Math.round(ms * 1000) / 1000;
      runs.push({ statement, client, cpuMsPerCall: round((used.user + used.system) / 1000 / calls), wallMsPerCall: round((performance.now() - started) / calls) });
    }
    return { calls, runs };
  } finally {
    await pool.end();
    await db.$disconnect();
  }
}
