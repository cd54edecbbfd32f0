import pg from 'pg';
import type { components } from '../../generated/openapi';
import { createPullEventsClient, type PullEventsClient } from '../../src/client';
import { createPrismaClient, type Database } from '../../src/db/prisma';
import { contract } from '../support/contract';
import { buildEndpointWithToken, buildProject, type TestProject } from '../support/factories';
import { startService, type ServiceProcess } from '../support/processes';
import { testDatabaseUrl } from '../support/server';
import { postWebhook } from '../support/webhooks';

// Eight competing workers on two service processes, with crashes, lease expiries, extends,
// releases and webhooks arriving throughout; every answer is recorded, and the record and the
// table are then checked against what leases promise. LEASES_LONG=1 runs five minutes of load.
const LONG = process.env.LEASES_LONG === '1';
const INGEST_MS = LONG ? 300_000 : 25_000;
const DRAIN_TIMEOUT_MS = 40_000;
const LEASE_SECONDS = 2;
const MAX_DELIVERIES = 3;
const WORKERS_PER_PROCESS = 4;

interface Lease { eventId: string; leaseId: string; expiresAt: number; deliveryCount: number; worker: string; sentAt: number; answeredAt: number }
type Outcome = 'acked' | 'already_acked' | 'extended' | 'released' | 'lease_expired' | 'not_found';
interface LeaseAnswer {
  kind: 'ack' | 'extend' | 'release';
  worker: string;
  sentAt: number;
  delaySeconds?: number;
  results: { lease_id: string; event_id?: string; outcome: Outcome; lease_expires_at?: string }[];
}
interface History { leases: Lease[]; answers: LeaseAnswer[]; ingested: string[]; failures: string[]; crashes: number }
interface EventRow { id: string; status: string; delivery_count: number; dead_lettered_at: Date | null }
type LeasedEvent = components['schemas']['LeasedEvent'];

let services: ServiceProcess[] = [];
let db: Database;
let owner: TestProject;
let recorded: { history: History; rows: EventRow[] } | undefined;

beforeAll(async () => {
  db = createPrismaClient(testDatabaseUrl());
  owner = await buildProject(db);
  services = await Promise.all([startService(testDatabaseUrl()), startService(testDatabaseUrl())]);
}, 120_000);

afterAll(async () => {
  const codes = await Promise.all(services.map((service) => service.stop()));
  await db?.$disconnect();
  expect(codes).toEqual(services.map(() => 0));
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const isPoison = (event: LeasedEvent) => (event.payload as { poison?: boolean } | null)?.poison === true;

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group) group.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
}

