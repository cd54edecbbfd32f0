import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { components, paths } from '../../generated/openapi';

export type { paths } from '../../generated/openapi';
export type PullEventsClient = Client<paths>;

type Schemas = components['schemas'];
export type ErrorCode = Schemas['ErrorCode'];
export type LeasedEvent = Schemas['LeasedEvent'];

export interface PullEventsClientOptions {
  baseUrl: string;
  /** A project API key; omit it only for the unauthenticated health probes. */
  apiKey?: string;
  /** Defaults to the global fetch. */
  fetch?: typeof globalThis.fetch;
  middleware?: Middleware[];
}

/** A typed client for the Pull Events API: paths, bodies and responses come from openapi.yaml. */
export function createPullEventsClient({ baseUrl, apiKey, fetch, middleware = [] }: PullEventsClientOptions): PullEventsClient {
  const client = createClient<paths>({
    baseUrl,
    ...(apiKey ? { headers: { Authorization: `Bearer ${apiKey}` } } : {}),
    ...(fetch ? { fetch } : {}),
  });
  for (const m of middleware) client.use(m);
  return client;
}

/** The API answered with a status other than 2xx; `code`, `message` and `requestId` are its error envelope's. */
export class PullEventsApiError extends Error {
  override readonly name = 'PullEventsApiError';

  constructor(
    message: string,
    /** The HTTP status (left undefined for failures that never got an answer). */
    readonly status: number | undefined,
    /** Undefined when the body was not the API's error envelope (a proxy's 502 page, say). */
    readonly code: ErrorCode | undefined,
    /** From `meta.request_id`, or the `X-Request-Id` header: quote it when reporting a problem. */
    readonly requestId: string | undefined,
  ) {
    super(message);
  }
}

function isErrorEnvelope(body: unknown): body is Schemas['Error'] {
  if (typeof body !== 'object' || body === null || !('error' in body)) return false;
  const { error } = body;
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
    && 'message' in error && typeof error.message === 'string';
}

/**
 * The `data` of a 2xx answer's envelope, or a `PullEventsApiError` for any other status. Works for
 * every operation: `await dataOf(client.POST('/v1/pull-endpoints/{id}/events/redrive', {...}))`.
 */
export async function dataOf<D>(pending: Promise<{ data?: { data: D }; error?: unknown; response: Response }>): Promise<D> {
  const { data, error, response } = await pending;
  if (response.ok && data !== undefined) return data.data;
  const envelope = isErrorEnvelope(error) ? error : undefined;
  throw new PullEventsApiError(
    envelope?.error.message ?? `HTTP ${response.status} ${response.statusText}`.trim(),
    response.status,
    envelope?.error.code,
    envelope?.meta?.request_id ?? response.headers.get('x-request-id') ?? undefined,
  );
}

export interface CallOptions {
  /** Cancels the request (a long-polling receive, say): the call then rejects with the signal's reason. */
  signal?: AbortSignal;
}

const endpoint = (id: string) => ({ params: { path: { id } } });

/** Receives events under leases; with `wait_seconds`, waits (long polling) until one is receivable. */
export function receive(
  client: PullEventsClient,
  endpointId: string,
  body: Schemas['ReceiveRequest'] = {},
  { signal }: CallOptions = {},
): Promise<Schemas['ReceiveResponse']['data']> {
  return dataOf(client.POST('/v1/pull-endpoints/{id}/events/receive', { ...endpoint(endpointId), body, signal: signal ?? null }));
}

/** Acknowledges leased events: one outcome per lease id, in request order. */
export function ackLeases(
  client: PullEventsClient,
  endpointId: string,
  body: Schemas['LeaseAckRequest'],
  { signal }: CallOptions = {},
): Promise<Schemas['LeaseAckResponse']['data']> {
  return dataOf(client.POST('/v1/pull-endpoints/{id}/events/leases/ack', { ...endpoint(endpointId), body, signal: signal ?? null }));
}

/** Makes leases end `lease_seconds` from now. */
export function extendLeases(
  client: PullEventsClient,
  endpointId: string,
  body: Schemas['LeaseExtendRequest'],
  { signal }: CallOptions = {},
): Promise<Schemas['LeaseExtendResponse']['data']> {
  return dataOf(client.POST('/v1/pull-endpoints/{id}/events/leases/extend', { ...endpoint(endpointId), body, signal: signal ?? null }));
}

/** Gives leased events back, receivable again at once or after `delay_seconds`. */
export function releaseLeases(
  client: PullEventsClient,
  endpointId: string,
  body: Schemas['LeaseReleaseRequest'],
  { signal }: CallOptions = {},
): Promise<Schemas['LeaseReleaseResponse']['data']> {
  return dataOf(client.POST('/v1/pull-endpoints/{id}/events/leases/release', { ...endpoint(endpointId), body, signal: signal ?? null }));
}
