import { PullEventsApiError, PullEventsError, createPullEventsClient, dataOf, type PullEventsClient } from '../../src/client/index.js';
import { apiErrorOf } from '../../src/client/errors.js';

export type { components } from '../../src/client/index.js';
export { bodyOf } from '../../src/client/errors.js';
export { dataOf };

/** Resolves when the answer is a 2xx (a 204 has no body), else throws the API's error. */
export async function expectOk(pending: Promise<{ error?: unknown; response: Response }>): Promise<Response> {
  const { error, response } = await pending;
  if (!response.ok) throw apiErrorOf(response, error);
  return response;
}

/**
 * The API key lives in sessionStorage only: it goes with the tab, never into a cookie, the URL or
 * localStorage, and every call sends it as a Bearer token through the typed client.
 */
const KEY = 'pull-events-api-key';

export function storedKey(): string | null {
  return sessionStorage.getItem(KEY);
}

export function forgetKey(): void {
  sessionStorage.removeItem(KEY);
  current = undefined;
}

let current: { key: string; client: PullEventsClient } | undefined;

/** The client for `key`: the same openapi-fetch client over generated/ that consumers use. */
export function clientFor(key: string): PullEventsClient {
  // One retry for a lost connection or a 503; a person is waiting.
  return createPullEventsClient({ baseUrl: location.origin, apiKey: key, retries: 1, timeoutMs: 20_000 });
}

/** Keeps `key` for this tab once the service accepted it. */
export function signIn(key: string, client: PullEventsClient): void {
  sessionStorage.setItem(KEY, key);
  current = { key, client };
}

/** The signed-in client; throws when signed out (the router shows the sign-in form first). */
export function api(): PullEventsClient {
  const key = storedKey();
  if (!key) throw new Error('signed out');
  if (current?.key !== key) current = { key, client: clientFor(key) };
  return current.client;
}

/** One endpoint with its counts by status (the list answers no counts). */
export async function readEndpoint(id: string, signal: AbortSignal | null = null) {
  return dataOf(api().GET('/v1/pull-endpoints/{id}', { params: { path: { id } }, signal }));
}

/** What went wrong, in words a person can act on, with the request id to quote. */
export function describeError(error: unknown): string {
  if (error instanceof PullEventsApiError) {
    const id = error.requestId ? ` (request ${error.requestId})` : '';
    return `${error.message}${id}`;
  }
  if (error instanceof PullEventsError) return `${error.message}. Is the service running?`;
  return error instanceof Error ? error.message : String(error);
}

export function isUnauthorized(error: unknown): boolean {
  return error instanceof PullEventsApiError && error.status === 401;
}
