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
}

/** pino-http's request serializer: an ingest request is logged without its token or its query. */
export function redactedRequest(req: SerializedRequest): SerializedRequest {
  if (!req.url?.startsWith('/pull/')) return req;
  return { ...req, url: redactIngestToken(req.url), query: '[redacted]', params: '[redacted]' };
}
