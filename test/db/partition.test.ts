import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { MIGRATIONS_DIR, migrate, readMigrations } from '../../src/db/migrate';
import { partitionName, partitionPullEvents } from '../../src/db/partition';
import { createPrismaClient } from '../../src/db/prisma';
import { leaseOperationSql, receiveSql } from '../../src/pull-events/leases-repository';
import { batchDeleteSql } from '../../src/pull-events/repository';
import { jsonError, runCli } from '../cli/run';
import { adminQuery, withDatabase } from '../support/database';
import { buildEndpointWithToken, buildEvents, buildProject, randomId, type TestProject } from '../support/factories';
import { startTestServer, type TestServer } from '../support/server';
import { postWebhook } from '../support/webhooks';

const adminUrl = () => process.env.TEST_ADMIN_DATABASE_URL!;
const PARTITIONS = 16;
const NAMES = Array.from({ length: PARTITIONS }, (_, i) => partitionName(i, PARTITIONS));
const created: string[] = [];
const clients: pg.Client[] = [];

async function scratch(label: string): Promise<{ url: string; client: pg.Client }> {
  const name = `pull_events_partition_${label}_${process.pid}_${Date.now()}`;
  await adminQuery(adminUrl(), `CREATE DATABASE ${name}`);
  created.push(name);
  const url = withDatabase(adminUrl(), name);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  clients.push(client);
  return { url, client };
}

