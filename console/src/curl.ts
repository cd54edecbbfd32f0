import type { components } from '../../src/client/index.js';

type PullEvent = components['schemas']['PullEvent'];

/** Quoted for a POSIX shell: single quotes, each ' inside written as '\''. */
function quote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Set by curl itself or meaningless for a new request. */
const SKIPPED = new Set(['host', 'content-length', 'connection', 'transfer-encoding', 'accept-encoding', 'keep-alive', 'expect']);

/**
 * The webhook as a curl command, to replay it against your own handler: its method, headers and
 * exact body, posted to $WEBHOOK_URL (a local handler by default). Signatures are copied as
 * received, so a handler that checks their age may refuse an old one.
 */
export function curlForReplay(event: Pick<PullEvent, 'headers' | 'query_string' | 'content_type'>, body: string): string {
  const target = `\${WEBHOOK_URL:-http://localhost:8080/webhooks}${event.query_string ? `?${event.query_string}` : ''}`;
  const headers = Object.entries(event.headers ?? {}).filter(([name]) => !SKIPPED.has(name.toLowerCase()));
  if (!headers.some(([name]) => name.toLowerCase() === 'content-type')) headers.unshift(['content-type', event.content_type]);
  return [`curl -X POST "${target}"`, ...headers.map(([name, value]) => `-H ${quote(`${name}: ${value}`)}`), `--data-binary ${quote(body)}`].join(' \\\n  ');
}

/** Reads the event from this service with the API key from the environment (never the console's own). */
export function curlForApi(origin: string, endpointId: string, eventId: string): string {
  return `curl -H "Authorization: Bearer $PULL_EVENTS_API_KEY" ${quote(`${origin}/v1/pull-endpoints/${endpointId}/events/${eventId}?preview=true`)}`;
}
