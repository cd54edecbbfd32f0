import pg from 'pg';
// node-postgres sends a Parse message through Connection#parse; its `name` is the statement's.
import Connection from 'pg/lib/connection';
import type { Config } from '../../src/config';
import { openDatabase } from '../../src/db/database';
import { migrate, readMigrations } from '../../src/db/migrate';
import { listenUrlFor, parseDatabaseUrl } from '../../src/db/pooler';
import { createPrismaClient, type Database } from '../../src/db/prisma';
import { adminQuery, withDatabase } from '../support/database';
import { buildEndpointWithToken, buildProject } from '../support/factories';
import { startPgBouncer, type PgBouncer } from '../support/pgbouncer';
import { startTestServer, type TestServer } from '../support/server';
import { postWebhook } from '../support/webhooks';

// PgBouncer in transaction mode with ONE server connection in front of a database of this file's
// own: every transaction of every client runs on that connection in turn, so anything that kept
// session state (a named prepared statement, a session advisory lock, a SET) would show.
const adminUrl = () => process.env.TEST_ADMIN_DATABASE_URL!;
const databases: string[] = [];
let bouncer: PgBouncer;

async function freshDatabase(suffix: string): Promise<string> {
  const name = `pull_events_bouncer_${process.pid}_${Date.now()}_${suffix}`;
  await adminQuery(adminUrl(), `CREATE DATABASE ${name}`);
  databases.push(name);
  return name;
}

async function directQuery<T extends pg.QueryResultRow>(database: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: withDatabase(adminUrl(), database) });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  bouncer = await startPgBouncer(adminUrl(), { poolSize: 1 });
});

