import type { Database } from '../../src/db/prisma';
import { revokeApiKey } from '../../src/projects/repository';
import { buildApiKey, buildEndpointWithToken, buildEvents, buildProject, markDeleted } from '../support/factories';
import { buildInboxes, type Inbox } from './inboxes';
import { sendOddWebhooks, type SentWebhook } from './readback';

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
 *   delete it, filter-delete its events or rotate its token, so that it stays useful for the whole run;
 * - `paused`: paused (ingest answers 503), its event type read from `type` in the body;
 * - `deleted`: soft-deleted, with events;
 * - `foreign`: another project's endpoint, with events (the fuzz key must not see it);
 * - `disposable`: endpoints valid requests may delete outright or rotate the token of;
 * - `received`: the odd webhooks of readback.ts, sent to its ingest URL (`webhooks`, by event id);
 * - `leased`: `max_deliveries` 2, with dead letters, events received twice already (the next
 *   receive dead-letters them), delivered, deleted and stored events: what receive, the lease
 *   operations, redrive and replay act on (they target it most);
 * - `inboxes`: the ingest URL's endpoints (inboxes.ts), which only it and reads reach.
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
  received: EndpointFixture;
  leased: EndpointFixture;
  webhooks: Map<string, SentWebhook>;
  inboxes: Inbox[];
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

/** Reads and acks an endpoint's events through the API, as a consumer does. */
class Consumer {
  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string,
    private readonly endpointId: string,
  ) {}

  private async call(method: string, path: string, body?: unknown): Promise<void> {
    const response = await fetch(`${this.baseUrl}/v1/pull-endpoints/${this.endpointId}/events${path}`, {
      method,
      headers: { authorization: `Bearer ${this.apiKey}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    if (response.status !== 200) throw new Error(`fixtures: ${method} ${path} was answered ${response.status} ${await response.text()}`);
    await response.arrayBuffer();
  }

  /** Moves stored events to `fetched`: a read of each. */
  async fetch(ids: string[]): Promise<void> {
    for (const id of ids) await this.call('GET', `/${id}`);
  }

  async ack(ids: string[]): Promise<void> {
    await this.call('POST', '/ack', { event_ids: ids });
  }
}

/** The `leased` fixture, its rows set as receives, acks and deletes before the run would have left them. */
async function leasedEndpoint(db: Database, baseUrl: string, projectId: string, apiKey: string, apiKeyId: string): Promise<EndpointFixture> {
  const leased = await endpointWithEvents(db, projectId, 'leased', 240);
  await db.pullEndpoint.update({ where: { id: leased.id }, data: { maxDeliveries: 2 } });
  const now = new Date();
  const span = (from: number, to: number) => ({ pullEndpointId: leased.id, id: { in: leased.events.slice(from, to) } });
  // 0-14 dead letters; 15-34 stored (the session's first receive leases them); 35-44 received twice
  // (the next receive dead-letters them); 45-54 delivered; 55-59 deleted; 60-239 stored, enough for
  // receives not to run dry while leases of hours hold them. Fetched and acked through the API, so
  // that the metrics rollup has them on record as a consumer's (replay takes those facts back);
  // the receives they had are set directly.
  const consumer = new Consumer(baseUrl, apiKey, leased.id);
  await consumer.fetch([...leased.events.slice(0, 15), ...leased.events.slice(35, 45)]);
  await consumer.ack(leased.events.slice(45, 55));
  await db.pullEvent.updateMany({ where: span(0, 15), data: { deliveryCount: 2, deadLetteredAt: now } });
  await db.pullEvent.updateMany({ where: span(35, 45), data: { deliveryCount: 2 } });
  for (const id of leased.events.slice(55, 60)) await markDeleted(db, leased.id, id, now, apiKeyId);
  return leased;
}

/** A few refusals on record, so that the rejections list has pages from the start. */
async function refuseWebhooks(baseUrl: string, inbox: Inbox, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${baseUrl}/pull/${inbox.token}?attempt=${i}`, { method: 'POST', body: `{"attempt":${i}}` });
    if (response.status !== inbox.answers) throw new Error(`fixtures: ${inbox.label} answered ${response.status}`);
    await response.arrayBuffer();
  }
}

export async function buildFixtures(db: Database, baseUrl: string, disposableCount = 24): Promise<Fixtures> {
  const owner = await buildProject(db, 'fuzz project');
  const other = await buildProject(db, 'fuzz other project');
  const revoked = await buildApiKey(db, owner.projectId);
  await revokeApiKey(db, revoked.prefix);

  const main = await endpointWithEvents(db, owner.projectId, 'main', 60);
  const [fetched, delivered, deleted] = [main.events.slice(10, 20), main.events.slice(20, 30), main.events.slice(30, 40)];
  const consumer = new Consumer(baseUrl, owner.apiKey, main.id);
  await consumer.fetch(fetched);
  await consumer.ack(delivered);
  for (const id of deleted) await markDeleted(db, main.id, id, new Date(), owner.apiKeyId);

  const paused = await endpointWithEvents(db, owner.projectId, 'paused', 10, { event_type_source: 'body', event_type_path: 'type' });
  await db.pullEndpoint.update({ where: { id: paused.id }, data: { pausedAt: new Date() } });

  const gone = await endpointWithEvents(db, owner.projectId, 'deleted', 10);
  await db.pullEndpoint.update({ where: { id: gone.id }, data: { deletedAt: new Date() } });

  const foreign = await endpointWithEvents(db, other.projectId, 'foreign', 10);

  const disposable = await Promise.all(Array.from({ length: disposableCount }, (_, i) => endpointWithEvents(db, owner.projectId, `disposable ${i}`, 5)));

  const received = await endpointWithEvents(db, owner.projectId, 'received', 0, { event_type_source: 'body', event_type_path: 'type' });
  const webhooks = await sendOddWebhooks(baseUrl, `/pull/${received.token}`);
  received.events = [...webhooks.keys()];

  const leased = await leasedEndpoint(db, baseUrl, owner.projectId, owner.apiKey, owner.apiKeyId);

  const inboxes = await buildInboxes(db, owner.projectId);
  await refuseWebhooks(baseUrl, inboxes.find((inbox) => inbox.answers === 403)!, 3);

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
    received,
    leased,
    webhooks,
    inboxes,
    all: [main, paused, gone, foreign, ...disposable, received, leased, ...inboxes],
  };
}
