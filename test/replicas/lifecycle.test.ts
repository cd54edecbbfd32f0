import http from 'node:http';
import { postWebhook } from '../support/webhooks';
import { createPullEventsClient } from '../../src/client';
import { createPrismaClient, type Database } from '../../src/db/prisma';
import { contract } from '../support/contract';
import { buildEndpointWithToken, buildEvents, buildProject, type TestProject } from '../support/factories';
import { withUpdateTrigger } from '../support/faults';
import { startService } from '../support/processes';
import { testDatabaseUrl } from '../support/server';

let db: Database;
let owner: TestProject;
beforeAll(async () => {
  db = createPrismaClient(testDatabaseUrl());
  owner = await buildProject(db);
});
afterAll(() => db.$disconnect());

it('on SIGTERM stops accepting, finishes the request in flight, and exits 0', async () => {
  const service = await startService(testDatabaseUrl());
  const { id: endpointId } = await buildEndpointWithToken(db, owner.projectId);
  const ids = await buildEvents(db, endpointId, 3);
  // The delete of this event takes a second, so it is still running when SIGTERM arrives.
  await withUpdateTrigger(db, ids[0]!, 'PERFORM pg_sleep(1);', async () => {
    const client = createPullEventsClient({ baseUrl: service.baseUrl, apiKey: owner.apiKey, middleware: [contract.middleware()] });
    const inFlight = client.POST('/v1/pull-endpoints/{id}/events/delete-batch', { params: { path: { id: endpointId } }, body: { message_ids: ids } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = Date.now();
    const exitCode = service.stop();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await expect(fetch(`${service.baseUrl}/healthz`)).rejects.toThrow();

    const { data, response } = await inFlight;
    expect(response.status).toBe(200);
    expect(data!.data.deleted_count).toBe(3);
    expect(await exitCode).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

it('never writes API keys or ingest tokens to its logs', async () => {
  const service = await startService(testDatabaseUrl(), { LOG_LEVEL: 'debug' });
  try {
    const endpoint = await buildEndpointWithToken(db, owner.projectId);
    const wrongKey = 'pek_deadbeef_ThisIsNotARealKeyButStillASecret';
    await createPullEventsClient({ baseUrl: service.baseUrl, apiKey: owner.apiKey }).GET('/v1/pull-endpoints', {});
    await createPullEventsClient({ baseUrl: service.baseUrl, apiKey: wrongKey }).GET('/v1/pull-endpoints', {});
    const hmacSecret = 'whsec_bG9nLXRlc3Qtc2VjcmV0LXZhbHVl';
    const tokenValue = 'static-token-value-never-logged';
    const { id, token } = endpoint;
    await createPullEventsClient({ baseUrl: service.baseUrl, apiKey: owner.apiKey }).PATCH('/v1/pull-endpoints/{id}', {
      params: { path: { id } },
      body: { verify_hmac: true, hmac_scheme: 'standard_webhooks', hmac_secret: hmacSecret, verify_static_token: true, token_query_param: 'key', token_value: tokenValue },
    });
    // Accepted by the URL, refused by the checks, sent to unknown routes under /pull: none of it may log a secret.
    expect((await postWebhook(service.baseUrl, `/pull/${token}?key=${tokenValue}`, '{"a": 1}')).status).toBe(401);
    expect((await postWebhook(service.baseUrl, `/pull/${token}/`, '{"b": 2}')).status).toBe(401);
    expect((await fetch(`${service.baseUrl}/pull/${token}`)).status).toBe(404);
    const notFound = await (await fetch(`${service.baseUrl}/pull/${token}/extra`, { method: 'POST' })).text();
    expect(notFound).not.toContain(token);
    const log = service.child.output();
    expect(log).toContain('"operation_id":"listPullEndpoints","status":401');
    expect(log).toContain('"route":"/pull/{token}"');
    for (const secret of [owner.apiKey, wrongKey, token, hmacSecret, tokenValue]) expect(log).not.toContain(secret);
  } finally {
    expect(await service.stop()).toBe(0);
  }
});

it('refuses a body over the cap without reading it whole', async () => {
  const service = await startService(testDatabaseUrl());
  try {
    const port = Number(new URL(service.baseUrl).port);
    const started = Date.now();
    const status = await new Promise<number>((resolve, reject) => {
      const request = http.request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: `/v1/pull-endpoints/${owner.projectId}/events/delete-batch`,
        headers: { 'Content-Type': 'application/json', 'Content-Length': 512 * 1024 * 1024, Authorization: `Bearer ${owner.apiKey}` },
      });
      request.on('response', (response) => {
        resolve(response.statusCode ?? 0);
        request.destroy();
      });
      request.on('error', (error) => (Date.now() - started < 5000 ? undefined : reject(error)));
      // Only the first kilobyte of the announced 512 MiB is ever sent.
      request.write('{"message_ids": ["' + 'x'.repeat(1024));
    });
    expect(status).toBe(413);
    expect(Date.now() - started).toBeLessThan(5000);
  } finally {
    expect(await service.stop()).toBe(0);
  }
});
