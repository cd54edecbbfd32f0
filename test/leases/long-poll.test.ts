import fs from 'node:fs';
import pg from 'pg';
import type { components } from '../../generated/openapi';
import { createPullEventsClient } from '../../src/client';
import { createPrismaClient, type Database } from '../../src/db/prisma';
import { contract } from '../support/contract';
import { buildEndpointWithToken, buildProject, type TestProject } from '../support/factories';
import { startService, type ServiceProcess } from '../support/processes';
import { testDatabaseUrl } from '../support/server';
import { postWebhook } from '../support/webhooks';

// Long polling across real service processes: A and B share the database; C holds at most two
// waiting receives. A's pool connections carry an application_name (node-postgres takes PGAPPNAME
// from the environment; the LISTEN connection names itself), and pg_stat_activity's client_port
// finds all of A's connections, the LISTEN one included, among its process's sockets. A connects
// straight to PostgreSQL even when the suite runs through PgBouncer (TEST_PGBOUNCER=1): behind a
// pooler, server sessions are the pooler's and no longer tell which client holds one.
const A_DATABASE_URL = process.env.DATABASE_DIRECT_URL ?? testDatabaseUrl();
const APP_NAME = `leases_long_poll_${process.pid}`;
const POOL_SIZE = 4;

type ReceiveRequest = components['schemas']['ReceiveRequest'];

let a: ServiceProcess;
let b: ServiceProcess;
let c: ServiceProcess;
let db: Database;
let owner: TestProject;

beforeAll(async () => {
  db = createPrismaClient(testDatabaseUrl());
  owner = await buildProject(db);
  [a, b, c] = await Promise.all([
    startService(A_DATABASE_URL, { PGAPPNAME: APP_NAME, DATABASE_POOL_SIZE: String(POOL_SIZE) }),
    startService(testDatabaseUrl()),
    startService(testDatabaseUrl(), { MAX_WAITING_RECEIVES: '2' }),
  ]);
}, 120_000);

afterAll(async () => {
  const codes = await Promise.all([a, b, c].map((service) => service?.stop()));
  await db?.$disconnect();
  expect(codes).toEqual([0, 0, 0]);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const client = (service: ServiceProcess) =>
  createPullEventsClient({ baseUrl: service.baseUrl, apiKey: owner.apiKey, middleware: [contract.middleware()] });

async function receive(service: ServiceProcess, id: string, body: ReceiveRequest) {
  const sentAt = Date.now();
  const { data, response } = await client(service).POST('/v1/pull-endpoints/{id}/events/receive', { params: { path: { id } }, body });
  return { status: response.status, events: data?.data.events ?? [], sentAt, answeredAt: Date.now() };
}

async function ingest(service: ServiceProcess, ingestPath: string) {
  const answer = await postWebhook(service.baseUrl, ingestPath, JSON.stringify({ at: Date.now() }));
  expect(answer.status).toBe(202);
  return { eventId: answer.body.data.event_id, answeredAt: Date.now() };
}

const newEndpoint = () => buildEndpointWithToken(db, owner.projectId);
const received = (answer: Awaited<ReturnType<typeof receive>>) => answer.events.map((event) => [event.id, event.delivery_count]);

/** The local ports of a process's TCP connections to `serverPort` (Linux /proc). */
function connectionPorts(pid: number, serverPort: number): number[] {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
      if (inode) inodes.add(inode);
    } catch {
      // The descriptor closed between the listing and the read.
    }
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of fs.readFileSync(table, 'utf8').split('\n').slice(1)) {
      const [, local, remote, , , , , , , inode] = line.trim().split(/\s+/);
      const port = (address: string | undefined) => parseInt(address?.split(':').at(-1) ?? '', 16);
      if (inode && inodes.has(inode) && port(remote) === serverPort) ports.push(port(local));
    }
  }
  return ports;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

