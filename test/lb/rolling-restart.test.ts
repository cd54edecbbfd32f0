import { randomBytes, randomUUID } from 'node:crypto';
import { createPullEventsClient, type PullEventsClient } from '../../src/client';
import { createPrismaClient, type Database } from '../../src/db/prisma';
import { buildEndpointWithToken, buildProject, type TestProject } from '../support/factories';
import { ROUTE_HEADER } from '../support/haproxy';
import { testDatabaseUrl } from '../support/server';
import { postWebhook } from '../support/webhooks';
import { startFleet, type Fleet } from './fleet';
import { call, loop, newTally, replicaContract, retriedCount, sleep, type Answer, type Tally } from './load';

// Three replicas behind HAProxy, under continuous mixed load sent through it, are stopped with
// SIGTERM and started again one after the other, as a rolling deploy does. LB_ROUNDS=n restarts
// each replica n times; LB_DRAIN_MS sets the replicas' SHUTDOWN_DRAIN_MS (0 shows what it prevents).
const ROUNDS = Number(process.env.LB_ROUNDS ?? 1);
const DRAIN_MS = Number(process.env.LB_DRAIN_MS ?? 3000);
// Out of rotation within fall x inter (+ one check) of SIGTERM: well inside the 3 s drain.
const CHECKS = { interMs: 500, fall: 2, rise: 2 };
const REPLICAS = 3;
const LONG_POLL_SECONDS = 20;

let fleet: Fleet;
let db: Database;
let owner: TestProject;

beforeAll(async () => {
  db = createPrismaClient(testDatabaseUrl());
  owner = await buildProject(db);
  fleet = await startFleet({ size: REPLICAS, env: { SHUTDOWN_DRAIN_MS: String(DRAIN_MS) }, checks: CHECKS });
}, 120_000);

afterAll(async () => {
  const codes = await fleet?.stop();
  await db?.$disconnect();
  expect(codes).toEqual(codes?.map(() => 0));
}, 60_000);

interface Poll {
  sentAt: number;
  answeredAt: number;
  servedBy: string | null;
  events: number;
}

/** One receive of a long-polling client, through the balancer (to `pin`'s replica when given). */
async function receive(api: PullEventsClient, tally: Tally, endpointId: string, pin?: string): Promise<Poll | undefined> {
  const sentAt = Date.now();
  const answer = await call(tally, 'receive (long poll)', false, async () => {
    const { data, response } = await api.POST('/v1/pull-endpoints/{id}/events/receive', {
      params: { path: { id: endpointId } },
      body: { max_events: 1, wait_seconds: LONG_POLL_SECONDS, lease_seconds: 60 },
      ...(pin && { headers: { [ROUTE_HEADER]: pin } }),
    });
    return { status: response.status, headers: response.headers, value: data?.data.events.length ?? 0 };
  });
  return answer && { sentAt, answeredAt: Date.now(), servedBy: answer.headers.get('x-served-by'), events: answer.value };
}

/** A client polling until it gets an event (at most 10 polls); its first poll goes to `pin` when given. */
async function pollUntilEvent(api: PullEventsClient, tally: Tally, endpointId: string, pin?: string): Promise<Poll[]> {
  const polls: Poll[] = [];
  for (let i = 0; i < 10; i++) {
    const poll = await receive(api, tally, endpointId, i === 0 ? pin : undefined);
    if (!poll) break;
    polls.push(poll);
    if (poll.events > 0) break;
  }
  return polls;
}

async function ingest(baseUrl: string, tally: Tally, ingestPath: string, body: Buffer, contentType: string): Promise<Answer<string> | undefined> {
  return call(
    tally,
    'ingest',
    false,
    async () => {
      const answer = await postWebhook(baseUrl, ingestPath, body, { 'content-type': contentType });
      return { status: answer.status, headers: answer.headers, value: answer.body.data?.event_id };
    },
    [202],
  );
}

