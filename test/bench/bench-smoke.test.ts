import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Measurement } from '../../bench/load';
import type { BenchResults } from '../../bench/report';

// `npm run bench -- --quick` end to end: it runs every section and writes a complete results file.
// The figures themselves are not judged here (the machine running the tests is busy). It takes
// about 130 s on an idle machine; beside the rest of the suite in CI it once took over 240 s, so
// the limit is 480 s: it catches a hang, not a slow machine.

const ROOT = path.resolve(__dirname, '../..');
const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pull-events-bench-smoke-'));
// The bench makes its own database on the tests' server (not inside the tests' database).
const serverUrl = process.env.TEST_ADMIN_DATABASE_URL ?? process.env.DATABASE_URL;

afterAll(() => fs.rmSync(outDir, { recursive: true, force: true }));

function runQuickBench(): Promise<{ code: number | null; pid: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick', '--out', outDir], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: serverUrl },
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, pid: child.pid!, output }));
  });
}


function expectPositive(value: unknown, what: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new Error(`${what} should be a finite positive number, got ${JSON.stringify(value)}`);
  }
}

function expectMeasurement(run: Measurement, what: string): void {
  for (const key of ['concurrency', 'idsPerRequest', 'requests', 'durationSec', 'rps', 'p50Ms', 'p99Ms', 'meanMs'] as const) {
    expectPositive(run[key], `${what}.${key}`);
  }
  expect(run.p99Ms).toBeGreaterThanOrEqual(run.p50Ms);
}

