import pg from 'pg';
import { migrate } from '../../src/db/migrate';
import { receiveSql } from '../../src/pull-events/leases-repository';
import { adminQuery, withDatabase } from '../support/database';

// A queue's head fills with delivered events. With statistics taken while nine in ten events
// were `stored` (before autovacuum analyzes again), a receive must still read its `stored`
// candidates from an index that holds only those, not walk the primary key past every delivered
// event (577 ms behind 150,000 of them, against under 1 ms). Without pull_events_stored_idx this
// plan walks the primary key. Checked in a database of its own, whose statistics the test sets.
const adminUrl = () => process.env.TEST_ADMIN_DATABASE_URL!;
const name = `pull_events_plan_${process.pid}_${Date.now()}`;
let client: pg.Client;

beforeAll(async () => {
  await adminQuery(adminUrl(), `CREATE DATABASE ${name}`);
  const url = withDatabase(adminUrl(), name);
  await migrate(url);
  client = new pg.Client({ connectionString: url });
  await client.connect();
}, 60_000);

afterAll(async () => {
  await client?.end();
  await adminQuery(adminUrl(), `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
});

const PROJECT = '00000000-0000-7000-8000-000000000001';
const endpointId = (n: number) => `00000000-0000-7000-9000-00000000000${n}`;
const eventId = (n: number) => `00000000-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;

interface PlanNode { 'Node Type': string; 'Index Name'?: string; 'Subplan Name'?: string; Plans?: PlanNode[] }

/** The indexes scanned under the plan node of the CTE `name`. */
function indexesOf(plan: PlanNode, cte: string): string[] {
  const under = (node: PlanNode): string[] => [...(node['Index Name'] ? [node['Index Name']] : []), ...(node.Plans ?? []).flatMap(under)];
  const find = (node: PlanNode): PlanNode | undefined =>
    node['Subplan Name'] === `CTE ${cte}` ? node : (node.Plans ?? []).map(find).find(Boolean);
  const found = find(plan);
  if (!found) throw new Error(`no CTE ${cte} in the plan`);
  return under(found);
}

it('reads stored candidates from the partial stored index when 45,000 delivered events head the queue', async () => {
  await client.query(`INSERT INTO projects (id, name) VALUES ($1, 'plan')`, [PROJECT]);
  await client.query(`INSERT INTO pull_endpoints (id, project_id, secret_token_hash)
    SELECT ('00000000-0000-7000-9000-00000000000' || e)::uuid, $1, lpad(e::text, 64, '0') FROM generate_series(1, 4) e`, [PROJECT]);
  await client.query(`INSERT INTO pull_events (pull_endpoint_id, id, payload, size_bytes)
    SELECT ('00000000-0000-7000-9000-00000000000' || e)::uuid, ('00000000-0000-7000-8000-' || lpad(to_hex(n), 12, '0'))::uuid, '\\x7b7d', 2
    FROM generate_series(1, 4) e, generate_series(1, 50000) n`);
  // Statistics from when nine in ten events were stored; then endpoint 1 delivers most of its queue.
  await client.query(`UPDATE pull_events SET status = 'delivered', fetched_at = now(), delivered_at = now()
    WHERE pull_endpoint_id <> $1 AND id < $2`, [endpointId(1), eventId(6_667)]);
  await client.query('ANALYZE pull_events');
  await client.query(`UPDATE pull_events SET status = 'delivered', fetched_at = now(), delivered_at = now()
    WHERE pull_endpoint_id = $1 AND id < $2`, [endpointId(1), eventId(45_000)]);

  const sql = receiveSql({ endpointId: endpointId(1), projectId: PROJECT, maxEvents: 100, leaseSeconds: 30 });
  const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) ${sql.text}`, sql.values);
  const plan = rows[0]!['QUERY PLAN'][0].Plan;
  expect(indexesOf(plan, 'fresh')).toEqual(['pull_events_stored_idx']);
  expect(indexesOf(plan, 'again')).toEqual(['pull_events_receivable_idx']);

  // And the receive answers the 100 oldest stored events.
  const leased = await client.query<{ id: string }>(sql.text, sql.values);
  expect(leased.rows.map((row) => row.id)).toEqual(Array.from({ length: 100 }, (_, i) => eventId(45_000 + i)));
}, 60_000);
