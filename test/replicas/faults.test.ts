import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { migrate } from '../../src/db/migrate';
import { createPrismaClient } from '../../src/db/prisma';
import { buildEndpoint, buildEvents, buildProject } from '../support/factories';
import { startClusterProcess, startService, waitFor, type ClusterProcess, type ServiceProcess } from '../support/processes';

// The database disappears under load (connections killed, then the server stopped) and comes
// back. It runs on a PostgreSQL of its own, so stopping it touches no other test.
const BATCH = 20;
const RESPONSE_BOUND_MS = 10_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Outcome {
  status: number;
  ms: number;
  ids: string[];
  body: { data?: { results: { event_id: string; outcome: string; deleted_at?: string }[] }; error?: { code: string } };
}

/** Four clients sending disjoint batches of fresh ids until stopped. */
function startLoad(service: ServiceProcess, endpointId: string, apiKey: string, ids: string[]) {
  const outcomes: Outcome[] = [];
  let next = 0;
  let running = true;
  const send = async (batch: string[]) => {
    const started = Date.now();
    const response = await fetch(`${service.baseUrl}/v1/pull-endpoints/${endpointId}/events/delete-batch`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ message_ids: batch }),
      signal: AbortSignal.timeout(RESPONSE_BOUND_MS),
    });
    outcomes.push({ status: response.status, ms: Date.now() - started, ids: batch, body: (await response.json()) as Outcome['body'] });
  };
  const workers = Promise.all(
    Array.from({ length: 4 }, async () => {
      while (running && next + BATCH <= ids.length) {
        const batch = ids.slice(next, (next += BATCH));
        await send(batch);
        await sleep(100);
      }
    }),
  );
  return {
    outcomes,
    async stop() {
      running = false;
      await workers;
    },
  };
}

it('answers 500/503 envelopes while the database is gone, never hangs or crashes, and recovers without a restart', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pull-events-faults-'));
  fs.chmodSync(dir, 0o755);
  const port = 56000 + Math.floor(Math.random() * 3000);
  const cluster: { current: ClusterProcess } = { current: await startClusterProcess(dir, port) };
  const url = cluster.current.url;
  let service: ServiceProcess | undefined;
  try {
    await migrate(url);
    const db = createPrismaClient(url);
    const project = await buildProject(db);
    const endpointId = await buildEndpoint(db, project.projectId);
    const ids = await buildEvents(db, endpointId, 12_000);
    await db.$disconnect();

    service = await startService(url);
    const readiness = async () => (await fetch(`${service!.baseUrl}/readyz`, { signal: AbortSignal.timeout(5000) })).status;
    const load = startLoad(service, endpointId, project.apiKey, ids);
    try {
      await sleep(1000);
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
      await admin.end().catch(() => undefined);
      await sleep(1000);

      await cluster.current.stop();
      await waitFor(async () => (await readiness()) === 503, 15_000, '/readyz to report not ready');
      await sleep(1500);
      expect(service.child.exitCode).toBeNull();

      cluster.current = await startClusterProcess(dir, port);
      await waitFor(async () => (await readiness()) === 200, 30_000, '/readyz to report ready again');
      const recoveredFrom = load.outcomes.length;
      await waitFor(async () => load.outcomes.slice(recoveredFrom).some((o) => o.status === 200), 15_000, 'a 200 after recovery');
    } finally {
      await load.stop();
    }

    const outcomes = load.outcomes;
    const statuses = new Set(outcomes.map((o) => o.status));
    expect([...statuses].filter((s) => s !== 200 && s !== 500 && s !== 503)).toEqual([]);
    expect(statuses.has(200) && statuses.has(500)).toBe(true);
    for (const outcome of outcomes) {
      expect(outcome.ms).toBeLessThan(RESPONSE_BOUND_MS);
      if (outcome.status !== 200) expect(outcome.body.error?.code).toMatch(/^(INTERNAL_ERROR|SERVICE_UNAVAILABLE)$/);
    }

    // No batch is half applied: a 200 matches the table exactly; a failed batch is all or nothing.
    const check = createPrismaClient(url);
    const rows = await check.pullEvent.findMany({ where: { pullEndpointId: endpointId }, select: { id: true, deletedAt: true } });
    await check.$disconnect();
    const deletedAt = new Map(rows.map((row) => [row.id, row.deletedAt?.toISOString() ?? null]));
    for (const outcome of outcomes) {
      if (outcome.status === 200) {
        for (const result of outcome.body.data!.results) {
          expect(result.outcome).toBe('deleted');
          expect(deletedAt.get(result.event_id)).toBe(result.deleted_at);
        }
      } else {
        const applied = outcome.ids.filter((id) => deletedAt.get(id) !== null).length;
        expect([0, outcome.ids.length]).toContain(applied);
      }
    }
  } finally {
    if (service) expect(await service.stop()).toBe(0);
    await cluster.current.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
