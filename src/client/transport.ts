import type { paths } from '../../generated/openapi.js';
import { PullEventsConnectionError, PullEventsTimeoutError, parseRetryAfter } from './errors.js';

export interface TransportOptions {
  /** Retries after the first attempt; 0 turns retrying off. Default 2. */
  retries?: number;
  /** Bounds each attempt, from sending to the answer's last byte; 0 for none. Default 30 s. */
  timeoutMs?: number;
  /** The first retry waits about this long, each next one twice as long (with jitter). Default 500 ms. */
  retryBaseDelayMs?: number;
  /** The longest wait between attempts that the client picks itself. Default 8 s. */
  retryMaxDelayMs?: number;
  /** The longest `Retry-After` honoured; an answer asking for more is thrown at once. Default 60 s. */
  maxRetryAfterMs?: number;
}

/** What the client calls to send a request (the global `fetch` fits). */
export type Fetch = (input: Request, init?: RequestInit) => Promise<Response>;

export const TRANSPORT_DEFAULTS: Required<TransportOptions> = {
  retries: 2,
  timeoutMs: 30_000,
  retryBaseDelayMs: 500,
  retryMaxDelayMs: 8000,
  maxRetryAfterMs: 60_000,
};

type Method = 'get' | 'put' | 'post' | 'delete' | 'options' | 'head' | 'patch' | 'trace';
type MethodsOf<P extends keyof paths> = {
  [M in Method & keyof paths[P]]: paths[P][M] extends { responses: unknown } ? M : never;
}[Method & keyof paths[P]];

/**
 * The operations besides GETs that can be sent again when an attempt's fate is unknown (a 502,
 * 503, 504, a lost connection, a timeout): doing them twice leaves what doing them once does, and
 * their answers say so per item (`already_deleted`, `already_acked`). Left out on purpose: create
 * endpoint and rotate-token (each call mints a new one), receive (a lost answer's leases would
 * hide its events until they expire), delete-all, redrive and replay (each call moves up to
 * `limit` more events, so a repeat can do more than was asked), and ingest.
 */
const REPEATABLE: { [P in keyof paths]?: MethodsOf<P>[] } = {
  '/v1/pull-endpoints/{id}': ['patch', 'delete'],
  '/v1/pull-endpoints/{id}/pause': ['post'],
  '/v1/pull-endpoints/{id}/resume': ['post'],
  '/v1/pull-endpoints/{id}/events/{event_id}': ['delete'],
  '/v1/pull-endpoints/{id}/events/ack': ['post'],
  '/v1/pull-endpoints/{id}/events/delete-batch': ['post'],
  '/v1/pull-endpoints/{id}/events/leases/ack': ['post'],
  '/v1/pull-endpoints/{id}/events/leases/extend': ['post'],
  '/v1/pull-endpoints/{id}/events/leases/release': ['post'],
};

// Matched on the end of the URL's path, so that a base URL with a path of its own still matches.
const repeatable = Object.entries(REPEATABLE).flatMap(([template, methods]) =>
  (methods ?? []).map((method) => ({ method: method.toUpperCase(), path: new RegExp(`${template.replace(/\{[^}]+\}/g, '[^/]+')}$`) })),
);

function isRepeatable(request: Request): boolean {
  if (request.method === 'GET' || request.method === 'HEAD') return true;
  const { pathname } = new URL(request.url);
  return repeatable.some(({ method, path }) => method === request.method && path.test(pathname));
}

/** The wait before retry number `attempt + 1`: exponential, with half of it random (jitter). */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** attempt) * (0.5 + Math.random() / 2);
}

/** Resolves after `ms`, or rejects with the signal's reason once it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** One attempt, the answer read whole, so that `timeoutMs` covers its body too. */
async function attempt(fetch: Fetch, request: Request, timeoutMs: number): Promise<Response> {
  const caller = request.signal;
  if (caller.aborted) throw caller.reason;
  const controller = new AbortController();
  const onAbort = () => controller.abort(caller.reason);
  caller.addEventListener('abort', onAbort, { once: true });
  const timer = timeoutMs > 0
    ? setTimeout(() => controller.abort(new PullEventsTimeoutError(`${request.method} ${request.url}: no answer within ${timeoutMs} ms`, timeoutMs)), timeoutMs)
    : undefined;
  try {
    const response = await fetch(new Request(request.clone(), { signal: controller.signal }));
    const body = await response.arrayBuffer();
    const { status, statusText, headers } = response;
    return new Response(body.byteLength > 0 ? body : null, { status, statusText, headers });
  } catch (error) {
    if (caller.aborted) throw caller.reason;
    if (controller.signal.aborted) throw controller.signal.reason;
    const reason = error instanceof Error ? error.message : String(error);
    throw new PullEventsConnectionError(`${request.method} ${request.url}: ${reason}`, { cause: error });
  } finally {
    clearTimeout(timer);
    caller.removeEventListener('abort', onAbort);
  }
}

/**
 * A `fetch` for openapi-fetch that times attempts out and retries: a 429 always (the API refuses
 * it before doing anything), after its `Retry-After`; a 502, 503 or 504, a lost connection or a
 * timeout only for repeatable operations, after `Retry-After` or a jittered exponential backoff.
 * Failures without an answer become `PullEventsConnectionError` / `PullEventsTimeoutError`.
 */
export function createTransport(fetch: Fetch, options: TransportOptions = {}): Fetch {
  // An option given as undefined keeps its default.
  const settings = { ...TRANSPORT_DEFAULTS };
  for (const key of Object.keys(settings) as Array<keyof TransportOptions>) settings[key] = options[key] ?? settings[key];
  return async (request) => {
    const safe = isRepeatable(request);
    for (let attempts = 0; ; attempts++) {
      let outcome: Response | PullEventsConnectionError;
      try {
        outcome = await attempt(fetch, request, settings.timeoutMs);
      } catch (error) {
        if (!(error instanceof PullEventsConnectionError)) throw error;
        outcome = error;
      }
      const delay = attempts < settings.retries ? retryDelay(outcome, safe, attempts, settings) : undefined;
      if (delay === undefined) {
        if (outcome instanceof Response) return outcome;
        throw outcome;
      }
      await sleep(delay, request.signal);
    }
  };
}

function retryDelay(outcome: Response | Error, safe: boolean, attempts: number, settings: Required<TransportOptions>): number | undefined {
  const backoff = () => backoffMs(attempts, settings.retryBaseDelayMs, settings.retryMaxDelayMs);
  if (!(outcome instanceof Response)) return safe ? backoff() : undefined;
  const { status } = outcome;
  if (status !== 429 && !(safe && (status === 502 || status === 503 || status === 504))) return undefined;
  const retryAfter = parseRetryAfter(outcome.headers.get('retry-after'));
  if (retryAfter === undefined) return backoff();
  return retryAfter <= settings.maxRetryAfterMs ? retryAfter : undefined;
}