it('restarts every replica in turn under load through HAProxy, and no request fails', async () => {
  const { haproxy } = fleet;
  const api = createPullEventsClient({ baseUrl: haproxy.baseUrl, apiKey: owner.apiKey, middleware: [replicaContract()], retries: 0 });
  const busy = [await buildEndpointWithToken(db, owner.projectId), await buildEndpointWithToken(db, owner.projectId)];
  const tally = newTally();
  const stored = new Map<string, { body: Buffer; servedBy: string | null; at: number }>();
  const acked: string[][] = busy.map(() => []);
  let running = true;
  let sequence = 0;

  const load = Promise.all([
    // Webhooks to two endpoints, every fifth one binary.
    loop(3, () => running, async (worker) => {
      const n = sequence++;
      const endpoint = busy[n % busy.length]!;
      const binary = n % 5 === 0;
      const body = binary ? randomBytes(64 + (n % 200)) : Buffer.from(JSON.stringify({ worker, n, nonce: randomUUID() }));
      const answer = await ingest(haproxy.baseUrl, tally, endpoint.ingestPath, body, binary ? 'application/octet-stream' : 'application/json');
      if (answer) stored.set(answer.value, { body, servedBy: answer.headers.get('x-served-by'), at: Date.now() });
    }),
    loop(2, () => running, async (worker) => {
      await call(tally, 'list events', true, async () => {
        const { data, response } = await api.GET('/v1/pull-endpoints/{id}/events', { params: { path: { id: busy[worker % busy.length]!.id }, query: { limit: 20 } } });
        return { status: response.status, headers: response.headers, value: data };
      });
    }),
    // Workers: long-polling receives, then acks of their leases.
    loop(2, () => running, async (worker) => {
      const id = busy[worker % busy.length]!.id;
      const received = await call(tally, 'receive', false, async () => {
        const { data, response } = await api.POST('/v1/pull-endpoints/{id}/events/receive', { params: { path: { id } }, body: { max_events: 10, wait_seconds: 2, lease_seconds: 60 } });
        return { status: response.status, headers: response.headers, value: data?.data.events ?? [] };
      });
      if (!received || received.value.length === 0) return;
      const answer = await call(tally, 'ack leases', true, async () => {
        const { data, response } = await api.POST('/v1/pull-endpoints/{id}/events/leases/ack', { params: { path: { id } }, body: { lease_ids: received.value.map((event) => event.lease_id) } });
        return { status: response.status, headers: response.headers, value: data?.data.results ?? [] };
      });
      for (const result of answer?.value ?? []) {
        if (result.outcome === 'acked' || result.outcome === 'already_acked') acked[worker % busy.length]!.push(result.event_id!);
        else tally.failures.push(`ack leases: outcome ${result.outcome}`);
      }
    }),
    // Cleanup of what was acked, with an id that never existed in every batch.
    loop(1, () => running, async () => {
      for (const [i, endpoint] of busy.entries()) {
        const ids = [...acked[i]!.splice(0, 30), randomUUID()];
        await call(tally, 'delete-batch', true, async () => {
          const { data, response } = await api.POST('/v1/pull-endpoints/{id}/events/delete-batch', { params: { path: { id: endpoint.id } }, body: { message_ids: ids } });
          return { status: response.status, headers: response.headers, value: data };
        });
      }
    }),
  ]);

  const restarts: { name: string; code: number | null; statusAtExit: string; signalledAt: number; exitedAt: number; upAt: number; pinned: Poll[][]; free: Poll[][] }[] = [];
  try {
    await sleep(1000);
    for (let round = 0; round < ROUNDS; round++) {
      for (let index = 0; index < REPLICAS; index++) {
        const name = fleet.names[index]!;
        // Clients long polling an endpoint nothing arrives at: four wait on the replica about to stop.
        const quiet = await buildEndpointWithToken(db, owner.projectId);
        const pinned = Array.from({ length: 4 }, () => pollUntilEvent(api, tally, quiet.id, name));
        const free = Array.from({ length: 2 }, () => pollUntilEvent(api, tally, quiet.id));
        await sleep(500);
        const signalledAt = Date.now();
        const { code, statusAtExit } = await fleet.stopReplica(index);
        const exitedAt = Date.now();
        for (let i = 0; i < pinned.length + free.length; i++) {
          const body = Buffer.from(JSON.stringify({ quiet: i }));
          const answer = await ingest(haproxy.baseUrl, tally, quiet.ingestPath, body, 'application/json');
          if (answer) stored.set(answer.value, { body, servedBy: answer.headers.get('x-served-by'), at: Date.now() });
        }
        await fleet.restartReplica(index);
        const upAt = Date.now();
        restarts.push({ name, code, statusAtExit, signalledAt, exitedAt, upAt, pinned: await Promise.all(pinned), free: await Promise.all(free) });
      }
    }
    await sleep(1000);
  } finally {
    running = false;
    await load;
  }

  // Every webhook answered 2xx is in the table, byte for byte (deleted ones too: deletes are soft).
  const rows = await db.pullEvent.findMany({ where: { id: { in: [...stored.keys()] } }, select: { id: true, payload: true } });
  const intact = new Set(rows.filter((row) => row.payload && Buffer.from(row.payload).equals(stored.get(row.id)!.body)).map((row) => row.id));
  const found = intact.size;
  const missing = [...stored].filter(([id]) => !intact.has(id));
  const onStopping = restarts.flatMap((restart) => restart.pinned.map((polls) => ({ restart, first: polls[0], next: polls[1] })));
  const emptyOnStopping = onStopping.filter(({ restart, first }) => first?.servedBy === restart.name && first.events === 0 && first.answeredAt >= restart.signalledAt);
  const answeredAfter = emptyOnStopping.map(({ restart, first }) => first!.answeredAt - restart.signalledAt);
  const stats = [...(await haproxy.stats()).values()];
  console.log(
    `lb rolling restart: ${restarts.length} restarts (LB_ROUNDS=${ROUNDS}, SHUTDOWN_DRAIN_MS=${DRAIN_MS}), ${tally.requests} requests through HAProxy, ` +
      `${tally.failures.length} failed, ${retriedCount(tally)} safely retried by the client ${JSON.stringify(Object.fromEntries(tally.retried))}, ` +
      `${stats.reduce((n, s) => n + s.redispatches, 0)} redispatched by HAProxy (refused connections); ` +
      `webhooks 2xx'd ${stored.size}, found ${found}; long polls on stopping replicas answered empty ${emptyOnStopping.length}/${onStopping.length} ` +
      `(${Math.min(...answeredAfter)}-${Math.max(...answeredAfter)} ms after SIGTERM), next poll elsewhere ${onStopping.filter(({ restart, next }) => next && next.servedBy !== restart.name).length}; ` +
      `replicas down in HAProxy when they exited ${restarts.filter((r) => r.statusAtExit === 'DOWN').length}/${restarts.length}; ` +
      `SIGTERM to exit / restart to UP (ms): ${restarts.map((r) => `${r.exitedAt - r.signalledAt}/${r.upAt - r.exitedAt}`).join(' ')}`,
  );
  if (missing.length > 0) {
    const start = restarts[0]?.signalledAt ?? 0;
    console.log(`webhooks 2xx'd and not found intact (ms from the first SIGTERM): ${JSON.stringify(missing.map(([id, m]) => ({ id, servedBy: m.servedBy, at: m.at - start, bytes: m.body.length, row: rows.find((r) => r.id === id)?.payload?.length ?? null })))}; ` +
      `restarts: ${JSON.stringify(restarts.map((r) => ({ name: r.name, sigterm: r.signalledAt - start, exited: r.exitedAt - start, up: r.upAt - start })))}`);
  }
  if (tally.failures.length > 0) {
    const errors = haproxy.output().split('\n').filter((line) => /\] api .* 5\d\d /.test(line));
    console.log(`failures:\n${tally.failures.slice(0, 20).join('\n')}\nHAProxy's 5xx:\n${errors.slice(0, 20).join('\n')}`);
  }

  expect(tally.failures).toEqual([]);
  expect(found).toBe(stored.size);
  for (const restart of restarts) {
    expect(restart).toMatchObject({ code: 0, statusAtExit: 'DOWN' });
    for (const polls of [...restart.pinned, ...restart.free]) {
      // Each client got its event in the end, from a replica still in rotation.
      expect(polls.at(-1)).toMatchObject({ events: 1 });
      expect(polls.at(-1)!.servedBy).not.toBe(restart.name);
    }
  }
  // Long polls waiting on a stopping replica: answered 200 with no events once it stopped serving,
  // long before their wait ran out; the client's very next poll went to another replica.
  expect(emptyOnStopping).toHaveLength(onStopping.length);
  for (const { first } of emptyOnStopping) expect(first!.answeredAt - first!.sentAt).toBeLessThan(LONG_POLL_SECONDS * 1000);
  for (const { restart, next } of onStopping) expect(next?.servedBy).not.toBe(restart.name);
}, 60_000 + ROUNDS * REPLICAS * 40_000);