it('hands each event to one worker at a time, and ends every event acked once or dead-lettered', async () => {
  const seed = Number(process.env.LEASES_SEED ?? Date.now() % 1_000_000);
  const random = seededRandom(seed);
  const { id: endpointId, ingestPath } = await buildEndpointWithToken(db, owner.projectId, { max_deliveries: MAX_DELIVERIES });
  const history: History = { leases: [], answers: [], ingested: [], failures: [], crashes: 0 };
  const path = { id: endpointId };
  let stopped = false;
  const ingestEnd = Date.now() + INGEST_MS;

  async function leaseCall(client: PullEventsClient, worker: string, kind: LeaseAnswer['kind'], leases: Lease[], delaySeconds = 0) {
    if (leases.length === 0) return;
    const lease_ids = leases.map((lease) => lease.leaseId);
    const sentAt = Date.now();
    const params = { params: { path } };
    const { data, response } =
      kind === 'ack' ? await client.POST('/v1/pull-endpoints/{id}/events/leases/ack', { ...params, body: { lease_ids } })
        : kind === 'extend' ? await client.POST('/v1/pull-endpoints/{id}/events/leases/extend', { ...params, body: { lease_ids, lease_seconds: LEASE_SECONDS } })
          : await client.POST('/v1/pull-endpoints/{id}/events/leases/release', { ...params, body: { lease_ids, delay_seconds: delaySeconds } });
    if (!data) throw new Error(`${kind} answered ${response.status}`);
    history.answers.push({ kind, worker, sentAt, delaySeconds, results: data.data.results });
    return data.data.results;
  }

  /** One worker's life: it ends when the worker crashes (drops its batch without a word) or the run stops. */
  async function runWorker(client: PullEventsClient, worker: string): Promise<void> {
    while (!stopped) {
      const sentAt = Date.now();
      const { data, response } = await client.POST('/v1/pull-endpoints/{id}/events/receive', {
        params: { path },
        body: { max_events: 1 + Math.floor(random() * 5), lease_seconds: LEASE_SECONDS, wait_seconds: 1 },
      });
      if (!data) throw new Error(`receive answered ${response.status}`);
      const answeredAt = Date.now();
      const batch = data.data.events.map((event) => ({ event, lease: {
        eventId: event.id, leaseId: event.lease_id, expiresAt: Date.parse(event.lease_expires_at), deliveryCount: event.delivery_count, worker, sentAt, answeredAt,
      } }));
      history.leases.push(...batch.map((item) => item.lease));
      if (batch.length === 0) continue;
      const roll = random();
      if (roll < 0.07) {
        history.crashes++;
        return;
      }
      // A poison event is never acked: released, or left to run out, until it is dead-lettered.
      const poison = batch.filter((item) => isPoison(item.event)).map((item) => item.lease);
      const good = batch.filter((item) => !isPoison(item.event)).map((item) => item.lease);
      if (random() < 0.5) await leaseCall(client, worker, 'release', poison, random() < 0.5 ? 0 : 1);
      if (roll < 0.22) {
        for (let round = 0; round < 2; round++) {
          await sleep(LEASE_SECONDS * 400);
          await leaseCall(client, worker, 'extend', good);
        }
        await leaseCall(client, worker, 'ack', good);
      } else if (roll < 0.32) {
        await leaseCall(client, worker, 'release', good, random() < 0.5 ? 0 : 1);
      } else if (roll < 0.37) {
        await sleep(LEASE_SECONDS * 1000 + 300);
        await leaseCall(client, worker, 'ack', good);
      } else {
        await sleep(random() * 50);
        const results = await leaseCall(client, worker, 'ack', good);
        if (random() < 0.05) {
          const acked = good.filter((_, i) => results?.[i]?.outcome === 'acked');
          const again = await leaseCall(client, worker, 'ack', acked);
          if (again?.some((result) => result.outcome !== 'already_acked')) history.failures.push(`repeated ack: ${JSON.stringify(again)}`);
        }
      }
    }
  }

  async function runSlot(client: PullEventsClient, name: string) {
    for (let incarnation = 1; !stopped; incarnation++) {
      await runWorker(client, `${name}.${incarnation}`).catch(async (error: unknown) => {
        history.failures.push(`${name}: ${String(error)}`);
        await sleep(100);
      });
    }
  }

  async function sendWebhooks(offset: number) {
    for (let i = 0; Date.now() < ingestEnd; i++) {
      const service = services[(i + offset) % services.length]!;
      try {
        const answer = await postWebhook(service.baseUrl, ingestPath, JSON.stringify({ n: i, poison: random() < 0.1 }));
        if (answer.status === 202) history.ingested.push(answer.body.data.event_id);
        else history.failures.push(`ingest answered ${answer.status}`);
      } catch (error) {
        history.failures.push(`ingest: ${String(error)}`);
      }
      await sleep(20 + random() * 60);
    }
  }

  const table = new pg.Client({ connectionString: testDatabaseUrl() });
  await table.connect();
  try {
    const workers = services.flatMap((service, s) => Array.from({ length: WORKERS_PER_PROCESS }, (_, w) => {
      const client = createPullEventsClient({ baseUrl: service.baseUrl, apiKey: owner.apiKey, middleware: [contract.middleware()] });
      return runSlot(client, `${'AB'[s]}${w}`);
    }));
    await Promise.all([sendWebhooks(0), sendWebhooks(1)]);
    const drainEnd = Date.now() + DRAIN_TIMEOUT_MS;
    const pendingSql = `SELECT count(*)::int AS n FROM pull_events
      WHERE pull_endpoint_id = $1 AND status <> 'delivered' AND dead_lettered_at IS NULL`;
    while (Date.now() < drainEnd && (await table.query(pendingSql, [endpointId])).rows[0].n > 0) await sleep(500);
    stopped = true;
    await Promise.all(workers);
    const { rows } = await table.query<EventRow>(
      'SELECT id::text, status, delivery_count, dead_lettered_at FROM pull_events WHERE pull_endpoint_id = $1', [endpointId]);
    recorded = { history, rows };
  } finally {
    await table.end();
  }

  const outcomes = history.answers.flatMap((answer) => answer.results.map((result) => `${answer.kind}:${result.outcome}${answer.kind === 'release' ? `:${answer.delaySeconds}` : ''}`));
  const count = (what: string) => outcomes.filter((outcome) => outcome === what).length;
  const deadLetters = recorded.rows.filter((row) => row.dead_lettered_at !== null).length;
  const redeliveries = history.leases.filter((lease) => lease.deliveryCount > 1).length;
  console.log(`competing consumers (seed ${seed}): ${history.ingested.length} webhooks, ${history.leases.length} leases `
    + `(${redeliveries} redeliveries), ${count('ack:acked')} acked, ${deadLetters} dead-lettered, ${history.crashes} crashes, `
    + `${count('extend:extended')} extended, ${count('release:released:0') + count('release:released:1')} released, `
    + `${count('ack:lease_expired') + count('extend:lease_expired') + count('release:lease_expired')} answered lease_expired`);

  expect(history.failures).toEqual([]);
  expect(checkHistory(history, recorded.rows)).toEqual([]);
  // The run did exercise what it claims to.
  expect(history.crashes).toBeGreaterThan(0);
  expect(redeliveries).toBeGreaterThan(0);
  expect(deadLetters).toBeGreaterThan(0);
  for (const outcome of ['extend:extended', 'release:released:0', 'release:released:1', 'ack:lease_expired']) {
    expect({ outcome, seen: count(outcome) > 0 }).toEqual({ outcome, seen: true });
  }
}, INGEST_MS + DRAIN_TIMEOUT_MS + 60_000);

