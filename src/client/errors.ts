import type { components } from '../../generated/openapi.js';

type Schemas = components['schemas'];
export type ErrorCode = Schemas['ErrorCode'];
type DeleteBatchResult = Schemas['DeleteBatchResult'];

/** Every error the client throws is one of these (a caller's own abort rejects with its signal's reason). */
export class PullEventsError extends Error {
  override readonly name: string = 'PullEventsError';
}

/** The API answered with a status other than 2xx. */
export class PullEventsApiError extends PullEventsError {
  override readonly name: string = 'PullEventsApiError';
  readonly status: number;
  /** Undefined when the body was not the API's error envelope (a proxy's 502 page, say). */
  readonly code: ErrorCode | undefined;
  /** From `meta.request_id`, or the `X-Request-Id` header: quote it when reporting a problem. */
  readonly requestId: string | undefined;
  /** The answer's `Retry-After`, when it had one (a 429 that asked for a longer wait than the client allows). */
  readonly retryAfterMs: number | undefined;

  constructor(fields: { message: string; status: number; code?: ErrorCode; requestId?: string; retryAfterMs?: number }) {
    super(fields.message);
    this.status = fields.status;
    this.code = fields.code;
    this.requestId = fields.requestId;
    this.retryAfterMs = fields.retryAfterMs;
  }
}

/** No answer: the connection failed (refused, reset, DNS). `cause` is what `fetch` threw. */
export class PullEventsConnectionError extends PullEventsError {
  override readonly name: string = 'PullEventsConnectionError';
}

/** No whole answer within `timeoutMs` (one attempt's). */
export class PullEventsTimeoutError extends PullEventsConnectionError {
  override readonly name: string = 'PullEventsTimeoutError';

  constructor(
    message: string,
    readonly timeoutMs: number,
  ) {
    super(message);
  }
}

/**
 * A `deleteBatch` chunk failed (`cause` says how). `completed` merges the chunks that were done;
 * `pending` holds the ids from the failed chunk on, whose deletion is not confirmed: deleting
 * them again is safe (a deleted id answers `already_deleted`).
 */
export class PullEventsBatchError extends PullEventsError {
  override readonly name: string = 'PullEventsBatchError';

  constructor(
    readonly completed: DeleteBatchResult,
    readonly pending: string[],
    cause: unknown,
  ) {
    super(`deleteBatch stopped after ${completed.results.length} ids, ${pending.length} pending: ${messageOf(cause)}`, { cause });
  }
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

function isErrorEnvelope(body: unknown): body is Schemas['Error'] {
  if (typeof body !== 'object' || body === null || !('error' in body)) return false;
  const { error } = body;
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
    && 'message' in error && typeof error.message === 'string';
}

/** Seconds or an HTTP date, as milliseconds from now; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

export function apiErrorOf(response: Response, body: unknown): PullEventsApiError {
  const envelope = isErrorEnvelope(body) ? body : undefined;
  const requestId = envelope?.meta?.request_id ?? response.headers.get('x-request-id') ?? undefined;
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  return new PullEventsApiError({
    message: envelope?.error.message ?? `HTTP ${response.status} ${response.statusText}`.trim(),
    status: response.status,
    ...(envelope && { code: envelope.error.code }),
    ...(requestId !== undefined && { requestId }),
    ...(retryAfterMs !== undefined && { retryAfterMs }),
  });
}

type Answer<B> = Promise<{ data?: B; error?: unknown; response: Response }>;

/** The whole body of a 2xx answer (`data` and `meta`), or a `PullEventsApiError`. */
export async function bodyOf<B>(pending: Answer<B>): Promise<B> {
  const { data, error, response } = await pending;
  if (response.ok && data !== undefined) return data;
  throw apiErrorOf(response, error);
}

/**
 * The `data` of a 2xx answer's envelope, or a `PullEventsApiError` for any other status. Works for
 * every operation: `await dataOf(client.POST('/v1/pull-endpoints/{id}/events/redrive', {...}))`.
 */
export async function dataOf<D>(pending: Answer<{ data: D }>): Promise<D> {
  return (await bodyOf(pending)).data;
}
