import { createPullEventsClient } from '../../src/client';
import { createPrismaClient, type Database } from '../../src/db/prisma';
import { contract } from '../support/contract';
import { buildEndpointWithToken, buildProject } from '../support/factories';
import { testDatabaseUrl } from '../support/server';
import { postWebhook } from '../support/webhooks';
import { startFleet, type Fleet } from './fleet';

// Budgets are per minute and counted in Redis: whichever of the three replicas HAProxy picks, a
// key or an ingest URL gets its budget once in total, not once per replica.
const API_BUDGET = 12;
const INGEST_BUDGET = 9;
const REPLICAS = 3;

let fleet: Fleet;
let db: Database;

beforeAll(async () => {
  db = createPrismaClient(testDatabaseUrl());
  fleet = await startFleet({
    size: REPLICAS,
    env: { API_RATE_LIMIT_PER_MINUTE: String(API_BUDGET), INGEST_RATE_LIMIT_PER_MINUTE: String(INGEST_BUDGET) },
  });
}, 120_000);

afterAll(async () => {
  const codes = await fleet?.stop();
  await db?.$disconnect();
  expect(codes).toEqual(codes?.map(() => 0));
}, 60_000);

/** Sends `count` requests, `concurrency` at a time; each resolves to [status, replica that answered]. */
async function burst(count: number, concurrency: number, send: () => Promise<{ status: number; headers: Headers }>) {
  const answers: [number, string][] = [];
  let left = count;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left-- > 0) {
        const { status, headers } = await send();
        answers.push([status, headers.get('x-served-by') ?? '']);
      }
    }),
  );
  return answers;
}

const tally = (answers: [number, string][]) => ({
  statuses: answers.reduce<Record<number, number>>((counts, [status]) => ({ ...counts, [status]: (counts[status] ?? 0) + 1 }), {}),
  replicas: new Set(answers.map(([, replica]) => replica)).size,
});

it('holds an API key and an ingest URL to one budget across the replicas behind HAProxy', async () => {
  const owner = await buildProject(db);
  const endpoint = await buildEndpointWithToken(db, owner.projectId);
  const api = createPullEventsClient({ baseUrl: fleet.haproxy.baseUrl, apiKey: owner.apiKey, middleware: [contract.middleware()], retries: 0 });

  const apiAnswers = tally(await burst(API_BUDGET * REPLICAS, 4, async () => (await api.GET('/v1/pull-endpoints', {})).response));
  const ingestAnswers = tally(await burst(INGEST_BUDGET * REPLICAS, 4, () => postWebhook(fleet.haproxy.baseUrl, endpoint.ingestPath, '{"a": 1}')));
  const stored = await db.pullEvent.count({ where: { pullEndpointId: endpoint.id } });
  console.log(
    `lb rate limits over ${REPLICAS} replicas: API budget ${API_BUDGET}/min, ${API_BUDGET * REPLICAS} requests -> ${JSON.stringify(apiAnswers.statuses)} from ${apiAnswers.replicas} replicas; ` +
      `ingest budget ${INGEST_BUDGET}/min, ${INGEST_BUDGET * REPLICAS} webhooks -> ${JSON.stringify(ingestAnswers.statuses)} from ${ingestAnswers.replicas} replicas, ${stored} stored`,
  );

  expect(apiAnswers).toEqual({ statuses: { 200: API_BUDGET, 429: API_BUDGET * (REPLICAS - 1) }, replicas: REPLICAS });
  expect(ingestAnswers).toEqual({ statuses: { 202: INGEST_BUDGET, 429: INGEST_BUDGET * (REPLICAS - 1) }, replicas: REPLICAS });
  expect(stored).toBe(INGEST_BUDGET);
});