it('the checker finds an overlapping lease, a lost ack, a wrong count and a missing webhook in a tampered record', () => {
  if (!recorded) throw new Error('the load test above recorded nothing');
  const { history, rows } = recorded;
  const found = new Set(checkHistory(history, rows));
  const added = (violations: string[]) => kinds(violations.filter((violation) => !found.has(violation)));
  const acked = history.answers.flatMap((answer) => (answer.kind === 'ack' ? answer.results : [])).find((result) => result.outcome === 'acked')!;
  const lease = history.leases.find((l) => l.leaseId === acked.lease_id)!;

  // Another worker leased the event 1 s before the acked lease ran out.
  const overlapping = { ...lease, leaseId: 'tampered', worker: 'intruder', deliveryCount: lease.deliveryCount + 1, expiresAt: lease.expiresAt + (LEASE_SECONDS - 1) * 1000 };
  expect(added(checkHistory({ ...history, leases: [...history.leases, overlapping] }, rows))).toContain('overlap');
  // Another worker was answered a lease on a released event before the release was sent.
  const release = history.answers.find((answer) => answer.kind === 'release' && answer.results.some((result) => result.outcome === 'released'))!;
  const releasedLease = history.leases.find((l) => l.leaseId === release.results.find((result) => result.outcome === 'released')!.lease_id)!;
  const early = { ...releasedLease, leaseId: 'tampered', worker: 'intruder', answeredAt: release.sentAt - 5, expiresAt: release.sentAt - 10 + LEASE_SECONDS * 1000 };
  const afterIt = history.leases.filter((l) => l.eventId === releasedLease.eventId && l.deliveryCount > releasedLease.deliveryCount);
  const shifted = [...history.leases.filter((l) => !afterIt.includes(l)), { ...early, deliveryCount: releasedLease.deliveryCount + 1 }];
  expect(added(checkHistory({ ...history, leases: shifted }, rows))).toContain('overlap');
  const withoutAck = history.answers.map((answer) => ({ ...answer, results: answer.results.filter((result) => result !== acked) }));
  expect(added(checkHistory({ ...history, answers: withoutAck }, rows))).toContain('ack');
  const miscounted = rows.map((row) => (row.id === lease.eventId ? { ...row, delivery_count: row.delivery_count + 1 } : row));
  expect(added(checkHistory(history, miscounted))).toContain('count');
  expect(added(checkHistory(history, rows.filter((row) => row.id !== lease.eventId)))).toContain('ingest');
});