it('wakes a receive waiting on one process when a webhook arrives on the other', async () => {
  const { id, ingestPath } = await newEndpoint();
  const latencies: number[] = [];
  for (let round = 0; round < 50; round++) {
    const waiting = receive(b, id, { max_events: 1, wait_seconds: 20 });
    await sleep(150);
    const ingested = await ingest(a, ingestPath);
    const answer = await waiting;
    expect(answer.status).toBe(200);
    expect(received(answer)).toEqual([[ingested.eventId, 1]]);
    latencies.push(answer.answeredAt - ingested.answeredAt);
    const { data } = await client(b).POST('/v1/pull-endpoints/{id}/events/leases/ack', {
      params: { path: { id } },
      body: { lease_ids: answer.events.map((event) => event.lease_id) },
    });
    expect(data?.data.acked_count).toBe(1);
  }
  const p50 = percentile(latencies, 50);
  console.log(`long poll, ingest 2xx on A -> answer on B over 50 rounds: p50 ${p50} ms, p99 ${percentile(latencies, 99)} ms`);
  // A notification, not the 20 s deadline, answered them.
  expect(p50).toBeLessThan(1000);
}, 90_000);

it('holds no pool connection for 200 waiting receives, and hands a new webhook to exactly one of them', async () => {
  const { id, ingestPath } = await newEndpoint();
  let settled = 0;
  const waiters = Array.from({ length: 200 }, (_, i) =>
    receive(a, id, { max_events: 1, wait_seconds: 10 + (i % 3) }).finally(() => settled++));
  const activity = new pg.Client({ connectionString: A_DATABASE_URL });
  await activity.connect();
  try {
    const serverPort = Number(new URL(A_DATABASE_URL).port || 5432);
    type Activity = { pid: number; state: string; state_change: string; query: string; application_name: string };
    const sample = async () => (await activity.query<Activity>(
      'SELECT pid, state, state_change::text, query, application_name FROM pg_stat_activity WHERE client_port = ANY($1::int[])',
      [connectionPorts(a.child.pid!, serverPort)])).rows;
    // The pool's connections carry APP_NAME; the one other connection is the listener's.
    const isListener = (row: Activity) => row.application_name !== APP_NAME;
    const busy = (rows: Activity[]) =>
      rows.filter((row) => (row.state === 'active' || row.state === 'idle in transaction') && !isListener(row));
    // Requests still arriving run short queries that come and go; a waiting receive holding a
    // connection would keep it busy in one state since one moment, sample after sample.
    const stillBusy = (before: Activity[], after: Activity[]) =>
      busy(after).filter((row) => busy(before).some((old) => old.pid === row.pid && old.state_change === row.state_change));
    let before = await sample();
    for (let i = 0; i < 6; i++) {
      await sleep(300);
      const rows = await sample();
      expect(stillBusy(before, rows)).toEqual([]);
      expect(rows.filter(isListener)).toHaveLength(1);
      expect(rows.length).toBeLessThanOrEqual(POOL_SIZE + 1);
      before = rows;
      // The pool stays free for other requests.
      const { response } = await client(a).GET('/v1/pull-endpoints/{id}/events', { params: { path: { id } } });
      expect(response.status).toBe(200);
    }
    // By now every waiter has arrived: nothing of the pool is busy at all.
    expect(busy(await sample())).toEqual([]);
    expect(settled).toBe(0);
  } finally {
    await activity.end();
  }

  const ingested = await ingest(b, ingestPath);
  const answers = await Promise.all(waiters);
  expect(new Set(answers.map((answer) => answer.status))).toEqual(new Set([200]));
  expect(answers.filter((answer) => answer.events.length > 0).map(received)).toEqual([[[ingested.eventId, 1]]]);
}, 60_000);

it('answers 200 with no events when the wait ends and nothing arrived', async () => {
  const { id } = await newEndpoint();
  const answer = await receive(b, id, { wait_seconds: 1 });
  expect(answer.status).toBe(200);
  expect(answer.events).toEqual([]);
  expect(answer.answeredAt - answer.sentAt).toBeGreaterThanOrEqual(990);
});

