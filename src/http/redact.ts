const INGEST_URL = /\/pull\/[^/?#]+([^?#]*)(\?[^#]*)?/g;

/**
 * A URL or path with an ingest URL's secret token replaced, for logs and error messages. Its
 * query string goes too: a static token may be sent in it.
 */
export function redactIngestToken(url: string): string {
  return url.replace(INGEST_URL, (_match, rest: string, query: string | undefined) => `/pull/[redacted]${rest}${query ? '?[redacted]' : ''}`);
}

interface SerializedRequest {
  url?: string;
  query?: unknown;
  params?: unknown;
  headers?: Record<string, unknown>;
}

/** Of a webhook's headers, the ones that never carry a secret. */
const SAFE_INGEST_HEADERS = ['content-type', 'content-length', 'content-encoding', 'user-agent', 'x-forwarded-for'];

/**
 * pino-http's request serializer. An ingest request is logged without its token, its query and
 * all but a few headers: an endpoint may take a static token in any header or parameter it names.
 */
export function redactedRequest(req: SerializedRequest): SerializedRequest {
  if (!req.url?.startsWith('/pull/')) return req;
  const headers = Object.fromEntries(SAFE_INGEST_HEADERS.filter((name) => req.headers?.[name] !== undefined).map((name) => [name, req.headers![name]]));
  return { ...req, url: redactIngestToken(req.url), query: '[redacted]', params: '[redacted]', headers };
}
