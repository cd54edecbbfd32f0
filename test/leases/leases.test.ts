import type { components } from '../../generated/openapi';
import { contract } from '../support/contract';
import { buildEndpoint, buildEndpointWithToken, buildEvents, buildProject, markDeleted, randomId, type TestProject } from '../support/factories';
import { startTestServer, type TestServer } from '../support/server';
import { postWebhook } from '../support/webhooks';

type ReceiveRequest = components['schemas']['ReceiveRequest'];
type LeasedEvent = components['schemas']['LeasedEvent'];

let server: TestServer;
let owner: TestProject;
let stranger: TestProject;

beforeAll(async () => {
  server = await startTestServer();
  owner = await buildProject(server.db, 'leases owner');
  stranger = await buildProject(server.db, 'leases stranger');
});
afterAll(() => server.close());

const api = (project: TestProject = owner) => server.client(project.apiKey);
const on = (id: string) => ({ params: { path: { id } } });

async function receive(endpointId: string, body?: ReceiveRequest, project = owner) {
  const { data, error, response } = await api(project).POST('/v1/pull-endpoints/{id}/events/receive', { ...on(endpointId), ...(body && { body }) });
  return { events: data?.data.events, error, status: response.status };
}

/** A receive that must succeed: its events. */
async function received(endpointId: string, body?: ReceiveRequest, project = owner): Promise<LeasedEvent[]> {
  const { events, status } = await receive(endpointId, body, project);
  expect(status).toBe(200);
  return events!;
}

async function ack(endpointId: string, leaseIds: string[], project = owner) {
  const { data, error, response } = await api(project).POST('/v1/pull-endpoints/{id}/events/leases/ack', { ...on(endpointId), body: { lease_ids: leaseIds } });
  return { data: data?.data, error, status: response.status };
}

async function extend(endpointId: string, leaseIds: string[], leaseSeconds: number, project = owner) {
  const { data, error, response } = await api(project).POST('/v1/pull-endpoints/{id}/events/leases/extend', {
    ...on(endpointId),
    body: { lease_ids: leaseIds, lease_seconds: leaseSeconds },
  });
  return { data: data?.data, error, status: response.status };
}

async function release(endpointId: string, leaseIds: string[], delaySeconds?: number, project = owner) {
  const { data, error, response } = await api(project).POST('/v1/pull-endpoints/{id}/events/leases/release', {
    ...on(endpointId),
    body: { lease_ids: leaseIds, ...(delaySeconds !== undefined && { delay_seconds: delaySeconds }) },
  });
  return { data: data?.data, error, status: response.status };
}

async function redrive(endpointId: string, body: components['schemas']['RedriveRequest'], project = owner) {
  const { data, error, response } = await api(project).POST('/v1/pull-endpoints/{id}/events/redrive', { ...on(endpointId), body });
  return { data: data?.data, error, status: response.status };
}

async function replay(endpointId: string, body: components['schemas']['ReplayRequest'], project = owner) {
  const { data, error, response } = await api(project).POST('/v1/pull-endpoints/{id}/events/replay', { ...on(endpointId), body });
  return { data: data?.data, error, status: response.status };
}

async function rows(endpointId: string) {
  return server.db.pullEvent.findMany({
    where: { pullEndpointId: endpointId },
    orderBy: { id: 'asc' },
    select: {
      id: true, status: true, eventType: true, receivedAt: true, fetchedAt: true, deliveredAt: true,
      leaseId: true, leaseExpiresAt: true, deliveryCount: true, deadLetteredAt: true, deletedAt: true,
    },
  });
}

async function row(endpointId: string, id: string) {
  const found = (await rows(endpointId)).find((r) => r.id === id);
  if (!found) throw new Error(`no event ${id}`);
  return found;
}

/** Moves the endpoint's leases and release delays `seconds` into the past, as if that much time had passed. */
async function travel(endpointId: string, seconds: number, ids?: string[]) {
  await server.db.$executeRaw`
    UPDATE pull_events SET lease_expires_at = lease_expires_at - ${seconds}::int * interval '1 second'
    WHERE pull_endpoint_id = ${endpointId}::uuid AND lease_expires_at IS NOT NULL
      AND (${ids ?? null}::uuid[] IS NULL OR id = ANY(${ids ?? null}::uuid[]))`;
}

const DAY = 86_400;
/** The database and this process read the same clock; timestamptz(3) rounds to the millisecond. */
const SLACK_MS = 50;

/** `at` (an API time or a row's) lies in [from, to] shifted by `offsetSeconds`. */
function expectWithin(at: string | Date | null | undefined, from: number, to: number, offsetSeconds = 0) {
  const ms = at instanceof Date ? at.getTime() : Date.parse(at ?? 'missing');
  expect(ms).toBeGreaterThanOrEqual(from + offsetSeconds * 1000 - SLACK_MS);
  expect(ms).toBeLessThanOrEqual(to + offsetSeconds * 1000 + SLACK_MS);
}

async function timed<T>(run: () => Promise<T>): Promise<{ result: T; from: number; to: number }> {
  const from = Date.now();
  const result = await run();
  return { result, from, to: Date.now() };
}

