import { DEFAULT_REJECTIONS_KEPT } from '../../src/config';
import { createPrismaClient } from '../../src/db/prisma';
import { nextEventId } from '../../src/pull-events/ids';
import pino from 'pino';
import { startSweeper, sweep } from '../../src/sweeper/sweeper';
import { waitFor } from '../support/processes';
import { buildEndpoint, buildEndpointWithToken, buildEvents, buildProject, markDeleted, type TestProject } from '../support/factories';
import { runTs } from '../support/processes';
import { startTestServer, testDatabaseUrl, type TestServer } from '../support/server';

const DAY = 86_400_000;
const settings = { graceSeconds: 0, batchSize: 7 };

let server: TestServer;
let owner: TestProject;
beforeAll(async () => {
  server = await startTestServer();
  owner = await buildProject(server.db);
});
afterAll(() => server.close());

async function rowsOf(endpointId: string) {
  return server.db.pullEvent.findMany({ where: { pullEndpointId: endpointId }, orderBy: { id: 'asc' } });
}

/** Events received `daysAgo` days ago, inserted directly with ids of that time. */
async function oldEvents(endpointId: string, count: number, daysAgo: number) {
  let last: string | undefined;
  const ids = Array.from({ length: count }, () => (last = nextEventId(last, Date.now() - daysAgo * DAY)));
  await server.db.pullEvent.createMany({
    data: ids.map((id) => ({ pullEndpointId: endpointId, id, eventType: 'old', receivedAt: new Date(Date.now() - daysAgo * DAY), payload: Buffer.from(JSON.stringify({ id })) })),
  });
  return ids;
}

it('erases headers and payloads of deleted events in bounded batches, and leaves live events alone', async () => {
  const endpointId = await buildEndpoint(server.db, owner.projectId);
  const ids = await buildEvents(server.db, endpointId, 20);
  await server.client(owner.apiKey).POST('/v1/pull-endpoints/{id}/events/delete-batch', {
    params: { path: { id: endpointId } },
    body: { message_ids: ids.slice(0, 15) },
  });

  await sweep(server.db, settings);

  const rows = await rowsOf(endpointId);
  for (const row of rows.slice(0, 15)) expect(row).toMatchObject({ payload: null, headers: {}, payloadErasedAt: expect.any(Date) });
  for (const row of rows.slice(15)) {
    expect(row.payloadErasedAt).toBeNull();
    expect(JSON.parse(Buffer.from(row.payload!).toString('utf8'))).toMatchObject({ id: row.id });
  }
  const preview = await server.client(owner.apiKey).GET('/v1/pull-endpoints/{id}/events/{event_id}', {
    params: { path: { id: endpointId, event_id: ids[0]! }, query: { preview: true } },
  });
  expect(preview.data!.data).toMatchObject({ payload: null, deleted_at: expect.any(String), deleted_by_api_key_id: owner.apiKeyId });
});

it('keeps payloads of events deleted within the grace period', async () => {
  const endpointId = await buildEndpoint(server.db, owner.projectId);
  const [id] = await buildEvents(server.db, endpointId, 1);
  await markDeleted(server.db, endpointId, id!, new Date(), owner.apiKeyId);
  await sweep(server.db, { ...settings, graceSeconds: 3600 });
  expect((await rowsOf(endpointId))[0]!.payloadErasedAt).toBeNull();
});

it('deletes and erases events older than the endpoint’s retention_days; they then answer 410', async () => {
  const { id: endpointId } = await buildEndpointWithToken(server.db, owner.projectId, { retention_days: 7 });
  const old = await oldEvents(endpointId, 9, 8);
  const recent = await oldEvents(endpointId, 2, 6);

  const result = await sweep(server.db, settings);

  expect(result.expired).toBeGreaterThanOrEqual(9);
  const rows = await rowsOf(endpointId);
  for (const row of rows.filter((r) => old.includes(r.id))) {
    expect(row).toMatchObject({ deletedAt: expect.any(Date), deletedByApiKeyId: null, payload: null });
  }
  for (const row of rows.filter((r) => recent.includes(r.id))) expect(row).toMatchObject({ deletedAt: null, payloadErasedAt: null });
  const { response } = await server.client(owner.apiKey).GET('/v1/pull-endpoints/{id}/events/{event_id}', {
    params: { path: { id: endpointId, event_id: old[0]! } },
  });
  expect(response.status).toBe(410);
});

