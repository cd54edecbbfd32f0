const INGEST_TOKEN = /\/pull\/[^/?#]+/g;

/** A URL or path with an ingest URL's secret token replaced, for logs and error messages. */
export function redactIngestToken(url: string): string {
  return url.replace(INGEST_TOKEN, '/pull/[redacted]');
}