async function endpointWithMaxDeliveries(maxDeliveries: number, project = owner) {
  const id = await buildEndpoint(server.db, project.projectId);
  const { data, response } = await api(project).PATCH('/v1/pull-endpoints/{id}', { ...on(id), body: { max_deliveries: maxDeliveries } });
  expect(response.status).toBe(200);
  expect(data!.data.max_deliveries).toBe(maxDeliveries);
  return id;
}

const ids = (events: LeasedEvent[]) => events.map((e) => e.id);
const leaseIds = (events: LeasedEvent[]) => events.map((e) => e.lease_id);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const FORGED_LEASE = 'A'.repeat(43);

describe('receive', () => {
  it('without a body, and with {}, answers the 10 oldest events under 30 s leases', async () => {
    const endpointId = await buildEndpoint(server.db, owner.projectId);
    const seeded = await buildEvents(server.db, endpointId, 23);

    const { result: response, from, to } = await timed(() =>
      fetch(`${server.baseUrl}/v1/pull-endpoints/${endpointId}/events/receive`, { method: 'POST', headers: { Authorization: `Bearer ${owner.apiKey}` } }),
    );
    const body = (await response.json()) as components['schemas']['ReceiveResponse'];
    contract.check('/v1/pull-endpoints/{id}/events/receive', 'POST', response.status, response.headers, body);
    expect(response.status).toBe(200);
    expect(ids(body.data.events)).toEqual(seeded.slice(0, 10));
    for (const event of body.data.events) {
      expect(event).toMatchObject({ status: 'fetched', delivery_count: 1, dead_lettered_at: null });
      expectWithin(event.lease_expires_at, from, to, 30);
    }

    const second = await timed(() => received(endpointId, {}));
    expect(ids(second.result)).toEqual(seeded.slice(10, 20));
    for (const event of second.result) expectWithin(event.lease_expires_at, second.from, second.to, 30);
  });

  it('answers at most max_events, oldest first, and records the lease, fetched_at and delivery_count on the row', async () => {
    const endpointId = await buildEndpoint(server.db, owner.projectId);
    const seeded = await buildEvents(server.db, endpointId, 5);

    const { result: events, from, to } = await timed(() => received(endpointId, { max_events: 3, lease_seconds: 120 }));
    expect(ids(events)).toEqual(seeded.slice(0, 3));
    expect(new Set(leaseIds(events)).size).toBe(3);
    const table = await rows(endpointId);
    for (const [i, event] of events.entries()) {
      const stored = table[i]!;
      expect(stored).toMatchObject({ status: 'fetched', deliveryCount: 1, deadLetteredAt: null, leaseId: expect.any(String) });
      expect(event.fetched_at).toBe(stored.fetchedAt!.toISOString());
      expect(event.lease_expires_at).toBe(stored.leaseExpiresAt!.toISOString());
      expectWithin(stored.fetchedAt, from, to);
      expectWithin(stored.leaseExpiresAt, from, to, 120);
    }
    expect(table.slice(3).map((r) => [r.status, r.fetchedAt, r.leaseExpiresAt, r.deliveryCount])).toEqual([
      ['stored', null, null, 0],
      ['stored', null, null, 0],
    ]);
  });

  it('keeps fetched_at of the first receive and counts every receive in delivery_count', async () => {
    const endpointId = await buildEndpoint(server.db, owner.projectId);
    const [id] = await buildEvents(server.db, endpointId, 1);
    const [first] = await received(endpointId);
    await travel(endpointId, DAY);
    const [second] = await received(endpointId);
    await travel(endpointId, DAY);
    const [third] = await received(endpointId);

    expect([first, second, third].map((e) => [e!.id, e!.delivery_count, e!.fetched_at])).toEqual([
      [id, 1, first!.fetched_at],
      [id, 2, first!.fetched_at],
      [id, 3, first!.fetched_at],
    ]);
    expect(new Set([first!.lease_id, second!.lease_id, third!.lease_id]).size).toBe(3);
    expect(await row(endpointId, id!)).toMatchObject({ deliveryCount: 3, fetchedAt: new Date(first!.fetched_at!) });
  });

  it('answers only events of event_type when it is given', async () => {
    const endpointId = await buildEndpoint(server.db, owner.projectId);
    await buildEvents(server.db, endpointId, 9);
    const type = (await rows(endpointId))[1]!.eventType!;
    const ofType = (await rows(endpointId)).filter((r) => r.eventType === type).map((r) => r.id);
    expect(ofType.length).toBeGreaterThan(1);

    const events = await received(endpointId, { event_type: type });
    expect(ids(events)).toEqual(ofType);
    expect((await rows(endpointId)).filter((r) => r.status === 'fetched').map((r) => r.id)).toEqual(ofType);
  });

  it('answers each event as get-event shows it, JSON and base64 payloads alike, plus its lease', async () => {
    const endpoint = await buildEndpointWithToken(server.db, owner.projectId);
    const bytes = Buffer.from([0, 1, 2, 0xfe, 0xff, 0x80]);
    const json = await postWebhook(server.baseUrl, endpoint.ingestPath, '{"order":{"id":"ord_1","lines":[1,2]},"note":"ü"}');
    const binary = await postWebhook(server.baseUrl, endpoint.ingestPath, bytes, { 'content-type': 'application/octet-stream' });

    const events = await received(endpoint.id);
    expect(ids(events)).toEqual([json.body.data.event_id, binary.body.data.event_id]);
    for (const { lease_id, lease_expires_at, ...event } of events) {
      expect(lease_id).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Date.parse(lease_expires_at)).toBeGreaterThan(Date.now());
      const shown = await api().GET('/v1/pull-endpoints/{id}/events/{event_id}', {
        params: { path: { id: endpoint.id, event_id: event.id }, query: { preview: true } },
      });
      expect(event).toEqual(shown.data!.data);
    }
    expect(events[0]).toMatchObject({ payload_encoding: 'json', payload: { order: { id: 'ord_1', lines: [1, 2] }, note: 'ü' } });
    expect(events[1]!.payload_encoding).toBe('base64');
    expect(Buffer.from(events[1]!.payload as string, 'base64').equals(bytes)).toBe(true);
  });

  it('answers an event read through get-event (which takes no lease), keeping its fetched_at', async () => {
    const endpointId = await buildEndpoint(server.db, owner.projectId);
    const [id] = await buildEvents(server.db, endpointId, 1);
    const read = await api().GET('/v1/pull-endpoints/{id}/events/{event_id}', { params: { path: { id: endpointId, event_id: id! } } });
    expect(read.data!.data).toMatchObject({ status: 'fetched', delivery_count: 0 });

    const [event] = await received(endpointId);
    expect(event).toMatchObject({ id, delivery_count: 1, fetched_at: read.data!.data.fetched_at });
  });

  it('never answers delivered or deleted events', async () => {
    const endpointId = await buildEndpoint(server.db, owner.projectId);
    const seeded = await buildEvents(server.db, endpointId, 4);
    await api().POST('/v1/pull-endpoints/{id}/events/ack', { ...on(endpointId), body: { event_ids: [seeded[0]!] } });
    await markDeleted(server.db, endpointId, seeded[1]!, new Date(), owner.apiKeyId);
    await api().GET('/v1/pull-endpoints/{id}/events/{event_id}', { params: { path: { id: endpointId, event_id: seeded[2]! } } });
    await markDeleted(server.db, endpointId, seeded[2]!, new Date(), owner.apiKeyId);

    expect(ids(await received(endpointId))).toEqual([seeded[3]]);
    await travel(endpointId, DAY);
    expect(ids(await received(endpointId))).toEqual([seeded[3]]);
    expect((await rows(endpointId)).map((r) => r.deliveryCount)).toEqual([0, 0, 0, 2]);
  });

  it('serves a paused endpoint: pause stops ingest only', async () => {
    const endpointId = await buildEndpoint(server.db, owner.projectId);
    const seeded = await buildEvents(server.db, endpointId, 2);
    expect((await api().POST('/v1/pull-endpoints/{id}/pause', on(endpointId))).data!.data.paused).toBe(true);
    expect(ids(await received(endpointId))).toEqual(seeded);
  });

  it.each([
    ['max_events 0', { max_events: 0 }, /max_events/],
    ['max_events 101', { max_events: 101 }, /max_events/],
    ['lease_seconds 0', { lease_seconds: 0 }, /lease_seconds/],
    ['lease_seconds 43201', { lease_seconds: 43201 }, /lease_seconds/],
    ['wait_seconds -1', { wait_seconds: -1 }, /wait_seconds/],
    ['wait_seconds 21', { wait_seconds: 21 }, /wait_seconds/],
    ['a fractional max_events', { max_events: 1.5 }, /max_events/],
    ['an empty event_type', { event_type: '' }, /event_type/],
    ['an unknown property', { max_events: 1, colour: 'red' } as ReceiveRequest, /colour/],
  ])('answers 400 INVALID_REQUEST to %s, leasing nothing', async (_case, body, message) => {
    const endpointId = await buildEndpoint(server.db, owner.projectId);
    await buildEvents(server.db, endpointId, 1);
    const { error, status } = await receive(endpointId, body);
    expect(status).toBe(400);
    expect(error!.error.code).toBe('INVALID_REQUEST');
    expect(error!.error.message).toMatch(message);
    expect((await rows(endpointId)).map((r) => [r.status, r.deliveryCount])).toEqual([['stored', 0]]);
  });

  it('answers 404 ENDPOINT_NOT_FOUND for an unknown, another project’s or a deleted endpoint', async () => {
    const foreign = await buildEndpoint(server.db, stranger.projectId);
    const deleted = await buildEndpoint(server.db, owner.projectId);
    await buildEvents(server.db, foreign, 1);
    await buildEvents(server.db, deleted, 1);
    await api().DELETE('/v1/pull-endpoints/{id}', on(deleted));
    for (const endpointId of [randomId(), foreign, deleted]) {
      const { error, status } = await receive(endpointId);
      expect(status).toBe(404);
      expect(error!.error).toEqual({ code: 'ENDPOINT_NOT_FOUND', message: 'endpoint not found' });
    }
    expect([...(await rows(foreign)), ...(await rows(deleted))].map((r) => r.status)).toEqual(['stored', 'stored']);
  });
});

