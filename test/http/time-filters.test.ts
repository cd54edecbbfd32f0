import { ceilMillis, isLater } from '../../src/pull-events/ids';
import { buildEndpoint, buildEvents, buildProject, type TestProject } from '../support/factories';
import { startTestServer, type TestServer } from '../support/server';

let server: TestServer;
let owner: TestProject;
let endpointId: string;

beforeAll(async () => {
  server = await startTestServer();
  owner = await buildProject(server.db);
  endpointId = await buildEndpoint(server.db, owner.projectId);
  await buildEvents(server.db, endpointId, 2);
});
afterAll(() => server.close());

/** A GET with the query written exactly as given, no encoding by a client library. */
async function raw(pathAndQuery: string) {
  const response = await fetch(`${server.baseUrl}${pathAndQuery}`, { headers: { authorization: `Bearer ${owner.apiKey}` } });
  return { status: response.status, body: (await response.json()) as { data: unknown[]; error?: { message: string } } };
}

it('reads a `+` offset typed into the URL unencoded as the offset, not a space', async () => {
  for (const path of [`/v1/pull-endpoints/${endpointId}/events`, '/v1/pull-logs']) {
    const [since, before] = path.endsWith('events') ? ['since', 'before'] : ['start_time', 'end_time'];
    const all = await raw(`${path}?${since}=2020-03-01T00:00:00+01:00&${before}=2999-01-01T00:00:00.5+05:30`);
    expect([path, all.status, all.body.data.length]).toEqual([path, 200, 2]);
    const none = await raw(`${path}?${since}=2999-03-01T00:00:00+01:00`);
    expect([path, none.status, none.body.data.length]).toEqual([path, 200, 0]);
  }
  // Encoded, as clients send it, it means the same.
  expect((await raw(`/v1/pull-logs?start_time=2020-03-01T00:00:00%2B01:00`)).body.data.length).toBe(2);
});

it('orders times to any precision: a start later than the end by less than a millisecond is a 400', async () => {
  const answer = await raw('/v1/pull-logs?start_time=2026-03-01T00:00:00.0009Z&end_time=2026-03-01T00:00:00.0001Z');
  expect(answer.status).toBe(400);
  expect(answer.body.error!.message).toBe('start_time must not be later than end_time');
  expect((await raw('/v1/pull-logs?start_time=2026-03-01T00:00:00.0001Z&end_time=2026-03-01T00:00:00.0009Z')).status).toBe(200);
  expect(isLater('2026-03-01T00:00:00.00090Z', '2026-03-01T00:00:00.0009Z')).toBe(false);
  expect(isLater('2026-03-01T01:00:00.0000001+01:00', '2026-03-01T00:00:00Z')).toBe(true);
});

it('reads years 0000-0099 as themselves, not as 1900-1999', async () => {
  expect(ceilMillis('0099-01-01T00:00:00Z')).toBe(Date.parse('0099-01-01T00:00:00Z'));
  expect(ceilMillis('0000-03-01T00:00:00Z')).toBe(Date.parse('0000-03-01T00:00:00Z'));
  expect(ceilMillis('0004-02-29T12:00:00.0001Z')).toBe(Date.parse('0004-02-29T12:00:00Z') + 1);
  expect((await raw('/v1/pull-logs?start_time=0099-01-01T00:00:00Z&end_time=0100-01-01T00:00:00Z')).status).toBe(200);
  expect((await raw('/v1/pull-logs?start_time=1999-06-01T00:00:00Z&end_time=0099-12-31T00:00:00Z')).status).toBe(400);
});
