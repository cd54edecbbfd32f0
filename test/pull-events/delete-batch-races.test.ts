import { createPrismaClient } from '../../src/db/prisma';
import { buildApiKey, buildEndpoint, buildEvents, buildProject, eventRows, type TestProject } from '../support/factories';
import { startTestServer, testDatabaseUrl, type TestServer } from '../support/server';

const PATH = '/v1/pull-endpoints/{id}/events/delete-batch';
const ROUNDS = Number(process.env.RACE_ROUNDS ?? 25);
const EVENTS_PER_ROUND = 40;
const REQUESTS_PER_ROUND = 24;
const SEED = Number(process.env.RACE_SEED ?? Date.now() % 1_000_000);

/** mulberry32: a small seeded PRNG, so a failing interleaving's inputs can be replayed. */
function prng(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sample<T>(items: T[], size: number, random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, size);
}

// Two app instances with their own connection pools stand for two replicas on one database.
let replicas: TestServer[];
let owner: TestProject;
let keys: { key: string; id: string }[];

beforeAll(async () => {
  replicas = [
    await startTestServer({ db: createPrismaClient(testDatabaseUrl(), { poolSize: 12 }) }),
    await startTestServer({ db: createPrismaClient(testDatabaseUrl(), { poolSize: 12 }) }),
  ];
  owner = await buildProject(replicas[0]!.db);
  keys = [{ key: owner.apiKey, id: owner.apiKeyId }, await buildApiKey(replicas[0]!.db, owner.projectId)];
});
afterAll(async () => {
  for (const replica of replicas) {
    await replica.close();
    await replica.db.$disconnect();
  }
});

it(`reports each event deleted exactly once when ${REQUESTS_PER_ROUND} requests race on overlapping ids (seed ${SEED})`, async () => {
  const random = prng(SEED);
  const db = replicas[0]!.db;
  for (let round = 0; round < ROUNDS; round++) {
    const endpointId = await buildEndpoint(db, owner.projectId);
    const ids = await buildEvents(db, endpointId, EVENTS_PER_ROUND);
    const batches = Array.from({ length: REQUESTS_PER_ROUND }, () => ({
      ids: sample(ids, 5 + Math.floor(random() * 30), random),
      key: keys[Math.floor(random() * keys.length)]!,
      replica: replicas[Math.floor(random() * replicas.length)]!,
    }));

    const responses = await Promise.all(
      batches.map(({ ids: batch, key, replica }) =>
        replica.client(key.key).POST(PATH, { params: { path: { id: endpointId } }, body: { message_ids: batch } }),
      ),
    );

    const winners = new Map<string, { deletedAt: string; keyId: string }>();
    const losers = new Map<string, string[]>();
    responses.forEach(({ data, response }, i) => {
      expect({ round, seed: SEED, status: response.status }).toEqual({ round, seed: SEED, status: 200 });
      for (const result of data!.data.results) {
        if (result.outcome === 'deleted') {
          expect({ seed: SEED, round, doubleDelete: winners.has(result.event_id) }).toEqual({ seed: SEED, round, doubleDelete: false });
          winners.set(result.event_id, { deletedAt: result.deleted_at, keyId: batches[i]!.key.id });
        } else if (result.outcome === 'already_deleted') {
          losers.set(result.event_id, [...(losers.get(result.event_id) ?? []), result.deleted_at]);
        } else {
          throw new Error(`seed ${SEED} round ${round}: ${result.event_id} reported not_found`);
        }
      }
    });

    const requested = new Set(batches.flatMap((b) => b.ids));
    expect([...winners.keys()].sort()).toEqual([...requested].sort());
    for (const [id, stamps] of losers) {
      expect({ seed: SEED, round, id, stamps }).toEqual({ seed: SEED, round, id, stamps: stamps.map(() => winners.get(id)!.deletedAt) });
    }
    const rows = await eventRows(db, endpointId, ids);
    for (const row of rows) {
      const winner = winners.get(row.id);
      expect({ id: row.id, deletedAt: row.deletedAt?.toISOString() ?? null, by: row.deletedByApiKeyId }).toEqual({
        id: row.id,
        deletedAt: winner?.deletedAt ?? null,
        by: winner?.keyId ?? null,
      });
    }
  }
});