describe('held leases', () => {
  it('does not answer an event while its lease is held, and answers it under a new lease once the lease ran out', async () => {
    const endpointId = await buildEndpoint(server.db, owner.projectId);
    const seeded = await buildEvents(server.db, endpointId, 3);
    const first = await received(endpointId, { max_events: 2 });
    expect(ids(first)).toEqual(seeded.slice(0, 2));
    expect(ids(await received(endpointId))).toEqual([seeded[2]]);
    expect(await received(endpointId)).toEqual([]);

    await travel(endpointId, 31, seeded.slice(0, 2));
    const again = await received(endpointId);
    expect(ids(again)).toEqual(seeded.slice(0, 2));
    expect(again.map((e) => e.delivery_count)).toEqual([2, 2]);
    expect(leaseIds(again).some((lease) => leaseIds(first).includes(lease))).toBe(false);
  });

  it('answers the event again once a one-second lease ran out on the real clock', async () => {
    const endpointId = await buildEndpoint(server.db, owner.projectId);
    const [id] = await buildEvents(server.db, endpointId, 1);
    const [leased] = await received(endpointId, { lease_seconds: 1 });
    await sleep(1200);
    const [again] = await received(endpointId);
    expect(again).toMatchObject({ id, delivery_count: 2 });
    expect(again!.lease_id).not.toBe(leased!.lease_id);
  });
});

