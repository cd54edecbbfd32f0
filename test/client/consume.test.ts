import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { PullEventsApiError, createPullEventsClient, type LeasedEvent } from '../../src/client';
import { contract } from '../support/contract';
import { buildEndpoint, buildEvents, buildProject, randomId, type TestProject } from '../support/factories';
import { waitFor } from '../support/processes';
import { startTestServer, type TestServer } from '../support/server';
import { recordingFetch } from './helpers';

let server: TestServer;
let owner: TestProject;
beforeAll(async () => {
  server = await startTestServer();
  owner = await buildProject(server.db);
});
afterAll(() => server.close());

function recordingClient() {
  const recorded = recordingFetch();
  const client = createPullEventsClient({ baseUrl: server.baseUrl, apiKey: owner.apiKey, fetch: recorded.fetch, middleware: [contract.middleware()] });
  const to = (operation: string) => recorded.attempts.filter((a) => a.path.endsWith(`/events/${operation}`));
  return { client, to };
}

/** Errors `consume` reports; any but `expected` ones also stop it, so a test fails on them rather than on its timeout. */
function watchErrors(stop: AbortController, expected: (error: unknown) => boolean = () => false) {
  const errors: Array<{ message: string; eventId: string | undefined }> = [];
  const onError = (error: unknown, event?: LeasedEvent) => {
    errors.push({ message: error instanceof Error ? error.message : String(error), eventId: event?.id });
    if (!expected(error)) stop.abort();
  };
  return { errors, onError };
}

function eventRows(endpointId: string) {
  return server.db.pullEvent.findMany({ where: { pullEndpointId: endpointId }, orderBy: { id: 'asc' }, select: { id: true, status: true, deliveryCount: true } });
}

it('handles every event once, with at most `concurrency` handlers at a time, and acks each', async () => {
  const endpointId = await buildEndpoint(server.db, owner.projectId);
  const ids = await buildEvents(server.db, endpointId, 8);
  const { client } = recordingClient();
  const stop = new AbortController();
  const { errors, onError } = watchErrors(stop);
  const handled: string[] = [];
  let running = 0;
  let mostRunning = 0;

  await client.consume(
    endpointId,
    async (event) => {
      mostRunning = Math.max(mostRunning, ++running);
      await sleep(50);
      running--;
      handled.push(event.id);
      if (handled.length === ids.length) stop.abort();
    },
    { concurrency: 3, signal: stop.signal, onError },
  );

  expect(errors).toEqual([]);
  expect(mostRunning).toBe(3);
  expect([...handled].sort()).toEqual(ids);
  expect((await eventRows(endpointId)).map((r) => [r.status, r.deliveryCount])).toEqual(ids.map(() => ['delivered', 1]));
});

it("extends a slow handler's lease past its first expiry", async () => {
  const endpointId = await buildEndpoint(server.db, owner.projectId);
  const [id] = await buildEvents(server.db, endpointId, 1);
  const { client, to } = recordingClient();
  const stop = new AbortController();
  const { errors, onError } = watchErrors(stop);
  const deliveries: number[] = [];

  await client.consume(
    endpointId,
    async (event) => {
      deliveries.push(event.delivery_count);
      // A second past the lease it was received under (2 s, extended every second).
      await sleep(Date.parse(event.lease_expires_at) + 1000 - Date.now());
      stop.abort();
    },
    { concurrency: 2, leaseSeconds: 2, signal: stop.signal, onError },
  );

  // Had the lease run out, the free slot's receive would have had the event again, and the ack
  // would have answered lease_expired.
  expect(errors).toEqual([]);
  expect(deliveries).toEqual([1]);
  expect(to('leases/extend').filter((a) => a.outcome === 200).length).toBeGreaterThanOrEqual(2);
  expect(await eventRows(endpointId)).toEqual([{ id, status: 'delivered', deliveryCount: 1 }]);
});

it('releases an event whose handler threw, and receives it again once retryDelaySeconds are over', async () => {
  const endpointId = await buildEndpoint(server.db, owner.projectId);
  const [id] = await buildEvents(server.db, endpointId, 1);
  const { client, to } = recordingClient();
  const stop = new AbortController();
  const failure = new Error('handler failed');
  const { errors, onError } = watchErrors(stop, (error) => error === failure);
  const calls: Array<{ delivery: number; at: number }> = [];

  await client.consume(
    endpointId,
    (event) => {
      calls.push({ delivery: event.delivery_count, at: Date.now() });
      if (event.delivery_count === 1) throw failure;
      stop.abort();
    },
    { signal: stop.signal, retryDelaySeconds: () => 1, onError },
  );

  expect(errors).toEqual([{ message: 'handler failed', eventId: id }]);
  expect(calls.map((c) => c.delivery)).toEqual([1, 2]);
  expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(900);
  expect(to('leases/release').map((a) => a.outcome)).toEqual([200]);
  expect(await eventRows(endpointId)).toEqual([{ id, status: 'delivered', deliveryCount: 2 }]);
});

it('on abort, cancels its waiting receive, acks the handler that finishes and releases at once the one that gives up', async () => {
  const endpointId = await buildEndpoint(server.db, owner.projectId);
  const [givesUp, finishes] = (await buildEvents(server.db, endpointId, 2)) as [string, string];
  const { client, to } = recordingClient();
  const stop = new AbortController();
  const { errors, onError } = watchErrors(stop, (error) => error instanceof Error && error.message === 'gave up');
  const started: string[] = [];

  const consuming = client.consume(
    endpointId,
    async (event, signal) => {
      started.push(event.id);
      if (!signal.aborted) await once(signal, 'abort');
      if (event.id === givesUp) throw new Error('gave up');
    },
    // A slot more than there are events: the third is long-polling when the worker is stopped.
    { concurrency: 3, leaseSeconds: 600, retryDelaySeconds: () => 300, signal: stop.signal, onError },
  );
  await waitFor(async () => (started.length === 2 && to('receive').length === 2) || stop.signal.aborted, 20_000, 'both handlers and a waiting receive');
  stop.abort();
  await consuming;

  expect(to('receive').map((a) => a.outcome)).toEqual([200, 'aborted']);
  expect(errors).toEqual([{ message: 'gave up', eventId: givesUp }]);
  expect((await eventRows(endpointId)).map((r) => [r.id, r.status])).toEqual([
    [givesUp, 'fetched'],
    [finishes, 'delivered'],
  ]);
  // Released with no delay (not retryDelaySeconds' 300): the next receive has it.
  const { events } = await client.receive(endpointId, { max_events: 10 });
  expect(events.map((e) => [e.id, e.delivery_count])).toEqual([[givesUp, 2]]);
});

it('rejects when receiving can not work, such as on an unknown endpoint', async () => {
  const { client } = recordingClient();
  const handler = jest.fn();
  const error = await client.consume(randomId(), handler, { onError: () => undefined }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(PullEventsApiError);
  expect(error).toMatchObject({ status: 404, code: 'ENDPOINT_NOT_FOUND' });
  expect(handler).not.toHaveBeenCalled();
});