afterAll(async () => {
  await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
  for (const name of created) await adminQuery(adminUrl(), `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
});

async function rows<T = Record<string, unknown>>(client: pg.Client, sql: string, values: unknown[] = []): Promise<T[]> {
  return (await client.query(sql, values)).rows as T[];
}

/** pull_events as the service sees it: its columns, indexes and constraints, wherever they are stored. */
async function layout(client: pg.Client) {
  return {
    columns: await rows(client, `
      SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull, pg_get_expr(d.adbin, d.adrelid) AS "default",
             a.attcollation::regcollation::text AS collation
      FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = 'pull_events'::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`),
    // A partitioned parent's index reads "ON ONLY pull_events": the statement that made it did not say ONLY.
    indexes: await rows(client, `
      SELECT ic.relname AS name, replace(pg_get_indexdef(i.indexrelid), ' ON ONLY ', ' ON ') AS def, i.indisvalid AS valid
      FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = 'pull_events'::regclass ORDER BY 1`),
    constraints: await rows(client, `
      SELECT conname AS name, conrelid::regclass::text AS "table", pg_get_constraintdef(oid) AS def, convalidated AS validated
      FROM pg_constraint WHERE (conrelid = 'pull_events'::regclass OR confrelid = 'pull_events'::regclass) AND conparentid = 0
      ORDER BY 1`),
  };
}

/** Every row, every column, as PostgreSQL prints it (bytea in hex, timestamps to the microsecond). */
const allRows = (client: pg.Client) => rows<{ e: string }>(client, 'SELECT e::text AS e FROM pull_events e ORDER BY pull_endpoint_id, id');

async function partitioning(client: pg.Client) {
  const [table] = await rows<{ relkind: string; key: string | null }>(
    client,
    "SELECT relkind::text AS relkind, pg_get_partkeydef(oid) AS key FROM pg_class WHERE oid = 'pull_events'::regclass",
  );
  const partitions = await rows<{ name: string; bound: string }>(client, `
    SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
    FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid WHERE h.inhparent = 'pull_events'::regclass ORDER BY 1`);
  // For each index and foreign key of the parent: the partitions that carry it.
  const indexes = await rows<{ name: string; on: string[]; valid: boolean }>(client, `
    SELECT pi.relname AS name, array_agg(part.relname::text ORDER BY part.relname) AS on, bool_and(ci.indisvalid) AS valid
    FROM pg_index i JOIN pg_class pi ON pi.oid = i.indexrelid
    JOIN pg_inherits h ON h.inhparent = i.indexrelid JOIN pg_index ci ON ci.indexrelid = h.inhrelid JOIN pg_class part ON part.oid = ci.indrelid
    WHERE i.indrelid = 'pull_events'::regclass GROUP BY 1 ORDER BY 1`);
  const foreignKeys = await rows<{ name: string; on: string[] }>(client, `
    SELECT c.conname AS name, array_agg(cc.conrelid::regclass::text ORDER BY cc.conrelid::regclass::text) AS on
    FROM pg_constraint c JOIN pg_constraint cc ON cc.conparentid = c.oid
    WHERE c.conrelid = 'pull_events'::regclass AND c.contype = 'f' GROUP BY 1 ORDER BY 1`);
  return { ...table, partitions, indexes, foreignKeys };
}

/** What a table hash-partitioned into 16, every index and foreign key on every partition, looks like. */
function expectSixteenPartitions(parts: Awaited<ReturnType<typeof partitioning>>, reference: Awaited<ReturnType<typeof layout>>) {
  expect(parts.relkind).toBe('p');
  expect(parts.key).toBe('HASH (pull_endpoint_id)');
  expect(parts.partitions).toEqual(NAMES.map((name, i) => ({ name, bound: `FOR VALUES WITH (modulus ${PARTITIONS}, remainder ${i})` })));
  expect(parts.indexes).toEqual(reference.indexes.map((index) => ({ name: index.name, on: NAMES, valid: true })));
  const foreignKeys = reference.constraints.filter((c) => String(c.def).startsWith('FOREIGN KEY'));
  expect(parts.foreignKeys).toEqual(foreignKeys.map((fk) => ({ name: fk.name, on: NAMES })));
}

/** The partition an endpoint's events hash to, computed without reading the table. */
async function partitionOf(client: pg.Client, endpointId: string): Promise<string> {
  const [row] = await rows<{ r: number }>(
    client,
    `SELECT r FROM generate_series(0, ${PARTITIONS - 1}) r WHERE satisfies_hash_partition('pull_events'::regclass, ${PARTITIONS}, r, $1::uuid)`,
    [endpointId],
  );
  return NAMES[row!.r]!;
}

let reference: Awaited<ReturnType<typeof layout>>;
let plain: pg.Client;
let url: string;
let client: pg.Client;
let live: TestServer;
let owner: TestProject;
const endpoints: { id: string; token: string; ingestPath: string }[] = [];

beforeAll(async () => {
  let plainUrl: string;
  ({ url: plainUrl, client: plain } = await scratch('plain'));
  await migrate(plainUrl);
  reference = await layout(plain);

  ({ url, client } = await scratch('events'));
  await migrate(url);
  // Events as the service makes them, through a server that keeps running while the table is swapped.
  live = await startTestServer({ db: createPrismaClient(url, { poolSize: 4 }) });
  owner = await buildProject(live.db, 'partitioning');
  for (let i = 0; i < 6; i++) endpoints.push(await buildEndpointWithToken(live.db, owner.projectId));
  for (const endpoint of endpoints) await buildEvents(live.db, endpoint.id, 40);
  const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  for (const body of ['{"amount": 12.50, "note": "zürich ✓"}', binary, Buffer.alloc(300_000, 'x'), '']) {
    const answer = await postWebhook(live.baseUrl, endpoints[0]!.ingestPath, body, { 'content-type': typeof body === 'string' ? 'application/json' : 'application/octet-stream' });
    expect(answer.status).toBe(202);
  }
  const api = live.client(owner.apiKey);
  const on = { params: { path: { id: endpoints[0]!.id } } };
  const leased = await api.POST('/v1/pull-endpoints/{id}/events/receive', { ...on, body: { max_events: 5, lease_seconds: 300 } });
  expect(leased.data?.data.events).toHaveLength(5);
  const [first, second] = (await api.GET('/v1/pull-endpoints/{id}/events', { params: { ...on.params, query: { status: 'stored', limit: 2 } } })).data!.data;
  const deleted = await api.POST('/v1/pull-endpoints/{id}/events/delete-batch', { ...on, body: { message_ids: [first!.id, second!.id] } });
  expect(deleted.data?.data.deleted_count).toBe(2);
  await client.query(`UPDATE pull_events SET payload = NULL, headers = '{}', payload_erased_at = now() WHERE id = $1`, [first!.id]);
}, 120_000);

// The pruning test closes it earlier; closing it again is harmless.
afterAll(async () => {
  await live?.close().catch(() => undefined);
  await live?.db.$disconnect();
});

/** The storage parameters of the partitions, each once (every partition has them all). */
async function partitionStorage(db: pg.Client) {
  return rows(db, `
    SELECT reloptions AS options, count(*)::int AS partitions FROM pg_class
    WHERE relname ~ '^pull_events_p[0-9]+$' AND relkind = 'r' GROUP BY 1`);
}

describe('an already-migrated database with events', () => {
  it('moves every event byte for byte into 16 hash partitions with every column, index and constraint of the plain table', async () => {
    const before = await allRows(client);
    const history = await rows(client, 'SELECT * FROM _prisma_migrations ORDER BY migration_name');
    expect(before.length).toBeGreaterThan(240);
    expect(await layout(client)).toEqual(reference);

    expect(await partitionPullEvents(url, PARTITIONS)).toEqual({ moved: before.length, partitions: PARTITIONS, alreadyPartitioned: false });

    expect(await allRows(client)).toEqual(before);
    expect(await layout(client)).toEqual(reference);
    expectSixteenPartitions(await partitioning(client), reference);
    // The plain table's fillfactor (a migration's) is each partition's.
    expect(await partitionStorage(client)).toEqual([{ options: ['fillfactor=85'], partitions: PARTITIONS }]);
    // Each endpoint's events sit in the one partition its id hashes to.
    const placed = await rows<{ endpoint: string; partitions: string[] }>(client, `
      SELECT pull_endpoint_id::text AS endpoint, array_agg(DISTINCT tableoid::regclass::text) AS partitions FROM pull_events GROUP BY 1`);
    for (const { endpoint, partitions } of placed) expect(partitions).toEqual([await partitionOf(client, endpoint)]);
    expect(await rows(client, 'SELECT * FROM _prisma_migrations ORDER BY migration_name')).toEqual(history);
  });

  it('does nothing when the table is partitioned already', async () => {
    const [before] = await rows(client, "SELECT 'pull_events'::regclass::oid AS oid");
    expect(await partitionPullEvents(url, PARTITIONS)).toEqual({ moved: 0, partitions: PARTITIONS, alreadyPartitioned: true });
    expect(await partitionPullEvents(url, 4)).toEqual({ moved: 0, partitions: PARTITIONS, alreadyPartitioned: true });
    expect(await rows(client, "SELECT 'pull_events'::regclass::oid AS oid")).toEqual([before]);
  });

  it('keeps serving on the connections opened before the swap: ingest, receive, ack and delete-batch', async () => {
    const endpoint = endpoints[1]!;
    const on = { params: { path: { id: endpoint.id } } };
    const api = live.client(owner.apiKey);
    const stored = await postWebhook(live.baseUrl, endpoint.ingestPath, '{"after": "partitioning"}');
    expect(stored.status).toBe(202);
    const received = await api.POST('/v1/pull-endpoints/{id}/events/receive', { ...on, body: { max_events: 3, lease_seconds: 60 } });
    expect(received.data?.data.events).toHaveLength(3);
    const acked = await api.POST('/v1/pull-endpoints/{id}/events/leases/ack', { ...on, body: { lease_ids: received.data!.data.events.map((e) => e.lease_id) } });
    expect(acked.data?.data.results.map((r) => r.outcome)).toEqual(['acked', 'acked', 'acked']);
    const missing = randomId();
    const deleted = await api.POST('/v1/pull-endpoints/{id}/events/delete-batch', { ...on, body: { message_ids: [stored.body.data.event_id, missing] } });
    expect(deleted.data?.data).toMatchObject({ deleted_count: 1, not_found_count: 1 });
    const [row] = await rows(client, 'SELECT tableoid::regclass::text AS partition, deleted_at IS NOT NULL AS deleted FROM pull_events WHERE pull_endpoint_id = $1 AND id = $2', [
      endpoint.id,
      stored.body.data.event_id,
    ]);
    expect(row).toEqual({ partition: await partitionOf(client, endpoint.id), deleted: true });
  });
});

/** Scans and row writes per partition, as the statistics collector has them. */
async function partitionActivity(client: pg.Client): Promise<Record<string, number>> {
  await client.query('SELECT pg_stat_clear_snapshot()');
  const counts = await rows<{ name: string; n: string }>(client, `
    SELECT relname AS name, coalesce(seq_scan, 0) + coalesce(idx_scan, 0) + n_tup_ins + n_tup_upd + n_tup_del AS n
    FROM pg_stat_user_tables WHERE relname = ANY($1::text[])`, [NAMES]);
  return Object.fromEntries(counts.map((row) => [row.name, Number(row.n)]));
}

/** Waits (bounded) until this database has no client backend but `client`'s: they flush their statistics as they exit. */
async function untilAlone(client: pg.Client): Promise<void> {
  for (const deadline = Date.now() + 15_000; ; ) {
    const [row] = await rows<{ n: number }>(client, `
      SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()`);
    if (row!.n === 0) return;
    if (Date.now() > deadline) throw new Error(`${row!.n} connections to the test database stayed open`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('on the partitioned table', () => {
  it("touches only the endpoint's partition for every request on it, each statement's scans and writes counted", async () => {
    await live.close();
    await live.db.$disconnect();
    // This connection's own reads of the table are flushed now, not in the middle of the window.
    await client.query('SELECT pg_stat_force_next_flush()');
    await untilAlone(client);
    const before = await partitionActivity(client);

    const server = await startTestServer({ db: createPrismaClient(url, { poolSize: 2 }) });
    try {
      // A project of one endpoint: its event log reads that endpoint alone.
      const project = await buildProject(server.db, 'one endpoint');
      const endpoint = await buildEndpointWithToken(server.db, project.projectId, { max_deliveries: 1, idempotency_header_names: ['Idempotency-Key'] });
      const api = server.client(project.apiKey);
      const on = { params: { path: { id: endpoint.id } } };
      const ok = <T extends { response: Response }>(result: T) => {
        expect(result.response.status).toBeLessThan(300);
        return result;
      };
      const ids: string[] = [];
      for (let i = 0; i < 8; i++) ids.push((await postWebhook(server.baseUrl, endpoint.ingestPath, `{"n": ${i}}`, { 'idempotency-key': `k${i}` })).body.data.event_id);
      ok(await api.GET('/v1/pull-endpoints/{id}/events', { params: { ...on.params, query: { status: 'stored' } } }));
      ok(await api.GET('/v1/pull-endpoints/{id}/events/{event_id}', { params: { path: { id: endpoint.id, event_id: ids[0]! } } }));
      // The raw payload is the body as sent, which the typed client's contract check does not take.
      const payload = await fetch(`${server.baseUrl}/v1/pull-endpoints/${endpoint.id}/events/${ids[0]}/payload`, { headers: { authorization: `Bearer ${project.apiKey}` } });
      expect(await payload.text()).toBe('{"n": 0}');
      ok(await api.POST('/v1/pull-endpoints/{id}/events/ack', { ...on, body: { event_ids: [ids[0]!] } }));
      const leased = ok(await api.POST('/v1/pull-endpoints/{id}/events/receive', { ...on, body: { max_events: 4, lease_seconds: 60 } })).data!.data.events;
      const leases = leased.map((event) => event.lease_id);
      ok(await api.POST('/v1/pull-endpoints/{id}/events/leases/extend', { ...on, body: { lease_ids: leases, lease_seconds: 120 } }));
      ok(await api.POST('/v1/pull-endpoints/{id}/events/leases/ack', { ...on, body: { lease_ids: leases.slice(0, 2) } }));
      ok(await api.POST('/v1/pull-endpoints/{id}/events/leases/release', { ...on, body: { lease_ids: leases.slice(2) } }));
      // The released events reached max_deliveries: this receive dead-letters them.
      ok(await api.POST('/v1/pull-endpoints/{id}/events/receive', { ...on, body: { max_events: 10, lease_seconds: 60 } }));
      ok(await api.POST('/v1/pull-endpoints/{id}/events/redrive', { ...on, body: { all: true } }));
      ok(await api.POST('/v1/pull-endpoints/{id}/events/replay', { ...on, body: {} }));
      ok(await api.POST('/v1/pull-endpoints/{id}/events/delete-batch', { ...on, body: { message_ids: [ids[5]!, randomId()] } }));
      ok(await api.POST('/v1/pull-endpoints/{id}/events/delete-all', { params: { ...on.params, query: { status: 'stored', limit: 1 } } }));
      // Nothing receivable is left held: the long poll reads when the next lease ends, then waits.
      ok(await api.POST('/v1/pull-endpoints/{id}/events/receive', { ...on, body: { max_events: 10, wait_seconds: 1 } }));
      ok(await api.GET('/v1/pull-endpoints/{id}', on));
      ok(await api.GET('/v1/pull-logs', { params: { query: { limit: 50 } } }));
      ok(await api.GET('/v1/pull-logs', { params: { query: { pull_endpoint_id: endpoint.id } } }));
      expect((await postWebhook(server.baseUrl, endpoint.ingestPath, '{"n": 0}', { 'idempotency-key': 'k0' })).body.data.duplicate).toBe(true);

      await server.close();
      await server.db.$disconnect();
      await untilAlone(client);
      const after = await partitionActivity(client);
      const own = await partitionOf(client, endpoint.id);
      const touched = NAMES.filter((name) => after[name] !== before[name]);
      expect(touched).toEqual([own]);
    } finally {
      await server.close().catch(() => undefined);
      await server.db.$disconnect();
    }
  }, 60_000);

  interface PlanNode { 'Node Type'?: string; 'Relation Name'?: string; Plans?: PlanNode[]; 'Target Tables'?: PlanNode[] }
  const nodesOf = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodesOf)];
  const isPartition = (node: PlanNode) => /^pull_events_p\d+$/.test(node['Relation Name'] ?? '');
  const names = (nodes: PlanNode[]) => [...new Set(nodes.map((node) => node['Relation Name']))].sort();

  /**
   * The partitions a statement's plan scans, those it would scan sequentially though an index
   * could serve (sequential scans are off), and those it may write, with its parameters bound (a
   * custom plan, pruned by the planner) or as a generic plan (pruned as the executor starts, as for
   * a statement prepared once and run many times).
   */
  async function planned(sql: { text: string; values: unknown[] }, generic: boolean) {
    await client.query('BEGIN');
    try {
      await client.query('SET LOCAL enable_seqscan = off');
      let result: pg.QueryResult<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>;
      if (generic) {
        await client.query('SET LOCAL plan_cache_mode = force_generic_plan');
        await client.query(`PREPARE planned AS ${sql.text}`);
        // EXPLAIN EXECUTE takes its arguments as literals, not as parameters of its own.
        const literal = (value: unknown) =>
          value === null ? 'NULL' : client.escapeLiteral(Array.isArray(value) ? `{${value.map((v) => `"${String(v)}"`).join(',')}}` : String(value));
        result = await client.query(`EXPLAIN (FORMAT JSON) EXECUTE planned(${sql.values.map(literal).join(', ')})`);
      } else {
        result = await client.query(`EXPLAIN (FORMAT JSON) ${sql.text}`, sql.values);
      }
      const nodes = nodesOf(result.rows[0]!['QUERY PLAN'][0].Plan);
      const scans = nodes.filter((node) => isPartition(node) && node['Node Type']?.includes('Scan'));
      return {
        scanned: names(scans),
        seqScans: names(scans.filter((node) => node['Node Type'] === 'Seq Scan')),
        targets: names(nodes.flatMap((node) => node['Target Tables'] ?? []).filter(isPartition)),
      };
    } finally {
      await client.query('ROLLBACK');
      await client.query('DEALLOCATE ALL');
    }
  }

  it("plans the service's statements on the endpoint's partition alone, through its indexes, custom or generic", async () => {
    const endpointId = endpoints[2]!.id;
    const own = await partitionOf(client, endpointId);
    const [event] = await rows<{ id: string }>(client, 'SELECT id::text AS id FROM pull_events WHERE pull_endpoint_id = $1 ORDER BY id LIMIT 1', [endpointId]);
    const statements = {
      receive: receiveSql({ endpointId, projectId: owner.projectId, maxEvents: 10, leaseSeconds: 30 }),
      receiveOfType: receiveSql({ endpointId, projectId: owner.projectId, maxEvents: 10, leaseSeconds: 30, eventType: 'order.paid' }),
      deleteBatch: batchDeleteSql(endpointId, owner.projectId, owner.apiKeyId, [event!.id, randomId()]),
      leaseAck: leaseOperationSql(endpointId, owner.projectId, [{ eventId: event!.id, leaseId: randomId() }], { kind: 'ack' }),
      leaseRelease: leaseOperationSql(endpointId, owner.projectId, [{ eventId: event!.id, leaseId: randomId() }], { kind: 'release', delaySeconds: 5 }),
    };
    for (const [name, sql] of Object.entries(statements)) {
      // Each of them updates events.
      expect({ name, ...(await planned(sql, false)) }).toEqual({ name, scanned: [own], seqScans: [], targets: [own] });
      // A generic plan scans the one partition too. Before PostgreSQL 18 it still opens and locks
      // every partition an UPDATE could write: a cost of generic plans only. The service's
      // statements are unnamed, planned with their parameters every time, as above.
      const generic = await planned(sql, true);
      expect({ name, scanned: generic.scanned, seqScans: generic.seqScans }).toEqual({ name, scanned: [own], seqScans: [] });
    }
  });
});

describe('later migrations', () => {
  it('apply to a table partitioned right after the first one, which then has the layout of a table never partitioned', async () => {
    const { url: earlyUrl, client: early } = await scratch('early');
    const [init, ...later] = readMigrations();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrations-'));
    try {
      fs.cpSync(path.join(MIGRATIONS_DIR, init!.name), path.join(dir, init!.name), { recursive: true });
      await migrate(earlyUrl, dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    // Events as the first release stored them: JSON kept as jsonb.
    await early.query(`INSERT INTO projects (id, name) VALUES ('00000000-0000-7000-8000-000000000001', 'early')`);
    await early.query(`INSERT INTO pull_endpoints (id, project_id, name)
      SELECT ('00000000-0000-7000-9000-' || lpad(e::text, 12, '0'))::uuid, '00000000-0000-7000-8000-000000000001', 'e' || e FROM generate_series(1, 20) e`);
    await early.query(`INSERT INTO pull_events (pull_endpoint_id, id, event_type, payload)
      SELECT p.id, gen_random_uuid(), 'order.created', jsonb_build_object('n', n) FROM pull_endpoints p, generate_series(1, 10) n`);

    expect(await partitionPullEvents(earlyUrl, PARTITIONS)).toMatchObject({ moved: 200, alreadyPartitioned: false });
    expect(await migrate(earlyUrl)).toEqual(later.map((m) => m.name));

    expect(await layout(early)).toEqual(reference);
    expectSixteenPartitions(await partitioning(early), reference);
    // Set by a migration that ran on the partitioned table.
    expect(await partitionStorage(early)).toEqual([{ options: ['fillfactor=85'], partitions: PARTITIONS }]);
    expect(await rows(early, `SELECT count(*)::int AS n, count(*) FILTER (WHERE payload = convert_to(jsonb_build_object('n', 1)::text, 'UTF8'))::int AS first FROM pull_events`)).toEqual([
      { n: 200, first: 20 },
    ]);
  }, 60_000);
});

describe('pull-events db partition-events', () => {
  it('migrates, partitions, and refuses to change the number of partitions afterwards', async () => {
    const { url: cliUrl, client: cli } = await scratch('cli');
    const first = await runCli(['db', 'partition-events', '--partitions', '4', '--json'], { DATABASE_URL: cliUrl });
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(first.stdout)).toEqual({ moved: 0, partitions: 4, already_partitioned: false });
    expect(await rows(cli, "SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = 'pull_events'::regclass")).toEqual([{ n: 4 }]);

    const again = await runCli(['db', 'partition-events', '--json'], { DATABASE_URL: cliUrl });
    expect(again.code).toBe(1);
    expect(jsonError(again).error).toEqual({ code: 'INVALID_REQUEST', message: 'pull_events has 4 partitions already; changing the number of partitions is not supported' });
  }, 60_000);
});

describe('a table partitioning cannot carry over as it stands', () => {
  it('is refused whole, and left as it was', async () => {
    // A unique index without the partition key, which a partitioned table cannot have.
    await plain.query('CREATE UNIQUE INDEX pull_events_id_key ON pull_events (id)');
    const before = await layout(plain);
    const plainUrl = withDatabase(adminUrl(), plain.database!);
    await expect(partitionPullEvents(plainUrl, PARTITIONS)).rejects.toThrow(/must include all partitioning columns/);
    await plain.query('DROP INDEX pull_events_id_key');
    await plain.query('ALTER TABLE pull_events ENABLE ROW LEVEL SECURITY');
    await expect(partitionPullEvents(plainUrl, PARTITIONS)).rejects.toThrow('pull_events has row-level security, which partitioning would not carry over; nothing was changed');

    await plain.query('ALTER TABLE pull_events DISABLE ROW LEVEL SECURITY');
    await plain.query('CREATE UNIQUE INDEX pull_events_id_key ON pull_events (id)');
    expect(await layout(plain)).toEqual(before);
    expect(await partitioning(plain)).toMatchObject({ relkind: 'r', partitions: [] });
    expect(await rows(plain, "SELECT count(*)::int AS n FROM pg_class WHERE relname ~ '^pull_events_p[0-9]+$' OR relname = 'pull_events_partitioning'")).toEqual([{ n: 0 }]);
  });

  it('is refused when partitioning is asked for an impossible number of partitions', async () => {
    await expect(partitionPullEvents(url, 0)).rejects.toThrow('partitions must be an integer from 1 to 1024, not 0');
  });
});