describe('leases/ack', () => {
  it('answers one outcome per lease in request order, with counts, and delivers only what it acked', async () => {
    const endpointId = await buildEndpoint(server.db, owner.projectId);
    const seeded = await buildEvents(server.db, endpointId, 3);
    const [l0, l1, l2] = leaseIds(await received(endpointId));
    await travel(endpointId, DAY, [seeded[1]!]);

    const { result: first, from, to } = await timed(() => ack(endpointId, [l2!, 'garbage', l1!, l0!]));
    expect(first.data).toEqual({
      results: [
        { lease_id: l2, event_id: seeded[2], outcome: 'acked' },
        { lease_id: 'garbage', outcome: 'not_found' },
        { lease_id: l1, event_id: seeded[1], outcome: 'lease_expired' },
        { lease_id: l0, event_id: seeded[0], outcome: 'acked' },
      ],
      acked_count: 2,
      already_acked_count: 0,
      lease_expired_count: 1,
      not_found_count: 1,
    });
    const after = await rows(endpointId);
    expect(after.map((r) => r.status)).toEqual(['delivered', 'fetched', 'delivered']);
    expectWithin(after[0]!.deliveredAt, from, to);
    expect(after[1]!.deliveredAt).toBeNull();

    const again = await ack(endpointId, [l0!, l2!]);
    expect(again.data).toEqual({
      results: [
        { lease_id: l0, event_id: seeded[0], outcome: 'already_acked' },
        { lease_id: l2, event_id: seeded[2], outcome: 'already_acked' },
      ],
      acked_count: 0,
      already_acked_count: 2,
      lease_expired_count: 0,
      not_found_count: 0,
    });
    expect((await rows(endpointId)).map((r) => r.deliveredAt)).toEqual(after.map((r) => r.deliveredAt));
  });

  it('answers lease_expired for a released lease and for one superseded by a newer receive', async () => {
    const endpointId = await buildEndpoint(server.db, owner.projectId);
    const [released, superseded] = await buildEvents(server.db, endpointId, 2);
    const [r1, s1] = leaseIds(await received(endpointId));
    expect((await release(endpointId, [r1!])).data!.released_count).toBe(1);
    await travel(endpointId, DAY, [superseded!]);
    const [, s2] = leaseIds(await received(endpointId));

    const { data } = await ack(endpointId, [r1!, s1!, s2!]);
    expect(data!.results).toEqual([
      { lease_id: r1, event_id: released, outcome: 'lease_expired' },
      { lease_id: s1, event_id: superseded, outcome: 'lease_expired' },
      { lease_id: s2, event_id: superseded, outcome: 'acked' },
    ]);
    expect((await rows(endpointId)).map((r) => r.status)).toEqual(['fetched', 'delivered']);
  });

  it('answers lease_expired for the lease of an event dead-lettered since', async () => {
    const endpointId = await endpointWithMaxDeliveries(1);
    const [id] = await buildEvents(server.db, endpointId, 1);
    const [lease] = leaseIds(await received(endpointId));
    await travel(endpointId, DAY);
    expect(await received(endpointId)).toEqual([]);

    const { data } = await ack(endpointId, [lease!]);
    expect(data).toMatchObject({ results: [{ lease_id: lease, event_id: id, outcome: 'lease_expired' }], lease_expired_count: 1 });
    expect(await row(endpointId, id!)).toMatchObject({ status: 'fetched', deliveredAt: null, deadLetteredAt: expect.any(Date) });
  });

  it('answers not_found for garbage, forged ids, other endpoints’ and projects’ leases and deleted events, touching none', async () => {
    const endpointId = await buildEndpoint(server.db, owner.projectId);
    const sibling = await buildEndpoint(server.db, owner.projectId);
    const foreign = await buildEndpoint(server.db, stranger.projectId);
    const [deleted] = await buildEvents(server.db, endpointId, 1);
    await buildEvents(server.db, sibling, 1);
    await buildEvents(server.db, foreign, 1);
    const [deletedLease] = leaseIds(await received(endpointId));
    const [siblingLease] = leaseIds(await received(sibling));
    const [foreignLease] = leaseIds(await received(foreign, {}, stranger));
    await markDeleted(server.db, endpointId, deleted!, new Date(), owner.apiKeyId);

    const requested = ['garbage', FORGED_LEASE, siblingLease!, foreignLease!, deletedLease!];
    const { data } = await ack(endpointId, requested);
    expect(data).toEqual({
      results: requested.map((lease_id) => ({ lease_id, outcome: 'not_found' })),
      acked_count: 0,
      already_acked_count: 0,
      lease_expired_count: 0,
      not_found_count: 5,
    });
    expect([...(await rows(endpointId)), ...(await rows(sibling)), ...(await rows(foreign))].map((r) => r.status)).toEqual([
      'fetched',
      'fetched',
      'fetched',
    ]);
  });

  it('answers 400 to duplicate lease ids, an empty list or more than 100, and changes nothing', async () => {
    const endpointId = await buildEndpoint(server.db, owner.projectId);
    await buildEvents(server.db, endpointId, 2);
    const [l0, l1] = leaseIds(await received(endpointId));
    const before = await rows(endpointId);
    for (const body of [[l0!, l1!, l0!], [], Array.from({ length: 101 }, (_, i) => `lease-${i}`)]) {
      const { error, status } = await ack(endpointId, body);
      expect(status).toBe(400);
      expect(error!.error.code).toBe('INVALID_REQUEST');
      expect(error!.error.message).toMatch(/lease_ids/);
    }
    expect(await rows(endpointId)).toEqual(before);
  });

  it('acknowledges a leased event through events/ack, after which its lease answers already_acked', async () => {
    const endpointId = await buildEndpoint(server.db, owner.projectId);
    const [id] = await buildEvents(server.db, endpointId, 1);
    const [lease] = leaseIds(await received(endpointId));
    const byId = await api().POST('/v1/pull-endpoints/{id}/events/ack', { ...on(endpointId), body: { event_ids: [id!] } });
    expect(byId.data!.data.acknowledged).toBe(1);

    const { data } = await ack(endpointId, [lease!]);
    expect(data).toMatchObject({ results: [{ lease_id: lease, event_id: id, outcome: 'already_acked' }], already_acked_count: 1 });
    expect(await row(endpointId, id!)).toMatchObject({ status: 'delivered' });
  });
});