it('applies DEFAULT_RETENTION_DAYS to endpoints whose retention_days is null, and only to them', async () => {
  const { id: defaulted } = await buildEndpointWithToken(server.db, owner.projectId, { retention_days: null });
  const { id: ownRetention } = await buildEndpointWithToken(server.db, owner.projectId, { retention_days: 30 });
  const defaultedOld = await oldEvents(defaulted, 2, 8);
  const defaultedRecent = await oldEvents(defaulted, 2, 6);
  const keptByOwn = await oldEvents(ownRetention, 2, 8);

  await sweep(server.db, { ...settings, defaultRetentionDays: 7 });

  const expired = (rows: { id: string; deletedAt: Date | null }[], ids: string[]) =>
    rows.filter((row) => ids.includes(row.id)).map((row) => row.deletedAt !== null);
  expect(expired(await rowsOf(defaulted), defaultedOld)).toEqual([true, true]);
  expect(expired(await rowsOf(defaulted), defaultedRecent)).toEqual([false, false]);
  expect(expired(await rowsOf(ownRetention), keptByOwn)).toEqual([false, false]);
});

it('prunes metrics minute rows past 26 hours and hour rows past 32 days, of endpoints and projects; day rows stay', async () => {
  const project = await buildProject(server.db, 'metrics pruning');
  const { id: endpointId } = await buildEndpointWithToken(server.db, project.projectId);
  const HOUR = 3_600_000;
  const rows = [
    { bucketSeconds: 60, ago: 27 * HOUR, kept: false },
    { bucketSeconds: 60, ago: 25 * HOUR, kept: true },
    { bucketSeconds: 3600, ago: 33 * 24 * HOUR, kept: false },
    { bucketSeconds: 3600, ago: 31 * 24 * HOUR, kept: true },
    { bucketSeconds: 86400, ago: 400 * 24 * HOUR, kept: true },
  ];
  for (const scopeId of [endpointId, project.projectId]) {
    await server.db.pullEventMetric.createMany({
      data: rows.map((row) => {
        const at = Date.now() - row.ago;
        return {
          scopeId,
          bucketSeconds: row.bucketSeconds,
          bucketStart: new Date(at - (at % (row.bucketSeconds * 1000))),
          kind: 'received',
          slot: 0,
          shard: 0,
          events: 1n,
          sumMs: 0n,
        };
      }),
    });
  }

  const result = await sweep(server.db, settings);

  expect(result.metricsPruned).toBeGreaterThanOrEqual(4);
  for (const scopeId of [endpointId, project.projectId]) {
    const left = await server.db.pullEventMetric.findMany({ where: { scopeId }, orderBy: [{ bucketSeconds: 'asc' }, { bucketStart: 'asc' }] });
    expect(left.map((row) => row.bucketSeconds)).toEqual(rows.filter((row) => row.kept).map((row) => row.bucketSeconds));
  }
});

