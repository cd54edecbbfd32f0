import type { Database } from '../../src/db/prisma';
import { revokeApiKey } from '../../src/projects/repository';
import { buildApiKey, buildEndpointWithToken, buildEvents, buildProject, markDeleted } from '../support/factories';

export interface EndpointFixture {
  /** What the fixture is for, e.g. `main` or `disposable 3`: shown in reports. */
  label: string;
  id: string;
  token: string;
  /** Its events' ids, in id order, as they were when the fixtures were built. */
  events: string[];
}

/**
 * Real rows for the requests to name, so that they reach the database:
 * - `main`: active, with stored, fetched, delivered and deleted events; valid requests never
 *   delete it or filter-delete its events, so that it stays useful for the whole run;
 * - `paused`: paused (ingest answers 503), its event type read from `$.type`;
 * - `deleted`: soft-deleted, with events;
 * - `foreign`: another project's endpoint, with events (the fuzz key must not see it);
 * - `disposable`: endpoints valid requests may delete outright.
 */
export interface Fixtures {
  projectIds: string[];
  apiKey: string;
  apiKeyId: string;
  revokedApiKey: string;
  main: EndpointFixture;
  paused: EndpointFixture;
  deleted: EndpointFixture;
  foreign: EndpointFixture;
  disposable: EndpointFixture[];
  /** Every fixture endpoint, for picking "some other endpoint's" token or event. */
  all: EndpointFixture[];
}

async function endpointWithEvents(
  db: Database,
  projectId: string,
  label: string,
  count: number,
  settings: Parameters<typeof buildEndpointWithToken>[2] = {},
): Promise<EndpointFixture> {
  const { id, token } = await buildEndpointWithToken(db, projectId, settings);
  const events = await buildEvents(db, id, count);
  return { label, id, token, events };
}

export async function buildFixtures(db: Database, disposableCount = 24): Promise<Fixtures> {
  const owner = await buildProject(db, 'fuzz project');
  const other = await buildProject(db, 'fuzz other project');
  const revoked = await buildApiKey(db, owner.projectId);
  await revokeApiKey(db, revoked.prefix);

  const main = await endpointWithEvents(db, owner.projectId, 'main', 60);
  const [fetched, delivered, deleted] = [main.events.slice(10, 20), main.events.slice(20, 30), main.events.slice(30, 40)];
  await db.pullEvent.updateMany({ where: { pullEndpointId: main.id, id: { in: fetched } }, data: { status: 'fetched' } });
  await db.pullEvent.updateMany({ where: { pullEndpointId: main.id, id: { in: delivered } }, data: { status: 'delivered' } });
  for (const id of deleted) await markDeleted(db, main.id, id, new Date(), owner.apiKeyId);

  const paused = await endpointWithEvents(db, owner.projectId, 'paused', 10, { event_type_source: 'body', event_type_path: 'type' });
  await db.pullEndpoint.update({ where: { id: paused.id }, data: { pausedAt: new Date() } });

  const gone = await endpointWithEvents(db, owner.projectId, 'deleted', 10);
  await db.pullEndpoint.update({ where: { id: gone.id }, data: { deletedAt: new Date() } });

  const foreign = await endpointWithEvents(db, other.projectId, 'foreign', 10);

  const disposable: EndpointFixture[] = [];
  for (let i = 0; i < disposableCount; i++) disposable.push(await endpointWithEvents(db, owner.projectId, `disposable ${i}`, 5));

  return {
    projectIds: [owner.projectId, other.projectId],
    apiKey: owner.apiKey,
    apiKeyId: owner.apiKeyId,
    revokedApiKey: revoked.key,
    main,
    paused,
    deleted: gone,
    foreign,
    disposable,
    all: [main, paused, gone, foreign, ...disposable],
  };
}

/** Rows of the fixtures' projects, each as a canonical JSON string keyed by table and id. */
export type Snapshot = Map<string, string>;

/**
 * The fuzz projects' pull_endpoints and pull_events rows. Headers and payloads are compared only
 * for live events of live endpoints: the sweeper (which another test file may run at the same
 * time) legitimately erases those of deleted events and endpoints.
 */
export async function snapshot(db: Database, projectIds: string[]): Promise<Snapshot> {
  const endpoints = await db.pullEndpoint.findMany({
    where: { projectId: { in: projectIds } },
    select: {
      id: true,
      projectId: true,
      name: true,
      description: true,
      retentionDays: true,
      eventTypeSource: true,
      pausedAt: true,
      deletedAt: true,
      updatedAt: true,
    },
    orderBy: { id: 'asc' },
  });
  const events = await db.pullEvent.findMany({
    where: { pullEndpointId: { in: endpoints.map((e) => e.id) } },
    select: {
      pullEndpointId: true,
      id: true,
      eventType: true,
      status: true,
      receivedAt: true,
      deletedAt: true,
      deletedByApiKeyId: true,
      headers: true,
      payload: true,
    },
    orderBy: [{ pullEndpointId: 'asc' }, { id: 'asc' }],
  });
  const deletedEndpoints = new Set(endpoints.filter((e) => e.deletedAt !== null).map((e) => e.id));
  const rows: Snapshot = new Map();
  for (const endpoint of endpoints) rows.set(`pull_endpoints ${endpoint.id}`, JSON.stringify(endpoint));
  for (const { headers, payload, ...event } of events) {
    const live = event.deletedAt === null && !deletedEndpoints.has(event.pullEndpointId);
    rows.set(`pull_events ${event.id}`, JSON.stringify(live ? { ...event, headers, payload } : event));
  }
  return rows;
}

/** What changed between two snapshots, one line per row (at most `limit` lines). */
export function differences(before: Snapshot, after: Snapshot, limit = 10): string[] {
  const lines: string[] = [];
  for (const [key, row] of after) {
    const old = before.get(key);
    if (old === undefined) lines.push(`added   ${key}: ${row}`);
    else if (old !== row) lines.push(`changed ${key}:\n    before ${old}\n    after  ${row}`);
  }
  for (const key of before.keys()) if (!after.has(key)) lines.push(`removed ${key}`);
  return lines.length > limit ? [...lines.slice(0, limit), `... and ${lines.length - limit} more`] : lines;
}