describe('leases/extend', () => {
  it('sets the lease to end lease_seconds from now, keeping the event held past its first expiry', async () => {
    const endpointId = await buildEndpoint(server.db, owner.projectId);
    const seeded = await buildEvents(server.db, endpointId, 2);
    const [l0, l1] = leaseIds(await received(endpointId, { lease_seconds: 30 }));

    const { result, from, to } = await timed(() => extend(endpointId, [l0!], 600));
    const extendedTo = result.data!.results[0]!.lease_expires_at;
    expect(result.data).toEqual({
      results: [{ lease_id: l0, event_id: seeded[0], outcome: 'extended', lease_expires_at: expect.any(String) }],
      extended_count: 1,
      lease_expired_count: 0,
      not_found_count: 0,
    });
    expectWithin(extendedTo, from, to, 600);
    expect((await row(endpointId, seeded[0]!)).leaseExpiresAt!.toISOString()).toBe(extendedTo);

    await travel(endpointId, 60);
    const again = await received(endpointId);
    expect(ids(again)).toEqual([seeded[1]]);

    await ack(endpointId, [l0!]);
    const late = await extend(endpointId, [l0!, 'garbage', l1!], 60);
    expect(late.data).toEqual({
      results: [
        { lease_id: l0, event_id: seeded[0], outcome: 'lease_expired' },
        { lease_id: 'garbage', outcome: 'not_found' },
        { lease_id: l1, event_id: seeded[1], outcome: 'lease_expired' },
      ],
      extended_count: 0,
      lease_expired_count: 2,
      not_found_count: 1,
    });
    expect(await row(endpointId, seeded[1]!)).toMatchObject({ leaseExpiresAt: new Date(again[0]!.lease_expires_at) });
  });

  it('answers lease_expired for a lease that ran out, and 400 to bad lease_seconds or duplicate ids', async () => {
    const endpointId = await buildEndpoint(server.db, owner.projectId);
    const [id] = await buildEvents(server.db, endpointId, 1);
    const [lease] = leaseIds(await received(endpointId));
    await travel(endpointId, 31);
    const before = await rows(endpointId);
    expect((await extend(endpointId, [lease!], 60)).data!.results).toEqual([{ lease_id: lease, event_id: id, outcome: 'lease_expired' }]);
    for (const [leases, seconds, message] of [
      [[lease!], 0, /lease_seconds/],
      [[lease!], 43201, /lease_seconds/],
      [[lease!, lease!], 60, /lease_ids/],
    ] as const) {
      const { error, status } = await extend(endpointId, [...leases], seconds);
      expect(status).toBe(400);
      expect(error!.error.message).toMatch(message);
    }
    expect(await rows(endpointId)).toEqual(before);
  });
});