it('keeps the newest rejections of each endpoint and none of a deleted endpoint', async () => {
  const live = await buildEndpointWithToken(server.db, owner.projectId);
  const deleted = await buildEndpointWithToken(server.db, owner.projectId);
  // More than the default keeps, inserted directly; a sweep with a smaller bound would also trim
  // the rejections other test files running at the same time are reading.
  for (const endpoint of [live, deleted]) {
    let id: string | undefined;
    await server.db.pullEndpointRejection.createMany({
      data: Array.from({ length: DEFAULT_REJECTIONS_KEPT + 5 }, () => ({
        pullEndpointId: endpoint.id,
        id: (id = nextEventId(id)),
        reason: 'bad_signature',
        sourceIp: '192.0.2.1',
        method: 'POST',
      })),
    });
  }
  await server.client(owner.apiKey).DELETE('/v1/pull-endpoints/{id}', { params: { path: { id: deleted.id } } });
  const before = await server.db.pullEndpointRejection.findMany({ where: { pullEndpointId: live.id }, orderBy: { id: 'asc' } });

  const result = await sweep(server.db, settings);

  const kept = await server.db.pullEndpointRejection.findMany({ where: { pullEndpointId: live.id }, orderBy: { id: 'asc' } });
  expect(kept.map((r) => r.id)).toEqual(before.slice(5).map((r) => r.id));
  expect(await server.db.pullEndpointRejection.count({ where: { pullEndpointId: deleted.id } })).toBe(0);
  expect(result.rejectionsTrimmed).toBeGreaterThanOrEqual(5 + DEFAULT_REJECTIONS_KEPT + 5);
});

it('erases every payload of a deleted endpoint', async () => {
  const endpointId = await buildEndpoint(server.db, owner.projectId);
  await buildEvents(server.db, endpointId, 10);
  await server.client(owner.apiKey).DELETE('/v1/pull-endpoints/{id}', { params: { path: { id: endpointId } } });
  await sweep(server.db, settings);
  expect((await rowsOf(endpointId)).every((row) => row.payload === null && row.payloadErasedAt !== null)).toBe(true);
});

it('erases everything without errors when several replicas sweep at once', async () => {
  const endpointId = await buildEndpoint(server.db, owner.projectId);
  const ids = await buildEvents(server.db, endpointId, 300);
  await server.db.pullEvent.updateMany({ where: { pullEndpointId: endpointId }, data: { deletedAt: new Date() } });
  const replicas = [0, 1, 2].map(() => createPrismaClient(testDatabaseUrl()));
  try {
    const results = await Promise.all(replicas.map((db) => sweep(db, { graceSeconds: 0, batchSize: 25 })));
    const rows = await rowsOf(endpointId);
    expect(rows.filter((row) => row.payloadErasedAt !== null)).toHaveLength(ids.length);
    // Other test files' events may be swept too; this endpoint's 300 are counted once among them.
    expect(results.reduce((sum, r) => sum + r.erased, 0)).toBeGreaterThanOrEqual(ids.length);
  } finally {
    await Promise.all(replicas.map((db) => db.$disconnect()));
  }
});

it('runs once from the CLI with --json', async () => {
  const endpointId = await buildEndpoint(server.db, owner.projectId);
  const [id] = await buildEvents(server.db, endpointId, 1);
  await markDeleted(server.db, endpointId, id!, new Date(Date.now() - 1000), owner.apiKeyId);
  const result = await runTs('src/cli/index.ts', ['sweep', '--json'], { ...process.env, DATABASE_URL: testDatabaseUrl() });
  expect(result.code).toBe(0);
  expect(JSON.parse(result.stdout)).toEqual({
    erased: expect.any(Number),
    expired: expect.any(Number),
    rejections_trimmed: expect.any(Number),
    metrics_pruned: expect.any(Number),
  });
  expect((await rowsOf(endpointId))[0]!.payloadErasedAt).not.toBeNull();
});

it('sweeps on an interval inside the service until stopped', async () => {
  const endpointId = await buildEndpoint(server.db, owner.projectId);
  const [id] = await buildEvents(server.db, endpointId, 1);
  await markDeleted(server.db, endpointId, id!, new Date(), owner.apiKeyId);
  const sweeper = startSweeper(server.db, { intervalMs: 50, graceSeconds: 0, batchSize: 100, rejectionsKept: 1000 }, pino({ level: 'silent' }));
  try {
    await waitFor(async () => (await rowsOf(endpointId))[0]!.payloadErasedAt !== null, 10_000, 'the in-service sweeper');
  } finally {
    await sweeper.stop();
  }
});
