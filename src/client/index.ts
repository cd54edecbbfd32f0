import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { paths } from '../../generated/openapi.js';
import { deleteInChunks } from './batch.js';
import { consume, type ConsumeOptions, type EventHandler } from './consume.js';
import { bodyOf, dataOf } from './errors.js';
import { paginate } from './pagination.js';
import { TRANSPORT_DEFAULTS, createTransport, type Fetch, type TransportOptions } from './transport.js';
import type * as api from './types.js';

export type { components, operations, paths } from '../../generated/openapi.js';
export type { ConsumeOptions, EventHandler } from './consume.js';
export {
  PullEventsApiError,
  PullEventsBatchError,
  PullEventsConnectionError,
  PullEventsError,
  PullEventsTimeoutError,
  dataOf,
  type ErrorCode,
} from './errors.js';
export type { TransportOptions } from './transport.js';
export type {
  CallOptions,
  DeleteBatchResult,
  EndpointListQuery,
  EventListQuery,
  LeaseAckResult,
  LeaseExtendResult,
  LeaseReleaseResult,
  LeasedEvent,
  PullEndpoint,
  PullEvent,
  PullEventSummary,
  PullLog,
  PullLogListQuery,
  ReceiveRequest,
  ReceiveResult,
  Rejection,
  RejectionListQuery,
} from './types.js';

export interface PullEventsClientOptions extends TransportOptions {
  baseUrl: string;
  /** A project API key; omit it only for the unauthenticated health probes. */
  apiKey?: string;
  /** Defaults to the global fetch; called once per attempt. */
  fetch?: Fetch;
  middleware?: Middleware[];
}

export interface PullEventsMethods {
  /** Every endpoint of the project, oldest first, fetched a page at a time. */
  listEndpoints(query?: api.EndpointListQuery, options?: api.CallOptions): AsyncGenerator<api.PullEndpoint, void, undefined>;
  /** The endpoint's events (metadata, no payloads) in the order received. */
  listEvents(endpointId: string, query?: api.EventListQuery, options?: api.CallOptions): AsyncGenerator<api.PullEventSummary, void, undefined>;
  /** Events across the project's endpoints, newest first. */
  listPullLogs(query?: api.PullLogListQuery, options?: api.CallOptions): AsyncGenerator<api.PullLog, void, undefined>;
  /** Webhooks the endpoint's ingest URL refused, newest first. */
  listRejections(endpointId: string, query?: api.RejectionListQuery, options?: api.CallOptions): AsyncGenerator<api.Rejection, void, undefined>;
  /** An event with its payload; reading moves `stored` to `fetched` unless `preview`. */
  getEvent(endpointId: string, eventId: string, query?: { preview?: boolean }, options?: api.CallOptions): Promise<api.PullEvent>;
  /** Moves events to `delivered` (by id, whatever their leases); resolves to how many moved. */
  ackEvents(endpointId: string, eventIds: string[], options?: api.CallOptions): Promise<number>;
  /** Soft-deletes any number of events, 100 a request; see `PullEventsBatchError` for a failure midway. */
  deleteBatch(endpointId: string, eventIds: string[], options?: api.CallOptions): Promise<api.DeleteBatchResult>;
  /** Receives events under leases; with `wait_seconds`, waits (long polling) until one is receivable. */
  receive(endpointId: string, body?: api.ReceiveRequest, options?: api.CallOptions): Promise<api.ReceiveResult>;
  /** Acknowledges leased events: one outcome per lease id, in request order. */
  ackLeases(endpointId: string, body: { lease_ids: string[] }, options?: api.CallOptions): Promise<api.LeaseAckResult>;
  /** Makes leases end `lease_seconds` from now. */
  extendLeases(endpointId: string, body: { lease_ids: string[]; lease_seconds: number }, options?: api.CallOptions): Promise<api.LeaseExtendResult>;
  /** Gives leased events back, receivable again at once or after `delay_seconds`. */
  releaseLeases(endpointId: string, body: { lease_ids: string[]; delay_seconds?: number }, options?: api.CallOptions): Promise<api.LeaseReleaseResult>;
  /**
   * Runs `handler` on the endpoint's events as they come (long polling), up to `concurrency` at a
   * time, each under a lease that is extended while it runs, acked when it resolves and released
   * (with a growing delay) when it throws. Resolves once `signal` aborted and the handlers finished.
   */
  consume(endpointId: string, handler: EventHandler, options?: ConsumeOptions): Promise<void>;
}