it('answers at once, with no events, a receive beyond MAX_WAITING_RECEIVES', async () => {
  const { id } = await newEndpoint();
  let settled = 0;
  const holders = [0, 1].map(() => receive(c, id, { wait_seconds: 5 }).finally(() => settled++));
  await sleep(1500);
  const third = await receive(c, id, { wait_seconds: 20 });
  expect(third.status).toBe(200);
  expect(third.events).toEqual([]);
  // It answered while both holders still waited, so it did not wait itself.
  expect(settled).toBe(0);
  for (const held of await Promise.all(holders)) expect([held.status, held.events]).toEqual([200, []]);
  // With the holders gone, a receive may wait again.
  const again = await receive(c, id, { wait_seconds: 1 });
  expect([again.status, again.events]).toEqual([200, []]);
  expect(again.answeredAt - again.sentAt).toBeGreaterThanOrEqual(990);
}, 30_000);

it('wakes a waiting receive when a lease runs out', async () => {
  const { id, ingestPath } = await newEndpoint();
  const { eventId } = await ingest(a, ingestPath);
  const first = await receive(a, id, { lease_seconds: 1 });
  expect(received(first)).toEqual([[eventId, 1]]);
  const second = await receive(b, id, { wait_seconds: 10, lease_seconds: 30 });
  expect(received(second)).toEqual([[eventId, 2]]);
  // The second lease began once the first ended, and before the 10 s wait did.
  const secondStart = Date.parse(second.events[0]!.lease_expires_at) - 30_000;
  expect(secondStart).toBeGreaterThanOrEqual(Date.parse(first.events[0]!.lease_expires_at) - 1);
  expect(second.answeredAt - second.sentAt).toBeLessThan(5000);
}, 30_000);

it('wakes a receive waiting on one process when a lease is released on the other', async () => {
  const { id, ingestPath } = await newEndpoint();
  const { eventId } = await ingest(b, ingestPath);
  const first = await receive(a, id, { lease_seconds: 30 });
  expect(received(first)).toEqual([[eventId, 1]]);
  const waiting = receive(b, id, { wait_seconds: 20 });
  await sleep(300);
  const { data } = await client(a).POST('/v1/pull-endpoints/{id}/events/leases/release', {
    params: { path: { id } },
    body: { lease_ids: [first.events[0]!.lease_id] },
  });
  expect(data?.data.results.map((result) => result.outcome)).toEqual(['released']);
  const second = await waiting;
  expect(received(second)).toEqual([[eventId, 2]]);
  // Nothing else could have woken it before its 20 s wait ended: the first lease had 30 s to run.
  expect(second.answeredAt - second.sentAt).toBeLessThan(10_000);
}, 40_000);

it('wakes a receive waiting on one process when an extend on the other cuts a lease short', async () => {
  const { id, ingestPath } = await newEndpoint();
  const { eventId } = await ingest(a, ingestPath);
  const first = await receive(a, id, { lease_seconds: 60 });
  expect(received(first)).toEqual([[eventId, 1]]);
  // The waiter has read that the next lease ends in 60 s, after its own 20 s wait.
  const waiting = receive(b, id, { wait_seconds: 20 });
  await sleep(300);
  const { data } = await client(a).POST('/v1/pull-endpoints/{id}/events/leases/extend', {
    params: { path: { id } },
    body: { lease_ids: [first.events[0]!.lease_id], lease_seconds: 1 },
  });
  expect(data?.data.results.map((result) => result.outcome)).toEqual(['extended']);
  const second = await waiting;
  expect(received(second)).toEqual([[eventId, 2]]);
  // Told of the new end, it answered about 1 s after the extend, not when its wait ran out.
  expect(second.answeredAt - second.sentAt).toBeLessThan(10_000);
}, 40_000);

it('on SIGTERM answers its waiting receives at once with no events, and exits 0', async () => {
  const { id } = await newEndpoint();
  const waiters = [0, 1].map(() => receive(c, id, { wait_seconds: 20 }));
  await sleep(1000);
  const stopping = Date.now();
  const exitCode = c.stop();
  for (const answer of await Promise.all(waiters)) {
    expect([answer.status, answer.events]).toEqual([200, []]);
    expect(answer.answeredAt - stopping).toBeLessThan(10_000);
  }
  expect(await exitCode).toBe(0);
}, 40_000);
