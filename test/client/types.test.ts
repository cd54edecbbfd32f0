// Type-level tests: `tsc --noEmit` (npm run typecheck) and ts-jest compile this file, so an
// `@ts-expect-error` that stops being an error fails them, as does a type that drifts.
import {
  PullEventsApiError,
  createPullEventsClient,
  type DeleteBatchResult,
  type ErrorCode,
  type LeasedEvent,
  type PullEndpoint,
  type PullEventSummary,
  type PullEventsClient,
  type operations,
} from '../../src/client';
import { buildEndpoint, buildEvents, buildProject, type TestProject } from '../support/factories';
import { startTestServer, type TestServer } from '../support/server';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Compiles only when `Actual` is exactly `Expected`. */
const assertType = <Expected>() => <Actual>(_value: Actual, ..._same: Equal<Actual, Expected> extends true ? [] : [never]) => undefined;

let server: TestServer;
let owner: TestProject;
let client: PullEventsClient;
beforeAll(async () => {
  server = await startTestServer();
  owner = await buildProject(server.db);
  client = server.client(owner.apiKey);
});
afterAll(() => server.close());

it('refuses a path that is not in openapi.yaml (the service answers it 404)', async () => {
  // Without the contract checker, which would refuse the path too.
  const unchecked = createPullEventsClient({ baseUrl: server.baseUrl, apiKey: owner.apiKey });
  // @ts-expect-error: no such path (the list is /v1/pull-endpoints)
  const { response } = await unchecked.GET('/v1/pull-endpoint', {});
  expect(response.status).toBe(404);
});

it('refuses a body field the schema does not have (the service answers it 400)', async () => {
  const endpointId = await buildEndpoint(server.db, owner.projectId);
  const [id] = await buildEvents(server.db, endpointId, 1);
  const answer = client.POST('/v1/pull-endpoints/{id}/events/ack', {
    params: { path: { id: endpointId } },
    // @ts-expect-error: AckRequest has `event_ids`, not `ids`
    body: { ids: [id!] },
  });
  expect((await answer).response.status).toBe(400);
});

it('refuses a status or an error code the operation does not declare', async () => {
  // @ts-expect-error: listPullEndpoints declares no 418
  const teapot: operations['listPullEndpoints']['responses'][418] | undefined = undefined;
  expect(teapot).toBeUndefined();

  const { error } = await client.GET('/v1/pull-endpoints/{id}', { params: { path: { id: '01935abc-def0-7123-4567-890abcdef012' } } });
  expect(error?.error.code).toBe('ENDPOINT_NOT_FOUND');
  assertType<ErrorCode | undefined>()(error?.error.code);
  // @ts-expect-error: TEAPOT is not an ErrorCode
  expect(error?.error.code === 'TEAPOT').toBe(false);
});

it("types the methods' answers from openapi.yaml", async () => {
  const endpointId = await buildEndpoint(server.db, owner.projectId);
  const ids = await buildEvents(server.db, endpointId, 1);

  for await (const endpoint of client.listEndpoints()) assertType<PullEndpoint>()(endpoint);
  for await (const event of client.listEvents(endpointId)) assertType<PullEventSummary>()(event);
  // @ts-expect-error: `status` takes the event statuses and `any` only
  client.listEvents(endpointId, { status: 'acked' });

  const deleted = await client.deleteBatch(endpointId, ids);
  assertType<DeleteBatchResult>()(deleted);
  expect(deleted.deleted_count).toBe(1);

  const error = await client.getEvent(endpointId, ids[0]!).catch((e: unknown) => e);
  if (!(error instanceof PullEventsApiError)) throw new Error('expected a PullEventsApiError');
  assertType<ErrorCode | undefined>()(error.code);
  expect(error.code).toBe('MESSAGE_DELETED');

  const handler = (event: LeasedEvent) => assertType<string>()(event.lease_id);
  // @ts-expect-error: a handler takes a LeasedEvent, not a number
  void client.consume(endpointId, (event: number) => event, { signal: AbortSignal.abort() });
  await client.consume(endpointId, handler, { signal: AbortSignal.abort() });
});