const kinds = (violations: string[]) => new Set(violations.map((violation) => violation.split(':')[0]));

/** What the record and the table break of the lease promises, one line per violation, each starting with its kind. */
function checkHistory(history: History, rows: EventRow[]): string[] {
  const violations: string[] = [];
  const rowsById = new Map(rows.map((row) => [row.id, row]));
  const ingested = new Set(history.ingested);
  if (ingested.size !== history.ingested.length) violations.push('ingest: one event id answered for two webhooks');
  for (const id of ingested) if (!rowsById.has(id)) violations.push(`ingest: ${id} answered 2xx but is not in the table`);
  for (const row of rows) if (!ingested.has(row.id)) violations.push(`ingest: ${row.id} is in the table but no webhook answered it`);

  const results = history.answers.flatMap((answer) => answer.results.map((result) => ({ ...result, kind: answer.kind, sentAt: answer.sentAt })));
  for (const result of results) if (result.outcome === 'not_found') violations.push(`not_found: ${result.kind} of ${result.lease_id}`);
  const byLease = groupBy(results, (result) => result.lease_id);
  if (new Set(history.leases.map((lease) => lease.leaseId)).size !== history.leases.length) violations.push('overlap: one lease id answered twice');

  for (const [eventId, leases] of groupBy(history.leases, (lease) => lease.eventId)) {
    leases.sort((a, b) => a.deliveryCount - b.deliveryCount);
    const row = rowsById.get(eventId);
    const counts = leases.map((lease) => lease.deliveryCount).join(',');
    if (counts !== leases.map((_, i) => i + 1).join(',')) violations.push(`count: ${eventId} answered delivery counts ${counts}`);
    if (row && row.delivery_count !== leases.length) violations.push(`count: ${eventId} has delivery_count ${row.delivery_count} after ${leases.length} receives`);
    let acks = 0;
    leases.forEach((lease, k) => {
      const own = byLease.get(lease.leaseId) ?? [];
      const released = own.filter((result) => result.outcome === 'released').map((result) => result.sentAt);
      const expiries = own.filter((result) => result.outcome === 'extended').map((result) => Date.parse(result.lease_expires_at!));
      const lastExpiry = Math.max(lease.expiresAt, ...expiries);
      for (const ack of own.filter((result) => result.outcome === 'acked')) {
        acks++;
        if (k !== leases.length - 1) violations.push(`ack: ${eventId} acked under lease ${k + 1} of ${leases.length}`);
        if (ack.sentAt > lastExpiry + 1) violations.push(`ack: ${eventId} acked by a request sent after its lease ended`);
      }
      const next = leases[k + 1];
      if (!next) return;
      // The next lease starts at its receive's now() (its expiry less its length), the database's
      // clock: it must not start before this lease's last expiry, unless this lease was released.
      // A release's time is only known on the test's clock (sent, answered), and a receive's now()
      // is taken before it plans and reads, so a receive that found the event released can start
      // a few ms before the release was sent; it cannot have been answered before that.
      const nextStart = next.expiresAt - LEASE_SECONDS * 1000;
      const releasedAt = Math.min(...released);
      if (nextStart < lastExpiry - 1 && !(next.answeredAt > releasedAt)) {
        const end = Math.min(lastExpiry, releasedAt);
        violations.push(`overlap: ${eventId} leased to ${next.worker} at ${nextStart} while ${lease.worker}'s lease ran until ${end}`);
      }
    });
    if (!row) continue;
    if (row.dead_lettered_at === null) {
      if (row.status !== 'delivered') violations.push(`terminal: ${eventId} is ${row.status}, neither delivered nor dead-lettered`);
      if (acks !== 1) violations.push(`ack: ${eventId} is ${row.status} and was acked ${acks} times`);
    } else if (acks !== 0 || row.delivery_count !== MAX_DELIVERIES) {
      violations.push(`ack: ${eventId} dead-lettered at delivery_count ${row.delivery_count} after ${acks} acks`);
    }
  }
  for (const row of rows) if (row.delivery_count === 0) violations.push(`terminal: ${row.id} was never received`);
  return violations;
}