describe('leases/release', () => {
  it('makes the event receivable at once without counting a delivery; the next receive counts', async () => {
    const endpointId = await buildEndpoint(server.db, owner.projectId);
    const seeded = await buildEvents(server.db, endpointId, 2);
    const [l0] = leaseIds(await received(endpointId));

    const { data } = await release(endpointId, [l0!]);
    expect(data).toEqual({
      results: [{ lease_id: l0, event_id: seeded[0], outcome: 'released' }],
      released_count: 1,
      lease_expired_count: 0,
      not_found_count: 0,
    });
    expect(await row(endpointId, seeded[0]!)).toMatchObject({ status: 'fetched', deliveryCount: 1, leaseId: null });
    const [again] = await received(endpointId);
    expect(again).toMatchObject({ id: seeded[0], delivery_count: 2 });
    expect(again!.lease_id).not.toBe(l0);
  });

  it('with delay_seconds holds the event until the delay passed', async () => {
    const endpointId = await buildEndpoint(server.db, owner.projectId);
    const [id] = await buildEvents(server.db, endpointId, 1);
    const [lease] = leaseIds(await received(endpointId));

    const { result, from, to } = await timed(() => release(endpointId, [lease!], 120));
    expect(result.data!.results).toEqual([{ lease_id: lease, event_id: id, outcome: 'released' }]);
    const held = await row(endpointId, id!);
    expect(held).toMatchObject({ leaseId: null, deliveryCount: 1 });
    expectWithin(held.leaseExpiresAt, from, to, 120);

    expect(await received(endpointId)).toEqual([]);
    await travel(endpointId, 100);
    expect(await received(endpointId)).toEqual([]);
    await travel(endpointId, 21);
    expect(await received(endpointId)).toMatchObject([{ id, delivery_count: 2 }]);
  });

  it('answers lease_expired for a lease released, run out or acked before, not_found for others; 400 to a bad delay', async () => {
    const endpointId = await buildEndpoint(server.db, owner.projectId);
    const seeded = await buildEvents(server.db, endpointId, 3);
    const [released, expired, acked] = leaseIds(await received(endpointId));
    await release(endpointId, [released!]);
    await ack(endpointId, [acked!]);
    await travel(endpointId, DAY, [seeded[1]!]);

    const { data } = await release(endpointId, [acked!, released!, FORGED_LEASE, expired!]);
    expect(data).toEqual({
      results: [
        { lease_id: acked, event_id: seeded[2], outcome: 'lease_expired' },
        { lease_id: released, event_id: seeded[0], outcome: 'lease_expired' },
        { lease_id: FORGED_LEASE, outcome: 'not_found' },
        { lease_id: expired, event_id: seeded[1], outcome: 'lease_expired' },
      ],
      released_count: 0,
      lease_expired_count: 3,
      not_found_count: 1,
    });
    expect((await rows(endpointId)).map((r) => r.status)).toEqual(['fetched', 'fetched', 'delivered']);

    for (const [leases, delay] of [[[expired!], 43201], [[expired!], -1], [[expired!, expired!], 0]] as const) {
      const { error, status } = await release(endpointId, [...leases], delay);
      expect(status).toBe(400);
      expect(error!.error.code).toBe('INVALID_REQUEST');
    }
  });
});

describe('max_deliveries', () => {
  it('is null by default, set on create and update, echoed by get, and must be 1 to 1000', async () => {
    const plain = await api().POST('/v1/pull-endpoints', { body: { name: 'plain' } });
    expect(plain.data!.data.max_deliveries).toBeNull();
    const created = await api().POST('/v1/pull-endpoints', { body: { name: 'limited', max_deliveries: 2 } });
    expect(created.response.status).toBe(201);
    const id = created.data!.data.id;
    expect(created.data!.data.max_deliveries).toBe(2);
    expect((await api().GET('/v1/pull-endpoints/{id}', on(id))).data!.data.max_deliveries).toBe(2);
    expect((await server.db.pullEndpoint.findUniqueOrThrow({ where: { id } })).maxDeliveries).toBe(2);

    expect((await api().PATCH('/v1/pull-endpoints/{id}', { ...on(id), body: { max_deliveries: 1000 } })).data!.data.max_deliveries).toBe(1000);
    expect((await api().PATCH('/v1/pull-endpoints/{id}', { ...on(id), body: { max_deliveries: null } })).data!.data.max_deliveries).toBeNull();
    expect((await api().GET('/v1/pull-endpoints/{id}', on(id))).data!.data.max_deliveries).toBeNull();

    for (const max_deliveries of [0, 1001]) {
      const create = await api().POST('/v1/pull-endpoints', { body: { name: 'bad', max_deliveries } });
      const update = await api().PATCH('/v1/pull-endpoints/{id}', { ...on(id), body: { max_deliveries } });
      for (const { response, error } of [create, update]) {
        expect(response.status).toBe(400);
        expect(error!.error.message).toMatch(/max_deliveries/);
      }
    }
  });

  it('dead-letters an event at the receive after its max_deliveries-th, and shows it in get, list and pull-logs', async () => {
    const endpointId = await endpointWithMaxDeliveries(2);
    const [dead, stored, delivered] = await buildEvents(server.db, endpointId, 3);
    expect(ids(await received(endpointId, { max_events: 1 }))).toEqual([dead]);
    await api().POST('/v1/pull-endpoints/{id}/events/ack', { ...on(endpointId), body: { event_ids: [delivered!] } });
    await travel(endpointId, DAY);
    expect(await received(endpointId, { max_events: 1 })).toMatchObject([{ id: dead, delivery_count: 2 }]);
    await travel(endpointId, DAY);

    const { result, from, to } = await timed(() => received(endpointId));
    expect(ids(result)).toEqual([stored]);
    const letter = await row(endpointId, dead!);
    expect(letter).toMatchObject({ status: 'fetched', deliveryCount: 2, leaseId: null, leaseExpiresAt: null, deliveredAt: null });
    expectWithin(letter.deadLetteredAt, from, to);
    await travel(endpointId, DAY);
    expect(ids(await received(endpointId))).toEqual([stored]);

    const shown = await api().GET('/v1/pull-endpoints/{id}/events/{event_id}', { params: { path: { id: endpointId, event_id: dead! }, query: { preview: true } } });
    expect(shown.data!.data).toMatchObject({ status: 'fetched', delivery_count: 2, dead_lettered_at: letter.deadLetteredAt!.toISOString() });

    const list = async (query: { dead_lettered?: boolean; status?: 'any' | 'fetched' }) =>
      (await api().GET('/v1/pull-endpoints/{id}/events', { params: { path: { id: endpointId }, query } })).data!.data.map((e) => e.id);
    expect(await list({ dead_lettered: true })).toEqual([dead]);
    expect(await list({ dead_lettered: false })).toEqual([]);
    expect(await list({ dead_lettered: false, status: 'fetched' })).toEqual([stored]);
    expect(await list({ dead_lettered: false, status: 'any' })).toEqual([stored, delivered]);
    expect(await list({})).toEqual([]);

    const logs = async (dead_lettered: boolean) =>
      (await api().GET('/v1/pull-logs', { params: { query: { pull_endpoint_id: endpointId, dead_lettered } } })).data!.data.map((l) => [l.event_id, l.dead_lettered_at]);
    expect(await logs(true)).toEqual([[dead, letter.deadLetteredAt!.toISOString()]]);
    expect(await logs(false)).toEqual([[delivered, null], [stored, null]]);
  });
});

