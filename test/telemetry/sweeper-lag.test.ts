import pg from 'pg';
import { migrate } from '../../src/db/migrate';
import { createPrismaClient, poolOf, type Database } from '../../src/db/prisma';
import { oldestUnerasedPayloadSql } from '../../src/sweeper/repository';
import { createTelemetry, type Telemetry } from '../../src/telemetry/registry';
import { adminQuery, withDatabase } from '../support/database';
import { parsePrometheusText } from '../support/prometheus-text';

// A database of this file's own: the gauge reads every endpoint, and the other files' sweeps
// would erase what this one leaves to be measured.
const adminUrl = () => process.env.TEST_ADMIN_DATABASE_URL!;
const name = `pull_events_lag_${process.pid}_${Date.now()}`;
let url: string;
let client: pg.Client;
const opened: Database[] = [];

const PROJECT = '00000000-0000-7000-8000-000000000001';
const ENDPOINTS = 40;

beforeAll(async () => {
  await adminQuery(adminUrl(), `CREATE DATABASE ${name}`);
  url = withDatabase(adminUrl(), name);
  await migrate(url);
  client = new pg.Client({ connectionString: url });
  await client.connect();
  // 40 endpoints (one deleted) of 3,000 events each: a third erased long ago, a third deleted
  // between 1 and 3,000 s ago and not yet erased, a third live.
  await client.query(`INSERT INTO projects (id, name) VALUES ($1, 'lag')`, [PROJECT]);
  await client.query(
    `INSERT INTO pull_endpoints (id, project_id, secret_token_hash, deleted_at)
     SELECT ('00000000-0000-7000-9000-' || lpad(e::text, 12, '0'))::uuid, $1, lpad(e::text, 64, '0'),
            CASE WHEN e = 1 THEN now() - interval '2 hours' END
     FROM generate_series(1, ${ENDPOINTS}) e`,
    [PROJECT],
  );
  await client.query(`INSERT INTO pull_events (pull_endpoint_id, id, payload, deleted_at, payload_erased_at)
    SELECT p.id, gen_random_uuid(), '\\x7b7d',
           CASE n % 3 WHEN 0 THEN now() - make_interval(secs => n) WHEN 1 THEN now() - interval '9 days' END,
           CASE n % 3 WHEN 1 THEN now() - interval '8 days' END
    FROM pull_endpoints p, generate_series(1, 3000) n`);
  await client.query('ANALYZE');
}, 120_000);

afterAll(async () => {
  await Promise.all(opened.map((db) => db.$disconnect()));
  await client?.end();
  await adminQuery(adminUrl(), `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
});

function open(options: Parameters<typeof createPrismaClient>[1] = {}, at = url): Database {
  const db = createPrismaClient(at, options);
  opened.push(db);
  return db;
}

async function read(telemetry: Telemetry) {
  const families = parsePrometheusText(await telemetry.registry.metrics());
  const value = (metric: string) => families.get(metric)?.samples[0]?.value;
  return { lag: value('pull_events_sweeper_oldest_unerased_payload_age_seconds')!, errors: value('pull_events_metrics_collect_errors_total')! };
}

interface PlanNode { 'Node Type': string; 'Relation Name'?: string; 'Index Name'?: string; Plans?: PlanNode[] }
const nodesOf = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodesOf)];

it('reads one entry of the sweep index per endpoint: no scan of pull_events and no sort of its backlog', async () => {
  const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) ${oldestUnerasedPayloadSql.text}`);
  const nodes = nodesOf(rows[0]!['QUERY PLAN'][0].Plan);
  const onEvents = nodes.filter((node) => node['Relation Name'] === 'pull_events');
  expect(onEvents.map((node) => [node['Node Type'], node['Index Name']])).toEqual([
    ['Index Only Scan', 'pull_events_sweep_idx'],
    ['Index Only Scan', 'pull_events_sweep_idx'],
  ]);
  expect(nodes.filter((node) => node['Node Type'] === 'Sort')).toEqual([]);
});

it("is the age of the deleted endpoint's unerased payloads, the oldest awaiting erasure", async () => {
  // A first statement on a new client can take most of a second under load: not what this checks.
  const { lag, errors } = await read(createTelemetry(open(), { sweeperLag: { timeoutMs: 10_000 } }));
  expect(lag).toBeGreaterThanOrEqual(7200);
  expect(lag).toBeLessThan(7200 + 60);
  expect(errors).toBe(0);
});

it('reads the database once for a burst of scrapes within the cache period', async () => {
  const statements: string[] = [];
  const telemetry = createTelemetry(open({ onQuery: (sql) => statements.push(sql) }));
  await Promise.all([read(telemetry), read(telemetry), read(telemetry)]);
  await read(telemetry);
  expect(statements.filter((sql) => sql.includes('payload_erased_at'))).toHaveLength(1);
});

// A scrape gathers every metric at once: a miss counts from the next scrape on.
it('answers at once with the last value, counting a miss, while the database is slower than the timeout', async () => {
  const db = open({ poolSize: 1 });
  await db.$queryRaw`SELECT 1`; // connected, so that only the held connection can make a read late
  const telemetry = createTelemetry(db, { sweeperLag: { cacheMs: 0, timeoutMs: 500 } });
  await read(telemetry);
  const before = await read(telemetry);

  const held = await poolOf(db)!.connect();
  const started = performance.now();
  const during = await read(telemetry);
  const waited = performance.now() - started;
  held.release();
  const after = await read(telemetry);

  expect(waited).toBeLessThan(2000);
  expect(during.lag).toBe(before.lag);
  expect(after.errors - before.errors).toBe(1);
});

it('still answers the scrape, counting a miss, when the database cannot be reached', async () => {
  const telemetry = createTelemetry(open({}, 'postgresql://postgres@127.0.0.1:1/unreachable'));
  expect(await read(telemetry)).toEqual({ lag: 0, errors: 0 });
  expect(await read(telemetry)).toEqual({ lag: 0, errors: 1 });
});
