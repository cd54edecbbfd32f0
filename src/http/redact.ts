/** Where an ingest URL (or a mistyped one, `/v1/pull/<token>`) starts its secret part. */
const INGEST_PATH = /\/pull(?=[/?#]|$)/;

/**
 * A URL or path with an ingest URL's secret token replaced, for logs and error messages. Its
 * query string goes too: a static token may be sent in it.
 */
export function redactIngestToken(url: string): string {
  const match = INGEST_PATH.exec(url);
  if (!match) return url;
  const start = match.index + '/pull'.length;
  const rest = url.slice(start);
  const queryAt = rest.indexOf('?');
  const path = queryAt >= 0 ? rest.slice(0, queryAt) : rest;
  return `${url.slice(0, start)}${path.replace(/^\/[^/]+/, '/[redacted]')}${queryAt >= 0 ? '?[redacted]' : ''}`;
}

interface SerializedRequest {
  url?: string;
  query?: unknown;
  params?: unknown;
  headers?: Record<string, unknown>;
}

/**
 * The request headers a log line keeps. Any other header may carry a secret the service cannot
 * know of (an endpoint takes its static token in a header it names; a client may send its key in
 * the wrong one), and none of them is worth its bytes in every line.
 */
const LOGGED_HEADERS = ['host', 'user-agent', 'content-type', 'content-length', 'content-encoding', 'accept', 'x-forwarded-for'];

/**
 * pino-http's request serializer: a few safe headers, and a request to an ingest URL (or what
 * looks like one) without its token, its query and its parameters.
 */
export function redactedRequest(req: SerializedRequest): SerializedRequest {
  const headers = Object.fromEntries(LOGGED_HEADERS.filter((name) => req.headers?.[name] !== undefined).map((name) => [name, req.headers![name]]));
  if (!req.url || !INGEST_PATH.test(req.url)) return { ...req, headers };
  return { ...req, url: redactIngestToken(req.url), query: '[redacted]', params: '[redacted]', headers };
}
