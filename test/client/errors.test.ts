import {
  PullEventsApiError,
  PullEventsConnectionError,
  PullEventsError,
  PullEventsTimeoutError,
  createPullEventsClient,
  type PullEventsClientOptions,
} from '../../src/client';
import { buildEndpoint, buildProject, randomId, type TestProject } from '../support/factories';
import { freePort } from '../support/processes';
import { startTestServer, type TestServer } from '../support/server';
import { recordingFetch, silentServer } from './helpers';

let server: TestServer;
let owner: TestProject;
beforeAll(async () => {
  server = await startTestServer();
  owner = await buildProject(server.db);
});
afterAll(() => server.close());

const clientOf = (baseUrl: string, options: Partial<PullEventsClientOptions> = {}) =>
  createPullEventsClient({ baseUrl, apiKey: owner.apiKey, retryBaseDelayMs: 10, ...options });

it('throws a 404 as PullEventsApiError with the envelope\'s code and message and the request id', async () => {
  const requestIds: Array<string | null> = [];
  const client = clientOf(server.baseUrl, {
    fetch: async (request) => {
      const response = await fetch(request);
      requestIds.push(response.headers.get('x-request-id'));
      return response;
    },
  });
  const error = await client.getEvent(randomId(), randomId()).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(PullEventsApiError);
  expect(error).toBeInstanceOf(PullEventsError);
  expect(error).toMatchObject({
    name: 'PullEventsApiError',
    status: 404,
    code: 'ENDPOINT_NOT_FOUND',
    message: expect.stringMatching(/endpoint/i),
    requestId: requestIds[0],
  });
  expect(requestIds).toEqual([expect.stringMatching(/^req_/)]);
});

it('throws a 400 with the validator\'s message, from the first page of a list', async () => {
  const endpointId = await buildEndpoint(server.db, owner.projectId);
  const events = clientOf(server.baseUrl).listEvents(endpointId, { since: '2026-02-01T00:00:00Z', before: '2026-01-01T00:00:00Z' });
  const error = await events.next().catch((e: unknown) => e);
  expect(error).toMatchObject({ status: 400, code: 'INVALID_REQUEST', message: expect.stringMatching(/since/), requestId: expect.stringMatching(/^req_/) });
});

it('throws an answer that is not an error envelope with its status, and the request id from the header', async () => {
  const client = clientOf(server.baseUrl, {
    fetch: async () => new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway', headers: { 'x-request-id': 'req_proxy' } }),
  });
  const error = await client.receive(randomId()).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(PullEventsApiError);
  expect(error).toMatchObject({ status: 502, code: undefined, message: 'HTTP 502 Bad Gateway', requestId: 'req_proxy' });
});

it('throws PullEventsTimeoutError when no answer comes within timeoutMs, after retrying a GET', async () => {
  const silent = await silentServer();
  try {
    const recorded = recordingFetch();
    const started = Date.now();
    const error = await clientOf(silent.baseUrl, { fetch: recorded.fetch, timeoutMs: 200, retries: 1 }).listEndpoints().next().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PullEventsTimeoutError);
    expect(error).toBeInstanceOf(PullEventsConnectionError);
    expect(error).toMatchObject({ name: 'PullEventsTimeoutError', timeoutMs: 200 });
    expect(recorded.outcomes()).toEqual(['aborted', 'aborted']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  } finally {
    await silent.close();
  }
});

it('throws PullEventsConnectionError for a closed port, after retries for an ack and at once for a receive', async () => {
  const closed = `http://127.0.0.1:${await freePort()}`;
  const recorded = recordingFetch();
  const client = clientOf(closed, { fetch: recorded.fetch, retries: 2 });

  const ack = await client.ackEvents(randomId(), [randomId()]).catch((e: unknown) => e);
  expect(ack).toBeInstanceOf(PullEventsConnectionError);
  expect(ack).not.toBeInstanceOf(PullEventsTimeoutError);
  expect(ack).toMatchObject({ cause: expect.objectContaining({ name: 'TypeError' }) });
  expect(recorded.outcomes()).toEqual(['failed', 'failed', 'failed']);

  recorded.attempts.length = 0;
  await expect(client.receive(randomId())).rejects.toBeInstanceOf(PullEventsConnectionError);
  expect(recorded.outcomes()).toEqual(['failed']);
});

it('gives a long-polling receive its wait on top of the timeout', async () => {
  const endpointId = await buildEndpoint(server.db, owner.projectId);
  const started = Date.now();
  const { events } = await clientOf(server.baseUrl, { timeoutMs: 500 }).receive(endpointId, { wait_seconds: 1 });
  expect(events).toEqual([]);
  expect(Date.now() - started).toBeGreaterThanOrEqual(900);
});

it('rejects with the caller\'s abort reason, without retrying', async () => {
  const silent = await silentServer();
  try {
    const stop = new AbortController();
    const reason = new Error('stopped by the caller');
    setTimeout(() => stop.abort(reason), 100);
    const recorded = recordingFetch();
    await expect(clientOf(silent.baseUrl, { fetch: recorded.fetch, retries: 3 }).listEndpoints({}, { signal: stop.signal }).next()).rejects.toBe(reason);
    expect(recorded.outcomes()).toEqual(['aborted']);
  } finally {
    await silent.close();
  }
});
