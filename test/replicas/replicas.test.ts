import pg from 'pg';
import { createPullEventsClient, type PullEventsClient } from '../../src/client';
import { createPrismaClient, type Database } from '../../src/db/prisma';
import { readMigrations } from '../../src/db/migrate';
import { contract } from '../support/contract';
import { adminQuery, withDatabase } from '../support/database';
import { buildApiKey, buildEndpoint, buildEvents, buildProject } from '../support/factories';
import { startService, type ServiceProcess } from '../support/processes';

// Four service processes start at the same moment on one fresh database, then take overlapping
// deletes and acknowledgements. Everything here goes through real processes and connections.
const REPLICAS = 4;
const adminUrl = () => process.env.TEST_ADMIN_DATABASE_URL!;
const database = `pull_events_replicas_${process.pid}_${Date.now()}`;
const databaseUrl = withDatabase(adminUrl(), database);

let replicas: ServiceProcess[] = [];
let db: Database;

beforeAll(async () => {
  await adminQuery(adminUrl(), `CREATE DATABASE ${database}`);
  replicas = await Promise.all(Array.from({ length: REPLICAS }, () => startService(databaseUrl)));
  db = createPrismaClient(databaseUrl);
}, 120_000);

afterAll(async () => {
  const codes = await Promise.all(replicas.map((replica) => replica.stop()));
  await db?.$disconnect();
  await adminQuery(adminUrl(), `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  expect(codes).toEqual(replicas.map(() => 0));
});

it('migrates once when the replicas start together, and all of them come up', async () => {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const { rows } = await client.query('SELECT migration_name FROM _prisma_migrations ORDER BY migration_name');
  await client.end();
  expect(rows.map((row) => row.migration_name)).toEqual(readMigrations().map((m) => m.name));
  for (const replica of replicas) expect((await fetch(`${replica.baseUrl}/readyz`)).status).toBe(200);
});

it('reports every event deleted exactly once across batch, single and filtered deletes on four replicas', async () => {
  const project = await buildProject(db);
  const secondKey = await buildApiKey(db, project.projectId);
  const keys = [{ key: project.apiKey, id: project.apiKeyId }, { key: secondKey.key, id: secondKey.id }];
  const endpointId = await buildEndpoint(db, project.projectId);
  const ids = await buildEvents(db, endpointId, 400);
  const path = { id: endpointId };
  const clients: { client: PullEventsClient; keyId: string }[] = replicas.flatMap((replica) =>
    keys.map((k) => ({ keyId: k.id, client: createPullEventsClient({ baseUrl: replica.baseUrl, apiKey: k.key, middleware: [contract.middleware()] }) })),
  );
  let seed = 12345;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const pick = (n: number) => Array.from(new Set(Array.from({ length: n }, () => ids[Math.floor(random() * ids.length)]!)));

  type Claim = { id: string; deletedAt: string; keyId: string };
  const winners: Claim[] = [];
  const losers: { id: string; deletedAt: string }[] = [];
  let deletedCountSum = 0;
  let acknowledgedSum = 0;
  const statuses: number[] = [];

  const operations = Array.from({ length: 160 }, (_, i) => async () => {
    const { client, keyId } = clients[i % clients.length]!;
    switch (i % 4) {
      case 0: {
        const { data, response } = await client.POST('/v1/pull-endpoints/{id}/events/delete-batch', { params: { path }, body: { message_ids: pick(60) } });
        statuses.push(response.status);
        deletedCountSum += data?.data.deleted_count ?? 0;
        for (const r of data?.data.results ?? []) {
          if (r.outcome === 'deleted') winners.push({ id: r.event_id, deletedAt: r.deleted_at, keyId });
          if (r.outcome === 'already_deleted') losers.push({ id: r.event_id, deletedAt: r.deleted_at });
        }
        return;
      }
      case 1: {
        const [id] = pick(1);
        const { data, response } = await client.DELETE('/v1/pull-endpoints/{id}/events/{event_id}', { params: { path: { ...path, event_id: id! } } });
        statuses.push(response.status);
        if (!data) return;
        if (data.data.already_deleted) losers.push({ id: data.data.event_id, deletedAt: data.data.deleted_at });
        else {
          deletedCountSum += 1;
          winners.push({ id: data.data.event_id, deletedAt: data.data.deleted_at, keyId });
        }
        return;
      }
      case 2: {
        const { data, response } = await client.POST('/v1/pull-endpoints/{id}/events/delete-all', { params: { path, query: { status: 'delivered', limit: 5 } } });
        statuses.push(response.status);
        deletedCountSum += data?.data.deleted ?? 0;
        // delete-all reports ids, not times: their deleted_at is checked against the table below.
        for (const id of data?.data.deleted_event_ids ?? []) winners.push({ id, deletedAt: '', keyId });
        return;
      }
      default: {
        const { data, response } = await client.POST('/v1/pull-endpoints/{id}/events/ack', { params: { path }, body: { event_ids: pick(40) } });
        statuses.push(response.status);
        acknowledgedSum += data?.data.acknowledged ?? 0;
      }
    }
  });
  // 16 requests in flight at any time.
  const queue = [...operations];
  await Promise.all(Array.from({ length: 16 }, async () => {
    for (let op = queue.shift(); op; op = queue.shift()) await op();
  }));

  expect(new Set(statuses)).toEqual(new Set([200]));
  const winnerIds = winners.map((w) => w.id);
  expect(winnerIds.length).toBe(new Set(winnerIds).size);
  expect(deletedCountSum).toBe(winnerIds.length);

  const rows = await db.pullEvent.findMany({ where: { pullEndpointId: endpointId } });
  const byId = new Map(rows.map((row) => [row.id, row]));
  expect(rows.filter((row) => row.deletedAt !== null).map((row) => row.id).sort()).toEqual([...winnerIds].sort());
  for (const winner of winners) {
    const row = byId.get(winner.id)!;
    expect(row.deletedByApiKeyId).toBe(winner.keyId);
    if (winner.deletedAt) expect(row.deletedAt!.toISOString()).toBe(winner.deletedAt);
  }
  for (const loser of losers) expect(byId.get(loser.id)!.deletedAt!.toISOString()).toBe(loser.deletedAt);
  expect(rows.filter((row) => row.status === 'delivered')).toHaveLength(acknowledgedSum);
}, 120_000);
