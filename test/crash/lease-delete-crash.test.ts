import pg from 'pg';
import type { components } from '../../generated/openapi';
import { decodeLeaseId } from '../../src/pull-events/leases';
import { createPrismaClient } from '../../src/db/prisma';
import { answered, between, crashRounds, crashSeed, CrashRig, seededRandom, send, sleep, succeeded, type Answer } from '../support/crash';
import { buildEndpoint, buildEvents, buildProject } from '../support/factories';
import { waitFor } from '../support/processes';

// Workers hold short leases and batch deletes run while the service is killed with SIGKILL, several
// times. Afterwards every lease ran out or was acknowledged, nothing was acknowledged twice or lost,
// each batch delete was applied whole or not at all, and the table agrees with every 2xx. Issue 12.

type Schemas = components['schemas'];
const LEASE_SECONDS = 2;
const LEASE_WORKERS = 3;
const DELETE_BATCH = 10;

interface Lease {
  eventId: string;
  leaseId: string;
  deliveryCount: number;
}
interface Ack {
  leases: Lease[];
  answer: Answer<Schemas['LeaseAckResponse']>;
}
interface Delete {
  ids: string[];
  answer: Answer<Schemas['DeleteBatchResponse']>;
}
interface Row {
  id: string;
  status: 'stored' | 'fetched' | 'delivered';
  lease_id: string | null;
  delivery_count: number;
  fetched_at: Date | null;
  deleted_at: Date | null;
  deleted_by_api_key_id: string | null;
}

/** The endpoint's events and its day counters of the transitions checked here. */
async function readBack(url: string, endpointId: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  // One snapshot for every read: a statement of a killed service may still be committing.
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const rows = (await client.query<Row>(`
      SELECT id::text, status, lease_id::text, delivery_count, fetched_at, deleted_at, deleted_by_api_key_id::text
      FROM pull_events WHERE pull_endpoint_id = $1`, [endpointId])).rows;
    const counters = (await client.query<{ kind: string; events: number }>(`
      SELECT kind, sum(events)::int AS events FROM pull_event_metrics
      WHERE scope_id = $1 AND bucket_seconds = 86400 GROUP BY kind`, [endpointId])).rows;
    return { rows: new Map(rows.map((row) => [row.id, row])), counters: new Map(counters.map((c) => [c.kind, c.events])) };
  } finally {
    await client.end();
  }
}