it('runs every section in quick mode and writes results.json and results.svg', async () => {
  const { code, pid, output } = await runQuickBench();
  if (code !== 0) throw new Error(`the bench exited with ${code}:\n${output}`);

  const results = JSON.parse(fs.readFileSync(path.join(outDir, 'results.json'), 'utf8')) as BenchResults;
  expect(results.quick).toBe(true);
  expect(results.settings.concurrencies).toEqual([1, 8]);
  expectPositive(results.machine.cores, 'machine.cores');
  expectPositive(results.machine.memoryGb, 'machine.memoryGb');
  expect(results.machine.node).toBe(process.version);
  expect(results.machine.postgres).toMatch(/^PostgreSQL \d+/);

  const perConcurrency: [string, Measurement[]][] = [
    ['service.runs', results.service.runs],
    ['databaseFloor.runs', results.databaseFloor.runs],
    ['httpFloor.floor', results.httpFloor.floor],
    ['httpFloor.serviceAlreadyDeleted', results.httpFloor.serviceAlreadyDeleted],
    ['ingest.service.manyEndpoints.hmacOff', results.ingest.service.manyEndpoints.hmacOff],
    ['ingest.service.manyEndpoints.hmacOn', results.ingest.service.manyEndpoints.hmacOn],
    ['ingest.service.oneEndpoint.hmacOff', results.ingest.service.oneEndpoint.hmacOff],
    ['ingest.service.oneEndpoint.hmacOn', results.ingest.service.oneEndpoint.hmacOn],
    ['ingest.floor.manyEndpoints', results.ingest.floor.manyEndpoints],
    ['ingest.floor.oneEndpoint', results.ingest.floor.oneEndpoint],
    ['leases.service', results.leases.service],
    ['leases.floor', results.leases.floor],
  ];
  for (const [what, runs] of perConcurrency) {
    expect(runs.map((run) => run.concurrency)).toEqual([1, 8]);
    runs.forEach((run, i) => expectMeasurement(run, `${what}[${i}]`));
  }
  expectMeasurement(results.validation.on, 'validation.on');
  expectMeasurement(results.validation.off, 'validation.off');
  expectMeasurement(results.scaling.oneId, 'scaling.oneId');
  expect(results.scaling.oneId.idsPerRequest).toBe(1);
  expectMeasurement(results.scaling.hundredIds, 'scaling.hundredIds');
  expectMeasurement(results.scaling.smallTable.run, 'scaling.smallTable.run');
  expectMeasurement(results.scaling.bigTable.run, 'scaling.bigTable.run');
  expect(results.scaling.smallTable.rows).toBe(10_000);
  expect(results.scaling.bigTable.rows).toBeGreaterThan(results.scaling.smallTable.rows);
  expect(results.ingest.concurrencies).toEqual([1, 8]);
  expect(results.ingest.endpoints).toBe(16);
  expect(results.ingest.service.oneEndpoint.hmacOff[0]!.idsPerRequest).toBe(1);
  expectMeasurement(results.ingest.hmac.on, 'ingest.hmac.on');
  expectMeasurement(results.ingest.hmac.off, 'ingest.hmac.off');

  // Section 8: every read at 1 and 8 connections, on the quick table, every answer a 200.
  const reads = results.reads;
  expect(reads.rows).toBe(60_000);
  expect(reads.endpoints).toBe(24);
  expect(reads.concurrencies).toEqual([1, 8]);
  expect(Object.keys(reads.operations).sort()).toEqual(
    ['eventsDeepCursor', 'eventsFirstPage', 'metrics1h', 'metrics24h', 'metrics30d', 'metrics7d', 'pullLogs', 'timeseries24h'],
  );
  for (const [key, operation] of Object.entries(reads.operations)) {
    expect(operation.runs.map((run) => run.concurrency)).toEqual([1, 8]);
    operation.runs.forEach((run, i) => {
      expectMeasurement(run, `reads.operations.${key}.runs[${i}]`);
      expect(run.failed).toBe(0);
    });
    expectPositive(operation.responseBytes, `reads.operations.${key}.responseBytes`);
  }
  expect(reads.operations.eventsDeepCursor.request).toContain('cursor=');
  expect(reads.bigEndpoint.liveStored).toBeGreaterThan(reads.bigEndpoint.deepAfter);
  for (const [what, value] of Object.entries({
    'reads.loadSec': reads.loadSec,
    'reads.loadRowsPerSec': reads.loadRowsPerSec,
    'reads.rebuildSec': reads.rebuildSec,
    'reads.vacuumAnalyzeSec': reads.vacuumAnalyzeSec,
    'reads.rollupRows': reads.rollupRows,
    'reads.tableMb': reads.tableMb,
    'reads.rollupMb': reads.rollupMb,
    'reads.deepCursorRatio': reads.deepCursorRatio,
    'reads.mix.stored': reads.mix.stored,
    'reads.mix.fetched': reads.mix.fetched,
    'reads.mix.delivered': reads.mix.delivered,
    'reads.mix.deleted': reads.mix.deleted,
  })) {
    expectPositive(value, what);
  }

  for (const [what, value] of Object.entries({
    'databaseFloor.ratio': results.databaseFloor.ratio,
    'httpFloor.ratio': results.httpFloor.ratio,
    'httpFloor.responseBytes': results.httpFloor.responseBytes,
    'validation.ratioOffOn': results.validation.ratioOffOn,
    'scaling.costRatio': results.scaling.costRatio,
    'scaling.p50Ratio': results.scaling.p50Ratio,
    'memory.peakRssMb': results.memory.peakRssMb,
    'ingest.bodyBytes': results.ingest.bodyBytes,
    'ingest.floorRatio': results.ingest.floorRatio,
    'ingest.oneEndpointFloorRatio': results.ingest.oneEndpointFloorRatio,
    'ingest.oneEndpointRatio': results.ingest.oneEndpointRatio,
    'leases.floorRatio': results.leases.floorRatio,
    'leases.wakeup.sameProcess.fromSend.p50Ms': results.leases.wakeup.sameProcess.fromSend.p50Ms,
    'leases.wakeup.acrossProcesses.fromSend.p50Ms': results.leases.wakeup.acrossProcesses.fromSend.p50Ms,
  })) {
    expectPositive(value, what);
  }
  // Shares of throughput: noise can make them negative on short runs, but they are numbers.
  expect(Number.isFinite(results.validation.costPercent)).toBe(true);
  expect(Number.isFinite(results.ingest.hmac.costPercent)).toBe(true);

  // Section 10: every run of it measured, with the CPU of each side.
  const { cost } = results;
  const withCpu = (run: Measurement, what: string, server: boolean) => {
    expectMeasurement(run, what);
    if (server) expectPositive(run.cpu?.serviceMs, `${what}.cpu.serviceMs`);
    else expect(run.cpu?.serviceMs).toBeNull();
    expectPositive(run.cpu?.postgresMs, `${what}.cpu.postgresMs`);
  };
  withCpu(cost.deleteBatch.service, 'cost.deleteBatch.service', true);
  withCpu(cost.deleteBatch.peer, 'cost.deleteBatch.peer', true);
  withCpu(cost.postgresPerDelete.table, 'cost.postgresPerDelete.table', false);
  withCpu(cost.postgresPerDelete.primaryKeyOnly, 'cost.postgresPerDelete.primaryKeyOnly', false);
  withCpu(cost.list.service, 'cost.list.service', true);
  withCpu(cost.list.peer, 'cost.list.peer', true);
  withCpu(cost.get.service, 'cost.get.service', true);
  withCpu(cost.burst.run, 'cost.burst.run', true);
  expect(cost.burst.connections).toBe(256);
  expect(cost.burst.aliveAfter).toBe(true);
  expectPositive(cost.burst.peakRssMb, 'cost.burst.peakRssMb');
  expect(cost.prismaPerCall.runs.map((run) => run.client)).toEqual(['$queryRaw', 'pg', '$queryRaw', 'query API', 'pg', '$queryRaw', '$queryRaw', 'query API']);
  cost.prismaPerCall.runs.forEach((run, i) => expectPositive(run.cpuMsPerCall, `cost.prismaPerCall.runs[${i}].cpuMsPerCall`));
  // Every other section's service runs carry their CPU too.
  results.service.runs.forEach((run, i) => expectPositive(run.cpu?.serviceMs, `service.runs[${i}].cpu.serviceMs`));

  expect(results.targets).toHaveLength(20);
  // The reads' targets hold on 6M rows: N/A on the quick table.
  expect(results.targets.slice(10, 14).map((target) => target.verdict)).toEqual(['N/A', 'N/A', 'N/A', 'N/A']);
  for (const target of results.targets) {
    expect(['PASS', 'MISS', 'N/A', 'INFO']).toContain(target.verdict);
    expect(Number.isFinite(target.measured)).toBe(true);
  }

  const svg = fs.readFileSync(path.join(outDir, 'results.svg'), 'utf8');
  expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
  expect(svg).not.toContain('NaN');

  // The bench dropped its database.
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = ANY($1)', [[`pull_events_bench_${pid}`, `pull_events_bench_${pid}_reads`]]);
    expect(rowCount).toBe(0);
  } finally {
    await client.end();
  }
}, 480_000);
