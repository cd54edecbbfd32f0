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