describe('redrive', () => {
  /** An endpoint whose first `count` events are dead letters (max_deliveries 1) followed by one stored event. */
  async function deadLetters(count: number) {
    const endpointId = await endpointWithMaxDeliveries(1);
    const letters = await buildEvents(server.db, endpointId, count);
    await received(endpointId, { max_events: 100 });
    await travel(endpointId, DAY);
    expect(await received(endpointId, { max_events: 100 })).toEqual([]);
    const [live] = await buildEvents(server.db, endpointId, 1);
    expect((await rows(endpointId)).filter((r) => r.deadLetteredAt !== null).map((r) => r.id)).toEqual(letters);
    return { endpointId, letters, live: live! };
  }

  it('by ids moves only the dead letters among them, answers their ids in id order, and makes them receivable', async () => {
    const { endpointId, letters, live } = await deadLetters(4);
    const { data } = await redrive(endpointId, { event_ids: [letters[3]!.toUpperCase(), live, randomId(), letters[1]!] });
    expect(data).toEqual({ redriven: 2, redriven_event_ids: [letters[1], letters[3]] });

    const after = await rows(endpointId);
    expect(after.map((r) => [r.id, r.status, r.deliveryCount, r.deadLetteredAt === null, r.leaseExpiresAt])).toEqual([
      [letters[0], 'fetched', 1, false, null],
      [letters[1], 'fetched', 0, true, null],
      [letters[2], 'fetched', 1, false, null],
      [letters[3], 'fetched', 0, true, null],
      [live, 'stored', 0, true, null],
    ]);
    expect((await received(endpointId)).map((e) => [e.id, e.delivery_count])).toEqual([
      [letters[1], 1],
      [letters[3], 1],
      [live, 1],
    ]);
  });

  it('with all: true moves the oldest dead letters up to limit', async () => {
    const { endpointId, letters } = await deadLetters(3);
    expect((await redrive(endpointId, { all: true, limit: 2 })).data).toEqual({ redriven: 2, redriven_event_ids: letters.slice(0, 2) });
    expect((await redrive(endpointId, { all: true })).data).toEqual({ redriven: 1, redriven_event_ids: [letters[2]] });
    expect((await redrive(endpointId, { all: true })).data).toEqual({ redriven: 0, redriven_event_ids: [] });
    expect((await rows(endpointId)).every((r) => r.deadLetteredAt === null)).toBe(true);
  });

  it.each([
    ['an empty body', {}],
    ['both event_ids and all', { event_ids: ['01935abc-def0-7123-4567-890abcdef012'], all: true }],
    ['all: false', { all: false }],
    ['an empty event_ids', { event_ids: [] }],
    ['limit 0', { all: true, limit: 0 }],
  ])('answers 400 INVALID_REQUEST to %s', async (_case, body) => {
    const { endpointId } = await deadLetters(1);
    const { error, status } = await redrive(endpointId, body as components['schemas']['RedriveRequest']);
    expect(status).toBe(400);
    expect(error!.error.code).toBe('INVALID_REQUEST');
    expect((await rows(endpointId))[0]!.deadLetteredAt).not.toBeNull();
  });
});