it('after kill -9 under leases and batch deletes, leases run out and come back, nothing is acked twice or lost, batches are whole', async () => {
  const seed = crashSeed();
  const rounds = crashRounds();
  console.log(`lease/delete crash proof: CRASH_SEED=${seed} CRASH_ROUNDS=${rounds}`);
  const random = seededRandom(seed);
  const moments = seededRandom(seed ^ 0x5eed);
  const rig = await CrashRig.start();
  try {
    const db = createPrismaClient(rig.url);
    const project = await buildProject(db, 'crash proof');
    const endpointId = await buildEndpoint(db, project.projectId);
    const ids = await buildEvents(db, endpointId, 600 + rounds * 400);
    await db.$disconnect();
    // Disjoint batches of random events (leased, acked or not): each event is in at most one.
    const shuffled = [...ids];
    for (let i = shuffled.length - 1; i > 0; i -= 1) {
      const j = between(random, 0, i);
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    const batches = Array.from({ length: rounds * 15 }, (_, i) => shuffled.slice(i * DELETE_BATCH, (i + 1) * DELETE_BATCH));
    await rig.startService();

    const api = <T>(operation: string, body: unknown) =>
      send<T>(`${rig.baseUrl}/v1/pull-endpoints/${endpointId}/events/${operation}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${project.apiKey}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
    const leases: Lease[] = [];
    const acks: Ack[] = [];
    const deletes: Delete[] = [];
    let receivesUnanswered = 0;
    let unansweredCapacity = 0;
    let held = 0;
    let deleting = 0;
    const atCrashes = { leases: 0, deletes: 0 };

    /** One receive, a pause as if handling, then an ack of all but the abandoned (left to run out). */
    const work = async (abandonShare: number, maxEvents: number, pauseMs: [number, number]) => {
      const answer = await api<Schemas['ReceiveResponse']>('receive', { max_events: maxEvents, lease_seconds: LEASE_SECONDS });
      if (!succeeded(answer)) {
        receivesUnanswered += 1;
        unansweredCapacity += maxEvents;
        return undefined;
      }
      const taken = answer.body!.data.events.map((e) => ({ eventId: e.id, leaseId: e.lease_id, deliveryCount: e.delivery_count }));
      leases.push(...taken);
      held += taken.length;
      await sleep(between(random, ...pauseMs));
      const kept = taken.filter(() => random() >= abandonShare);
      if (kept.length > 0) acks.push({ leases: kept, answer: await api<Schemas['LeaseAckResponse']>('leases/ack', { lease_ids: kept.map((l) => l.leaseId) }) });
      held -= taken.length;
      return taken.length;
    };

    let running = true;
    const load = Promise.all([
      ...Array.from({ length: LEASE_WORKERS }, async () => {
        while (running) {
          if (!rig.serviceUp) await sleep(50);
          else if (!(await work(0.2, 5, [50, 400]))) await sleep(200);
        }
      }),
      (async () => {
        for (const batch of batches) {
          while (running && !rig.serviceUp) await sleep(50);
          if (!running) break;
          deleting += 1;
          deletes.push({ ids: batch, answer: await api<Schemas['DeleteBatchResponse']>('delete-batch', { message_ids: batch }) });
          deleting -= 1;
          await sleep(between(random, 100, 400));
        }
      })(),
    ]);
    const twoXx = () => acks.filter((a) => succeeded(a.answer)).length + deletes.filter((d) => succeeded(d.answer)).length;
    try {
      for (let round = 0; round < rounds; round += 1) {
        // The kill falls at a random moment once the (re)started service is taking work.
        const before = twoXx();
        await waitFor(async () => twoXx() > before, 30_000, 'a 2xx under load');
        await sleep(between(moments, 200, 2000));
        atCrashes.leases += held;
        atCrashes.deletes += deleting;
        await rig.killService();
        await rig.restartService();
      }
      await sleep(1000);
    } finally {
      running = false;
      await load;
    }
    // Drain: take and ack everything until nothing has been receivable for longer than a lease.
    const drainUntil = Date.now() + 60_000;
    for (let quietSince = Date.now(); Date.now() - quietSince < (LEASE_SECONDS + 1) * 1000 && Date.now() < drainUntil; ) {
      if (await work(0, 100, [0, 0])) quietSince = Date.now();
      else await sleep(200);
    }

    const { rows, counters } = await readBack(rig.url, endpointId);
    const problems: string[] = [];
    const leasesOf = new Map<string, Lease[]>();
    for (const lease of leases) leasesOf.set(lease.eventId, [...(leasesOf.get(lease.eventId) ?? []), lease]);
    const ackedBy = new Map<string, Lease[]>();
    const expiredAcks = new Set<string>();
    for (const { leases: sent, answer } of acks) {
      if (!succeeded(answer)) continue;
      answer.body!.data.results.forEach((result, i) => {
        const lease = sent[i]!;
        if (result.lease_id !== lease.leaseId) problems.push(`an ack answered out of order (${result.lease_id})`);
        if (result.outcome === 'acked') ackedBy.set(lease.eventId, [...(ackedBy.get(lease.eventId) ?? []), lease]);
        if (result.outcome === 'lease_expired') expiredAcks.add(lease.leaseId);
        if (result.outcome === 'not_found' && !rows.get(lease.eventId)?.deleted_at) problems.push(`ack of ${lease.eventId}: not_found, but it is not deleted`);
      });
    }
    const unansweredAcks = new Set(acks.filter((a) => !succeeded(a.answer)).flatMap((a) => a.leases.map((l) => l.leaseId)));
    const leaseUuid = (lease: Lease) => decodeLeaseId(lease.leaseId)?.leaseId;

    const figures = { reReceived: 0, ackAnswerLost: 0, deletedWhileLeased: 0, deliveredByDrain: 0 };
    for (const id of ids) {
      const row = rows.get(id);
      if (!row) {
        problems.push(`event ${id} is gone from the table`);
        continue;
      }
      // Lost: every event ends acknowledged or deleted (the drain took what was left).
      if (row.status !== 'delivered' && !row.deleted_at) problems.push(`event ${id} is ${row.status}, neither acked nor deleted`);
      const own = leasesOf.get(id) ?? [];
      const counts = own.map((l) => l.deliveryCount);
      if (new Set(counts).size !== counts.length) problems.push(`event ${id} was leased twice with one delivery count (${counts.join(', ')})`);
      if (Math.max(0, ...counts) > row.delivery_count) problems.push(`event ${id}: delivery_count ${row.delivery_count} is below an answered ${Math.max(...counts)}`);
      if (own.length > 0 && !row.fetched_at) problems.push(`event ${id} was leased but has no fetched_at`);
      const acked = ackedBy.get(id) ?? [];
      if (acked.length > 1) problems.push(`event ${id} was acked ${acked.length} times`);
      for (const lease of acked) {
        if (row.status !== 'delivered' || row.lease_id !== leaseUuid(lease)) problems.push(`event ${id}: acked with ${lease.leaseId} but the table says ${row.status}/${row.lease_id}`);
        if (own.some((l) => l.deliveryCount > lease.deliveryCount)) problems.push(`event ${id} was leased again after its ack`);
      }
      for (const lease of own) {
        if (acked.includes(lease)) continue;
        if (expiredAcks.has(lease.leaseId) && row.status === 'delivered' && row.lease_id === leaseUuid(lease)) {
          problems.push(`event ${id}: an ack answered lease_expired, yet the table has it acked by that lease`);
        }
        // A lease never acked with a 2xx: it ran out and the event came back, or its ack committed unanswered, or it was deleted.
        if (row.delivery_count > lease.deliveryCount) figures.reReceived += 1;
        else if (row.status === 'delivered' && row.lease_id === leaseUuid(lease) && unansweredAcks.has(lease.leaseId)) figures.ackAnswerLost += 1;
        else if (row.deleted_at) figures.deletedWhileLeased += 1;
        else problems.push(`event ${id}: lease ${lease.leaseId} neither ran out, nor was acked, nor was the event deleted`);
      }
      if (row.status === 'delivered' && acked.length === 0 && !own.some((l) => row.lease_id === leaseUuid(l) && unansweredAcks.has(l.leaseId))) {
        problems.push(`event ${id} is acked, but by no ack that was sent`);
      }
    }

    const batchOf = new Map(deletes.flatMap((d, i) => d.ids.map((id) => [id, i] as const)));
    const outcomes = { answered: 0, appliedUnanswered: 0, notApplied: 0 };
    for (const { ids: batch, answer } of deletes) {
      const times = new Set(batch.map((id) => rows.get(id)?.deleted_at?.toISOString() ?? null));
      if (succeeded(answer)) {
        outcomes.answered += 1;
        for (const result of answer.body!.data.results) {
          const row = rows.get(result.event_id);
          if (result.outcome !== 'deleted') {
            problems.push(`delete-batch: ${result.event_id} ${result.outcome}`);
            continue;
          }
          if (row?.deleted_at?.toISOString() !== result.deleted_at) problems.push(`delete-batch: ${result.event_id} deleted_at ${row?.deleted_at?.toISOString()}, answered ${result.deleted_at}`);
          if (row?.deleted_by_api_key_id !== project.apiKeyId) problems.push(`delete-batch: ${result.event_id} deleted by ${row?.deleted_by_api_key_id}`);
        }
      } else if (times.size !== 1) {
        problems.push(`a failed batch delete was half applied: ${[...times].map((t) => t ?? 'not deleted').join(', ')}`);
      } else if (times.has(null)) outcomes.notApplied += 1;
      else outcomes.appliedUnanswered += 1;
    }
    for (const id of ids) if (rows.get(id)?.deleted_at && !batchOf.has(id)) problems.push(`event ${id} is deleted by no batch sent`);

    // The rollup is written by the statement that makes each transition: a crash cannot split them.
    const all = [...rows.values()];
    const expected = {
      fetched: all.filter((r) => r.fetched_at).length,
      delivered: all.filter((r) => r.status === 'delivered').length,
      deleted: all.filter((r) => r.deleted_at).length,
      redelivered: all.reduce((sum, r) => sum + Math.max(0, r.delivery_count - 1), 0),
    };
    for (const [kind, count] of Object.entries(expected)) {
      if ((counters.get(kind) ?? 0) !== count) problems.push(`rollup: ${kind} counted ${counters.get(kind) ?? 0}, the events say ${count}`);
    }
    // Leases handed out by receives whose answer was lost, and so unknown here, stay within those receives.
    const unknownDeliveries = all.reduce((sum, r) => sum + r.delivery_count, 0) - leases.length;
    if (unknownDeliveries < 0 || unknownDeliveries > unansweredCapacity) problems.push(`${unknownDeliveries} deliveries no receive answered (${receivesUnanswered} unanswered)`);

    expect(problems.slice(0, 20)).toEqual([]);
    expect(figures.reReceived).toBeGreaterThan(0);
    expect(outcomes.answered).toBeGreaterThan(0);

    const ackAnswers = acks.filter((a) => succeeded(a.answer));
    console.log(
      `lease/delete crash figures: seed ${seed}; crashes injected ${rounds} (service kill -9; leases held at them ${atCrashes.leases}, batch deletes in flight ${atCrashes.deletes}); ` +
        `events ${ids.length}; leases taken ${leases.length}, of which expired and re-received ${figures.reReceived}, acked with the answer lost ${figures.ackAnswerLost}, ` +
        `deleted while leased ${figures.deletedWhileLeased}; receives unanswered ${receivesUnanswered}; acks sent ${acks.length} (2xx ${ackAnswers.length}, ` +
        `no answer ${acks.filter((a) => !answered(a.answer)).length}), events acked ${ackedBy.size}, acked twice 0; ` +
        `batch deletes checked ${deletes.length} (2xx ${outcomes.answered}, failed and applied whole ${outcomes.appliedUnanswered}, failed and not applied ${outcomes.notApplied}), ` +
        `events deleted ${expected.deleted}, delivered ${expected.delivered}, lost 0`,
    );
  } finally {
    await rig.close();
  }
}, 90_000 + crashRounds() * 15_000);