/** openapi-fetch's typed `GET`, `POST`, ... over the generated `paths`, and the methods above. */
export type PullEventsClient = Client<paths> & PullEventsMethods;

/** A client for the Pull Events API: paths, bodies and answers are typed from openapi.yaml. */
export function createPullEventsClient({ baseUrl, apiKey, fetch, middleware = [], ...transportOptions }: PullEventsClientOptions): PullEventsClient {
  const send: Fetch = fetch ?? ((request) => globalThis.fetch(request));
  const client = createClient<paths>({
    baseUrl,
    ...(apiKey ? { headers: { Authorization: `Bearer ${apiKey}` } } : {}),
    fetch: createTransport(send, transportOptions),
  });
  for (const m of middleware) client.use(m);

  /** One call's request options: its signal, and a transport of its own when it overrides the client's. */
  const call = ({ signal, ...overrides }: api.CallOptions = {}) => ({
    signal: signal ?? null,
    ...(Object.keys(overrides).length > 0 && { fetch: createTransport(send, { ...transportOptions, ...overrides }) }),
  });
  const endpoint = (id: string) => ({ path: { id } });

  const methods: PullEventsMethods = {
    listEndpoints: (query = {}, options) =>
      paginate((cursor) => bodyOf(client.GET('/v1/pull-endpoints', { params: { query: { ...query, ...(cursor && { cursor }) } }, ...call(options) }))),
    listEvents: (endpointId, query = {}, options) =>
      paginate((cursor) =>
        bodyOf(client.GET('/v1/pull-endpoints/{id}/events', { params: { ...endpoint(endpointId), query: { ...query, ...(cursor && { cursor }) } }, ...call(options) })),
      ),
    listPullLogs: (query = {}, options) =>
      paginate((cursor) => bodyOf(client.GET('/v1/pull-logs', { params: { query: { ...query, ...(cursor && { cursor }) } }, ...call(options) }))),
    listRejections: (endpointId, query = {}, options) =>
      paginate((cursor) =>
        bodyOf(client.GET('/v1/pull-endpoints/{id}/rejections', { params: { ...endpoint(endpointId), query: { ...query, ...(cursor && { cursor }) } }, ...call(options) })),
      ),
    getEvent: (endpointId, eventId, query = {}, options) =>
      dataOf(client.GET('/v1/pull-endpoints/{id}/events/{event_id}', { params: { path: { id: endpointId, event_id: eventId }, query }, ...call(options) })),
    ackEvents: async (endpointId, eventIds, options) =>
      (await dataOf(client.POST('/v1/pull-endpoints/{id}/events/ack', { params: endpoint(endpointId), body: { event_ids: eventIds }, ...call(options) }))).acknowledged,
    deleteBatch: (endpointId, eventIds, options) =>
      deleteInChunks(eventIds, (chunk) =>
        dataOf(client.POST('/v1/pull-endpoints/{id}/events/delete-batch', { params: endpoint(endpointId), body: { message_ids: chunk }, ...call(options) })),
      ),
    receive: (endpointId, body = {}, options = {}) => {
      // A long poll's answer is due after its wait: the timeout starts counting then.
      const timeoutMs = options.timeoutMs ?? transportOptions.timeoutMs ?? TRANSPORT_DEFAULTS.timeoutMs;
      const waitMs = (body.wait_seconds ?? 0) * 1000;
      const withWait = timeoutMs > 0 && waitMs > 0 ? { ...options, timeoutMs: timeoutMs + waitMs } : options;
      return dataOf(client.POST('/v1/pull-endpoints/{id}/events/receive', { params: endpoint(endpointId), body, ...call(withWait) }));
    },
    ackLeases: (endpointId, body, options) =>
      dataOf(client.POST('/v1/pull-endpoints/{id}/events/leases/ack', { params: endpoint(endpointId), body, ...call(options) })),
    extendLeases: (endpointId, body, options) =>
      dataOf(client.POST('/v1/pull-endpoints/{id}/events/leases/extend', { params: endpoint(endpointId), body, ...call(options) })),
    releaseLeases: (endpointId, body, options) =>
      dataOf(client.POST('/v1/pull-endpoints/{id}/events/leases/release', { params: endpoint(endpointId), body, ...call(options) })),
    consume: (endpointId, handler, options) => consume(methods, endpointId, handler, options),
  };
  return Object.assign(client, methods);
}