describe('replay', () => {
  /** Three batches of `size` events a few milliseconds apart, each batch delivered but its last event. */
  async function deliveredBatches(size: number) {
    const endpointId = await buildEndpoint(server.db, owner.projectId);
    const batches: string[][] = [];
    for (let i = 0; i < 3; i++) {
      batches.push(await buildEvents(server.db, endpointId, size));
      await sleep(5);
    }
    const all = batches.flat();
    const toDeliver = batches.flatMap((batch) => batch.slice(0, -1));
    const leased = await received(endpointId, { max_events: 100 });
    const viaLease = leased.filter((e) => toDeliver.indexOf(e.id) % 2 === 0);
    await ack(endpointId, leaseIds(viaLease));
    await api().POST('/v1/pull-endpoints/{id}/events/ack', { ...on(endpointId), body: { event_ids: toDeliver } });
    return { endpointId, batches, all, delivered: toDeliver };
  }

  it('moves delivered events back to stored with a fresh lifecycle, oldest first up to limit, leaving the others alone', async () => {
    const { endpointId, delivered } = await deliveredBatches(3);
    const before = await rows(endpointId);
    expect(before.filter((r) => r.status === 'delivered').map((r) => r.id)).toEqual(delivered);

    const first = await replay(endpointId, { limit: 4 });
    expect(first.data).toEqual({ replayed: 4, replayed_event_ids: delivered.slice(0, 4) });
    const rest = await replay(endpointId, {});
    expect(rest.data).toEqual({ replayed: 2, replayed_event_ids: delivered.slice(4) });

    const after = await rows(endpointId);
    for (const [i, event] of after.entries()) {
      if (delivered.includes(event.id)) {
        expect(event).toMatchObject({ status: 'stored', fetchedAt: null, deliveredAt: null, leaseId: null, leaseExpiresAt: null, deliveryCount: 0, deadLetteredAt: null });
      } else {
        expect(event).toEqual(before[i]);
      }
    }
    expect(ids(await received(endpointId, { max_events: 100 }))).toEqual(delivered);
  });

  it('filters by event_type and by received_after (inclusive) and received_before (exclusive)', async () => {
    const { endpointId, batches, delivered } = await deliveredBatches(4);
    const table = await rows(endpointId);
    const at = (id: string) => table.find((r) => r.id === id)!.receivedAt;
    const after = at(batches[1]![0]!);
    const before = at(batches[2]![0]!);
    const inWindow = delivered.filter((id) => at(id) >= after && at(id) < before);
    expect(inWindow).toEqual(batches[1]!.slice(0, -1));

    const windowed = await replay(endpointId, { received_after: after.toISOString(), received_before: before.toISOString() });
    expect(windowed.data).toEqual({ replayed: inWindow.length, replayed_event_ids: inWindow });

    const type = table.find((r) => r.id === batches[0]![0])!.eventType!;
    const ofType = delivered.filter((id) => !inWindow.includes(id) && table.find((r) => r.id === id)!.eventType === type);
    expect(ofType.length).toBeGreaterThan(0);
    const typed = await replay(endpointId, { event_type: type });
    expect(typed.data).toEqual({ replayed: ofType.length, replayed_event_ids: ofType });
    expect((await rows(endpointId)).filter((r) => r.status === 'delivered').map((r) => r.id)).toEqual(
      delivered.filter((id) => !inWindow.includes(id) && !ofType.includes(id)),
    );
  });

  it('answers 400 when received_after is later than received_before, replaying nothing', async () => {
    const { endpointId } = await deliveredBatches(2);
    const { error, status } = await replay(endpointId, { received_after: '2026-02-01T00:00:00Z', received_before: '2026-01-01T00:00:00Z' });
    expect(status).toBe(400);
    expect(error!.error).toEqual({ code: 'INVALID_REQUEST', message: expect.stringMatching(/received_after must not be later than received_before/) });
    expect((await rows(endpointId)).filter((r) => r.status === 'delivered')).toHaveLength(3);
  });
});

describe('isolation', () => {
  it('answers 404 to another project’s key on every lease operation, and changes nothing', async () => {
    const endpointId = await buildEndpoint(server.db, owner.projectId);
    const seeded = await buildEvents(server.db, endpointId, 2);
    const [lease] = leaseIds(await received(endpointId, { max_events: 1 }));
    await api().POST('/v1/pull-endpoints/{id}/events/ack', { ...on(endpointId), body: { event_ids: [seeded[1]!] } });
    const before = await rows(endpointId);

    const answers = [
      await receive(endpointId, {}, stranger),
      await ack(endpointId, [lease!], stranger),
      await extend(endpointId, [lease!], 60, stranger),
      await release(endpointId, [lease!], 0, stranger),
      await redrive(endpointId, { all: true }, stranger),
      await redrive(endpointId, { event_ids: seeded }, stranger),
      await replay(endpointId, {}, stranger),
    ];
    for (const { error, status } of answers) {
      expect(status).toBe(404);
      expect(error!.error).toEqual({ code: 'ENDPOINT_NOT_FOUND', message: 'endpoint not found' });
    }
    expect(await rows(endpointId)).toEqual(before);
  });

  it('answers not_found to another project’s leases sent to one’s own endpoint', async () => {
    const endpointId = await buildEndpoint(server.db, owner.projectId);
    await buildEvents(server.db, endpointId, 1);
    const [lease] = leaseIds(await received(endpointId));
    const own = await buildEndpoint(server.db, stranger.projectId);
    await buildEvents(server.db, own, 1);
    const before = await rows(endpointId);

    expect((await ack(own, [lease!], stranger)).data!.results).toEqual([{ lease_id: lease, outcome: 'not_found' }]);
    expect((await extend(own, [lease!], 600, stranger)).data!.results).toEqual([{ lease_id: lease, outcome: 'not_found' }]);
    expect((await release(own, [lease!], 0, stranger)).data!.results).toEqual([{ lease_id: lease, outcome: 'not_found' }]);
    expect(await rows(endpointId)).toEqual(before);
    expect((await rows(own)).map((r) => r.status)).toEqual(['stored']);
  });
});