afterAll(async () => {
  await bouncer?.stop();
  for (const name of databases) await adminQuery(adminUrl(), `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
});

it('breaks named prepared statements, the hazard the service must avoid (the setup can see it)', async () => {
  const database = await freshDatabase('named');
  const [first, second] = [new pg.Client(bouncer.urlFor(database)), new pg.Client(bouncer.urlFor(database))];
  await first.connect();
  await second.connect();
  try {
    await first.query({ name: 'probe', text: 'SELECT $1::int AS n', values: [1] });
    // The same server connection already holds `probe`, prepared by another client.
    await expect(second.query({ name: 'probe', text: 'SELECT $1::text AS t', values: ['x'] })).rejects.toThrow(
      'prepared statement "probe" already exists',
    );
  } finally {
    await first.end();
    await second.end();
  }
});

it('migrates through the pooler: concurrent migrators apply each migration once and leave no lock held', async () => {
  const database = await freshDatabase('migrate');
  const runs = await Promise.all(Array.from({ length: 4 }, () => migrate(bouncer.urlFor(database))));

  const names = readMigrations().map((migration) => migration.name);
  expect(runs.flat().sort()).toEqual(names);
  const history = await directQuery<{ migration_name: string }>(database, 'SELECT migration_name FROM _prisma_migrations ORDER BY migration_name');
  expect(history.map((row) => row.migration_name)).toEqual(names);
  // A session-level lock taken through the pooler would stay on its server connection.
  const locks = await directQuery<{ n: number }>(
    database,
    `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database
     WHERE l.locktype = 'advisory' AND d.datname = current_database()`,
  );
  expect(locks).toEqual([{ n: 0 }]);
});

describe('the service through the pooler', () => {
  let database: string;
  let servers: TestServer[];
  let dbs: Database[];
  const parses: (string | undefined)[] = [];
  let restoreParse: () => void;

  beforeAll(async () => {
    database = await freshDatabase('service');
    await migrate(bouncer.urlFor(database));
    const parse = Connection.prototype.parse;
    Connection.prototype.parse = function (this: Connection, query) {
      parses.push(query.name);
      parse.call(this, query);
    };
    restoreParse = () => (Connection.prototype.parse = parse);
    dbs = [createPrismaClient(bouncer.urlFor(database), { poolSize: 4 }), createPrismaClient(bouncer.urlFor(database), { poolSize: 4 })];
    servers = await Promise.all(dbs.map((db) => startTestServer({ db })));
  });

  afterAll(async () => {
    restoreParse?.();
    for (const server of servers ?? []) await server.close();
    for (const db of dbs ?? []) await db.$disconnect();
  });

  it('ingests, lists, leases, acks and deletes concurrently with every statement unnamed', async () => {
    const [a, b] = servers;
    const project = await buildProject(dbs[0]!);
    const endpoint = await buildEndpointWithToken(dbs[0]!, project.projectId);
    const on = { params: { path: { id: endpoint.id } } };

    // Two app instances, four writers each, sharing one server connection.
    const webhooks = 80;
    const ingested = await Promise.all(
      Array.from({ length: webhooks }, (_, i) => postWebhook((i % 2 ? a! : b!).baseUrl, endpoint.ingestPath, JSON.stringify({ n: i }))),
    );
    expect(ingested.map((answer) => answer.status)).toEqual(Array(webhooks).fill(202));

    const consumers = [a!, b!].flatMap((server) => [server.client(project.apiKey), server.client(project.apiKey)]);
    const acked: string[] = [];
    await Promise.all(
      consumers.map(async (client) => {
        for (;;) {
          const { data, response } = await client.POST('/v1/pull-endpoints/{id}/events/receive', { ...on, body: { max_events: 7, lease_seconds: 60 } });
          expect(response.status).toBe(200);
          const events = data!.data.events;
          if (events.length === 0) return;
          const ack = await client.POST('/v1/pull-endpoints/{id}/events/leases/ack', { ...on, body: { lease_ids: events.map((event) => event.lease_id) } });
          expect(ack.response.status).toBe(200);
          acked.push(...events.map((event) => event.id));
        }
      }),
    );
    expect(acked.sort()).toEqual(ingested.map((answer) => answer.body.data.event_id).sort());

    const listed = await consumers[0]!.GET('/v1/pull-endpoints/{id}/events', { ...on, params: { ...on.params, query: { limit: 100, status: 'any' } } });
    expect(listed.response.status).toBe(200);
    expect(listed.data!.data).toHaveLength(webhooks);

    const halves = [acked.slice(0, webhooks / 2), acked.slice(webhooks / 2)];
    const deletes = await Promise.all(
      halves.map((ids, i) => consumers[i]!.POST('/v1/pull-endpoints/{id}/events/delete-batch', { ...on, body: { message_ids: ids } })),
    );
    expect(deletes.map((answer) => answer.response.status)).toEqual([200, 200]);
    const left = await directQuery<{ n: number }>(database, `SELECT count(*)::int AS n FROM pull_events WHERE deleted_at IS NULL`);
    expect(left).toEqual([{ n: 0 }]);

    // Prisma's pg adapter parsed hundreds of statements, none of them named.
    expect(parses.length).toBeGreaterThan(webhooks);
    expect(parses.filter((name) => name)).toEqual([]);
  });
});

it("warns at start when the pooled server's statement timeout is unbounded, and not once it is set", async () => {
  const database = await freshDatabase('timeout');
  const open = async () => {
    const warnings: string[] = [];
    const config = { databaseUrl: bouncer.urlFor(database), databasePoolSize: 2 } as Config;
    const opened = await openDatabase(config, () => undefined, (message) => warnings.push(message));
    await opened.close();
    return warnings;
  };
  expect(await open()).toEqual([expect.stringContaining("the server's statement_timeout is 0")]);
  await directQuery(database, `ALTER DATABASE ${database} SET statement_timeout = '15s'`);
  // PgBouncer keeps its server connection, which read the settings when it logged in. Killing it
  // from the server's side raced the bouncer handing it out again (`terminating connection due to
  // administrator command`, seen once in CI); RECONNECT makes the bouncer itself drop it.
  await bouncer.reconnect(database);
  expect(await open()).toEqual([]);
});

describe('pooler URLs', () => {
  it('strips pgbouncer=true for node-postgres and keeps the rest of the URL', () => {
    expect(parseDatabaseUrl('postgresql://app:pw@pool:6432/events?pgbouncer=true&sslmode=require')).toEqual({
      connectionString: 'postgresql://app:pw@pool:6432/events?sslmode=require',
      transactionPooler: true,
    });
    expect(parseDatabaseUrl('postgresql://app@db/events')).toEqual({ connectionString: 'postgresql://app@db/events', transactionPooler: false });
  });

  it('LISTENs on the direct URL, or on the database URL unless it leads to a transaction pooler', () => {
    expect(listenUrlFor('postgresql://app@pool/events?pgbouncer=true', 'postgresql://app@db/events')).toBe('postgresql://app@db/events');
    expect(listenUrlFor('postgresql://app@pool/events?pgbouncer=true', undefined)).toBeUndefined();
    expect(listenUrlFor('postgresql://app@db/events', undefined)).toBe('postgresql://app@db/events');
  });
});
